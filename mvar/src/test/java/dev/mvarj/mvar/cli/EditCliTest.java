package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.mvar.train.Charts;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.mvarj.mvar.cli.CliFixture.mvarj;
import static dev.mvarj.mvar.cli.CliFixture.train;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code mvarj edit} (docs/cli.md#edit-and-serve): what it writes, that it is seeded, and the inputs it refuses. */
class EditCliTest {

    static Path dir, image, checkpoint;

    @BeforeAll
    static void trainATinyModel() throws IOException {
        dir = Files.createTempDirectory("mvarj-edit");
        train(dir.resolve("run"), "--steps", "2").ok();
        checkpoint = dir.resolve("run").resolve("checkpoint.safetensors");
        image = dir.resolve("in.png");
        Charts.image(image, Shapes.generate(1, 2).pixels(), 3, 32, 32);
    }

    static CliFixture.Run edit(Path out, String... more) {
        String[] base = {"edit", "--checkpoint", checkpoint.toString(), "--image", image.toString(), "--out",
                out.toString(), "--samples", "2", "--seed", "3"};
        return mvarj(CliFixture.override(base, more));
    }

    static Path picture(Path file, int width, int height, int white) throws IOException {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, x < white ? 0xFFFFFF : 0x000000);   // the first `white` columns white
            }
        }
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    @Test
    void editWritesTheEditsTheStripOfScalesAndTheInputsAndIsSeeded(@TempDir Path tmp) throws Exception {
        String said = edit(tmp.resolve("a"), "--box", "8,8,16,16", "--class", "1").ok().out();
        assertThat(said).contains("2 edits").contains("256 of 1024 pixels regenerated")
                .contains("kept tokens per scale 0/1, 0/4, 0/9, 12/16, 20/36, 48/64");
        for (String f : new String[]{"input.png", "mask.png", "reconstruction.png", "edited-0.png", "edited-1.png",
                "edit.png"}) {
            assertThat(tmp.resolve("a").resolve(f)).as(f).isRegularFile();
        }
        BufferedImage strip = ImageIO.read(tmp.resolve("a/edit.png").toFile());
        assertThat(strip.getWidth()).as("8 columns of 96 px: input, tokenizer, six scales").isGreaterThan(8 * 96);
        BufferedImage mask = ImageIO.read(tmp.resolve("a/mask.png").toFile());
        assertThat(mask.getRGB(8, 8) & 0xFFFFFF).isEqualTo(0xFFFFFF);
        assertThat(mask.getRGB(7, 8) & 0xFFFFFF).isZero();

        edit(tmp.resolve("b"), "--box", "8,8,16,16", "--class", "1").ok();
        edit(tmp.resolve("c"), "--box", "8,8,16,16", "--class", "1", "--seed", "4").ok();
        byte[] a = Files.readAllBytes(tmp.resolve("a/edited-0.png"));
        assertThat(Files.readAllBytes(tmp.resolve("b/edited-0.png"))).as("the same seed").isEqualTo(a);
        assertThat(Files.readAllBytes(tmp.resolve("c/edited-0.png"))).as("another seed").isNotEqualTo(a);

        Path mask8 = picture(tmp.resolve("m.png"), 32, 32, 8);                   // out-paint all but the left 8 columns
        assertThat(edit(tmp.resolve("d"), "--mask", mask8.toString(), "--invert", "--rule", "half").ok().out())
                .contains("768 of 1024 pixels regenerated").contains("no class");
    }

    @Test
    void badInputIsRefusedNamingTheFileTheSizeOrTheValue(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path small = picture(tmp.resolve("small.png"), 28, 28, 0);
        edit(out, "--image", small.toString(), "--box", "0,0,4,4").refused(Main.USAGE,
                "--image " + small + " is 28×28 pixels; the tokenizer takes 32×32 images");
        Path mask = picture(tmp.resolve("mask.png"), 16, 16, 4);
        edit(out, "--mask", mask.toString()).refused(Main.USAGE, "--mask " + mask + " is 16×16 pixels; it must"
                + " match the image, 32×32");
        edit(out, "--box", "20,20,16,16").refused(Main.USAGE, "--box 20,20,16,16 is not inside the 32×32 image");
        edit(out, "--box", "1,2,3").refused(Main.USAGE, "--box must be x,y,w,h");
        edit(out, "--box", "0,0,4,4", "--class", "" + Shapes.CLASSES.size()).refused(Main.USAGE,
                "--class must be in [0, " + Shapes.CLASSES.size() + "), got " + Shapes.CLASSES.size());
        edit(out, "--box", "0,0,4,4", "--mask", mask.toString()).refused(Main.USAGE, "exactly one of --mask and --box");
        edit(out).refused(Main.USAGE, "exactly one of --mask and --box");
        Path text = Files.writeString(tmp.resolve("note.png"), "not a picture");
        edit(out, "--image", text.toString(), "--box", "0,0,4,4").refused(Main.USAGE, "not a picture");
        edit(out, "--box", "0,0,4,4", "--rule", "most").refused(Main.USAGE, "--rule must be one of any, half, all");
        edit(out, "--eval", "10").refused(Main.USAGE, "--eval measures on the test split");
        edit(out, "--image", tmp.resolve("missing.png").toString(), "--box", "0,0,4,4").refused(Main.USAGE,
                "missing.png: no such file");
    }

    @Test
    void theCentralHalfIsHalfThePicturesArea() {
        int[] fashion = EditEval.centralBox(32, "fashion-mnist"), shapes = EditEval.centralBox(32, "shapes");
        assertThat(fashion).containsExactly(6, 6, 20, 20);                    // 400 of 784 pixels of the picture
        assertThat(shapes).containsExactly(4, 4, 23, 23);                     // 529 of 1024
        for (int i = 0; i < 30; i++) {
            int label = i % 10, target = EditEval.newClass(i, label, 10);
            assertThat(target).isNotEqualTo(label).isBetween(0, 9);
        }
        double[] d = EditEval.outside(new float[]{1, 1, 0, 0}, new float[]{0, 1, 0, 1}, new boolean[]{false, true});
        assertThat(d).containsExactly(0.5, 0.5);           // pixel 0 of both channels: |1 − 0| and |0 − 0|
    }
}
