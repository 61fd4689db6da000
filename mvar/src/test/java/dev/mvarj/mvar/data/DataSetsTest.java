package dev.mvarj.mvar.data;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DataSetsTest {

    @TempDir
    Path dir;

    /** Writes a gzip IDX file: magic, sizes, data. */
    private static void idx(Path file, int magic, int[] sizes, byte[] data, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(magic);
            for (int s : sizes) {
                out.writeInt(s);
            }
            out.write(data);
        }
        if (gzip) {
            try (GZIPOutputStream gz = new GZIPOutputStream(Files.newOutputStream(file))) {
                gz.write(bytes.toByteArray());
            }
        } else {
            Files.write(file, bytes.toByteArray());
        }
    }

    private void writeSplit(FashionMnist.Split split, int n) throws IOException {
        byte[] img = new byte[n * 28 * 28], lbl = new byte[n];
        for (int i = 0; i < n; i++) {
            lbl[i] = (byte) (i % 10);
            img[i * 784 + 28 * 5 + 7] = (byte) 255; // one white pixel at (5, 7)
        }
        idx(FashionMnist.imagesFile(dir, split), 0x803, new int[]{n, 28, 28}, img, true);
        idx(FashionMnist.labelsFile(dir, split), 0x801, new int[]{n}, lbl, true);
    }

    @Test
    void readsIdxFilesPadsTo32AndScalesToMinusOneOne() throws IOException {
        writeSplit(FashionMnist.Split.TRAIN, 12);
        writeSplit(FashionMnist.Split.TEST, 3);
        assertThat(FashionMnist.available(dir)).isTrue();
        ImageDataset ds = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
        assertThat(ds.size()).isEqualTo(12);
        assertThat(ds.height()).isEqualTo(32);
        assertThat(ds.labels()[11]).isEqualTo(1);
        float[] first = Arrays.copyOf(ds.pixels(), 32 * 32);
        assertThat(first[(5 + 2) * 32 + 7 + 2]).isEqualTo(1f);
        assertThat(first[0]).isEqualTo(-1f);
    }

    @Test
    void theInstalledDataSetLoadsWhenPresent() throws IOException {
        Path debian = Path.of(FashionMnist.DEBIAN_DIR);
        Assumptions.assumeTrue(FashionMnist.available(debian), "dataset-fashion-mnist is not installed");
        ImageDataset test = FashionMnist.load(debian, FashionMnist.Split.TEST);
        assertThat(test.size()).isEqualTo(10_000);
        int[] counts = new int[10];
        for (int l : test.labels()) {
            counts[l]++;
        }
        assertThat(counts).containsOnly(1000);
    }

    @Test
    void aMissingFileNamesTheFileAndTheFix() {
        assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TEST)).isInstanceOf(DataException.class)
                .hasMessageContaining("t10k-images-idx3-ubyte.gz").hasMessageContaining("dataset-fashion-mnist");
    }

    @Test
    void corruptFilesNameTheFileAndTheProblem() throws IOException {
        writeSplit(FashionMnist.Split.TEST, 3);
        Path images = FashionMnist.imagesFile(dir, FashionMnist.Split.TEST);
        Path labels = FashionMnist.labelsFile(dir, FashionMnist.Split.TEST);

        idx(images, 0x801, new int[]{3, 28, 28}, new byte[3 * 784], true);
        assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TEST)).hasMessageContaining(images.toString())
                .hasMessageContaining("magic");

        idx(images, 0x803, new int[]{3, 28, 28}, new byte[2 * 784], true);
        assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TEST)).hasMessageContaining("truncated");

        idx(images, 0x803, new int[]{3, 28, 28}, new byte[3 * 784], false);
        assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TEST)).hasMessageContaining("gzip");

        idx(images, 0x803, new int[]{3, 27, 28}, new byte[3 * 27 * 28], true);
        assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TEST)).hasMessageContaining("expected 28");

        idx(images, 0x803, new int[]{2, 28, 28}, new byte[2 * 784], true);
        assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TEST)).hasMessageContaining("2 images")
                .hasMessageContaining("3 labels");

        idx(images, 0x803, new int[]{3, 28, 28}, new byte[3 * 784], true);
        idx(labels, 0x801, new int[]{3}, new byte[]{1, 12, 3}, true);
        assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TEST)).hasMessageContaining(labels.toString())
                .hasMessageContaining("label 12");
    }

    @Test
    void shapesAreDeterministicAndCoverEveryClass() {
        ImageDataset a = Shapes.generate(200, 7), b = Shapes.generate(200, 7), c = Shapes.generate(200, 8);
        assertThat(a.pixels()).containsExactly(b.pixels());
        assertThat(a.pixels()).isNotEqualTo(c.pixels());
        assertThat(Arrays.stream(a.labels()).distinct().count()).isEqualTo(10);
        for (float v : a.pixels()) {
            assertThat(v).isBetween(-1f, 1f);
        }
        // image i depends only on (seed, i)
        assertThat(Arrays.copyOf(Shapes.generate(5, 7).pixels(), 3 * 32 * 32))
                .containsExactly(Arrays.copyOf(a.pixels(), 3 * 32 * 32));
    }

    @Test
    void loaderIsSeededAndResumesFromItsPosition() {
        ImageDataset ds = Shapes.generate(50, 1);
        DataLoader a = new DataLoader(ds, 8, true, true, 42), b = new DataLoader(ds, 8, true, true, 42);
        for (int i = 0; i < 9; i++) { // crosses an epoch boundary (6 batches per epoch)
            DataLoader.Batch x = a.next(), y = b.next();
            assertThat(x.images().toFloatArray()).containsExactly(y.images().toFloatArray());
        }
        long pos = a.position();
        DataLoader.Batch expected = a.next();
        DataLoader resumed = new DataLoader(ds, 8, true, true, 42);
        resumed.seek(pos);
        DataLoader.Batch got = resumed.next();
        assertThat(got.labels().toIntArray()).containsExactly(expected.labels().toIntArray());
        assertThat(got.images().toFloatArray()).containsExactly(expected.images().toFloatArray());
        assertThat(got.epoch()).isEqualTo(1);
    }

    @Test
    void flipMirrorsImagesLeftRight() {
        ImageDataset ds = Shapes.generate(4, 3);
        float[] plain = ds.images(new int[]{2}, new boolean[]{false}).toFloatArray();
        float[] flipped = ds.images(new int[]{2}, new boolean[]{true}).toFloatArray();
        assertThat(flipped[5 * 32 + 31]).isEqualTo(plain[5 * 32]);
        assertThat(flipped[2 * 1024 + 9 * 32 + 3]).isEqualTo(plain[2 * 1024 + 9 * 32 + 28]);
    }
}
