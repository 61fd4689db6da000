package dev.mvarj.mvar.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Fashion-MNIST (Xiao et al. 2017) from its IDX {@code .gz} files: 28×28 grey images padded to 32×32 with the
 * background value and scaled to [−1, 1]. Debian's {@code dataset-fashion-mnist} installs the files under
 * {@value #DEBIAN_DIR}; {@code --data DIR} points elsewhere.
 */
public final class FashionMnist {

    public static final String DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    private static final int SIDE = 28, PADDED = 32;

    public enum Split {
        TRAIN("train"), TEST("t10k");

        final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnist() {
    }

    /** True when the four files are present in {@code dir}. */
    public static boolean available(Path dir) {
        for (Split s : Split.values()) {
            if (!Files.isRegularFile(imagesFile(dir, s)) || !Files.isRegularFile(labelsFile(dir, s))) {
                return false;
            }
        }
        return true;
    }

    static Path imagesFile(Path dir, Split split) {
        return dir.resolve(split.prefix + "-images-idx3-ubyte.gz");
    }

    static Path labelsFile(Path dir, Split split) {
        return dir.resolve(split.prefix + "-labels-idx1-ubyte.gz");
    }

    /** Loads one split from {@code dir}. */
    public static ImageDataset load(Path dir, Split split) throws IOException {
        Path imgFile = imagesFile(dir, split), lblFile = labelsFile(dir, split);
        byte[] images = readIdx(imgFile, 0x803, new int[]{-1, SIDE, SIDE});
        byte[] labels = readIdx(lblFile, 0x801, new int[]{-1});
        int n = labels.length;
        if (images.length != n * SIDE * SIDE) {
            throw new DataException(imgFile, "holds " + images.length / (SIDE * SIDE) + " images but " + lblFile.getFileName()
                    + " holds " + n + " labels");
        }
        int pad = (PADDED - SIDE) / 2;
        float[] px = new float[n * PADDED * PADDED];
        java.util.Arrays.fill(px, -1f);
        int[] lbl = new int[n];
        for (int i = 0; i < n; i++) {
            lbl[i] = labels[i] & 0xFF;
            if (lbl[i] >= CLASSES.size()) {
                throw new DataException(lblFile, "label " + lbl[i] + " of item " + i + " is not a class (0-9)");
            }
            for (int r = 0; r < SIDE; r++) {
                for (int c = 0; c < SIDE; c++) {
                    int v = images[(i * SIDE + r) * SIDE + c] & 0xFF;
                    px[(i * PADDED + r + pad) * PADDED + c + pad] = v / 127.5f - 1f;
                }
            }
        }
        return new ImageDataset("fashion-mnist/" + split.name().toLowerCase(), px, lbl, 1, PADDED, PADDED, CLASSES);
    }

    /**
     * Reads an IDX file (gzip-compressed): big-endian magic (0x0000 08 = unsigned byte, then the rank), the sizes,
     * then the data. {@code dims} gives the expected sizes after the first (−1 = any).
     */
    static byte[] readIdx(Path file, int magic, int[] dims) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
            int m = in.readInt();
            if (m != magic) {
                throw new DataException(file, String.format("bad IDX magic 0x%08x (expected 0x%08x)", m, magic));
            }
            long total = 1;
            for (int d = 0; d < dims.length; d++) {
                int size = in.readInt();
                if (size < 0 || dims[d] >= 0 && size != dims[d]) {
                    throw new DataException(file, "dimension " + d + " is " + size + (dims[d] >= 0 ? ", expected " + dims[d] : ""));
                }
                total *= size;
            }
            if (total > 1L << 30) {
                throw new DataException(file, "claims " + total + " bytes of data, more than a data set of this kind holds");
            }
            byte[] data = new byte[(int) total];
            in.readFully(data);
            return data;
        } catch (NoSuchFileException e) {
            throw new DataException(file, "not found (install Debian's dataset-fashion-mnist, or pass --data DIR)");
        } catch (EOFException e) {
            throw new DataException(file, "truncated: the file ends before the data the header announces");
        } catch (ZipException e) {
            throw new DataException(file, "not a valid gzip file (" + e.getMessage() + ")");
        }
    }
}
