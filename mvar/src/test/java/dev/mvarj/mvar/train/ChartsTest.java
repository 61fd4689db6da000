package dev.mvarj.mvar.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Image grids: pixels land where they should, and labels widen the picture by a margin that holds text. */
class ChartsTest {

    @TempDir
    Path dir;

    @Test
    void aGridPlacesEveryImageAndLabelsGetTheirOwnMargins() throws IOException {
        int n = 6, cols = 3, side = 4;
        float[] px = new float[n * 3 * side * side];
        for (int i = 0; i < n; i++) {
            Arrays.fill(px, i * 3 * side * side, (i + 1) * 3 * side * side, i / (n - 1f) * 2 - 1);   // grey i/5
        }
        Path plain = dir.resolve("plain.png"), labelled = dir.resolve("labelled.png");
        Charts.imageGrid(plain, px, n, 3, side, side, cols, 2);
        Charts.imageGrid(labelled, px, n, 3, side, side, cols, 2, List.of("first row", "second row"),
                List.of("a", "b", "c"));
        BufferedImage a = ImageIO.read(plain.toFile()), b = ImageIO.read(labelled.toFile());
        int cell = side * 2 + 2;
        assertThat(a.getWidth()).isEqualTo(cols * cell + 2);
        assertThat(a.getHeight()).isEqualTo(2 * cell + 2);
        for (int i = 0; i < n; i++) {                            // the centre of image i has its grey level
            int x = 2 + (i % cols) * cell + side, y = 2 + (i / cols) * cell + side;
            int expected = Math.round(i / (n - 1f) * 255);
            assertThat(a.getRGB(x, y) & 0xff).isCloseTo(expected, org.assertj.core.data.Offset.offset(1));
        }
        int left = b.getWidth() - a.getWidth(), top = b.getHeight() - a.getHeight();
        assertThat(left).isGreaterThan(20);
        assertThat(top).isEqualTo(20);
        assertThat(b.getRGB(left + 2 + side, top + 2 + side)).isEqualTo(a.getRGB(2 + side, 2 + side));
        assertThat(lightPixels(b, 0, top, left, b.getHeight())).as("row label text").isGreaterThan(10);
        assertThat(lightPixels(b, left, 0, b.getWidth(), top)).as("column label text").isGreaterThan(3);
        assertThat(lightPixels(a, 0, 0, 2, a.getHeight())).isZero();
    }

    private static int lightPixels(BufferedImage img, int x0, int y0, int x1, int y1) {
        int count = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                count += (img.getRGB(x, y) & 0xff) > 0x90 ? 1 : 0;
            }
        }
        return count;
    }
}
