package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Edit;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.mvar.vq.VqVaeConfig;
import dev.mvarj.tensor.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Zero-shot editing for {@code edit} and the web page of {@code serve} (docs/editing.md): the inputs read and checked
 * the same way for both (an image of the tokenizer's size, a mask PNG or a box of that size, a class or none), the
 * sampler's edit run on them, and the pictures of the result.
 */
final class Editing {

    /** A mask pixel whose grey level (the mean of R, G and B, 0–255) is at least this is regenerated. */
    static final int MASK_THRESHOLD = 128;

    private Editing() {
    }

    /** The PNG at {@code file}, read for the tokenizer by {@link #readImage(Checks, String, byte[], VqVaeConfig)}. */
    static float[] readImage(Checks check, String what, Path file, VqVaeConfig config) {
        check.inputFile(what, file);
        return readImage(check, what + " " + file, bytes(file), config);
    }

    /**
     * An image for the tokenizer: {@code png} must be an imageSize × imageSize picture; a grey tokenizer reads the mean
     * of R, G and B, a colour one the three channels. Returns (C, H, W) in [−1, 1].
     */
    static float[] readImage(Checks check, String what, byte[] png, VqVaeConfig config) {
        BufferedImage img = decode(check, what, png);
        int size = config.imageSize(), c = config.imageChannels();
        if (img.getWidth() != size || img.getHeight() != size) {
            throw check.error(what + " is " + img.getWidth() + "×" + img.getHeight() + " pixels; the tokenizer takes "
                    + size + "×" + size + " images");
        }
        float[] px = new float[c * size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = img.getRGB(x, y), r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
                if (c == 1) {
                    px[y * size + x] = (r + g + b) / 3f / 127.5f - 1f;
                } else {
                    px[y * size + x] = r / 127.5f - 1f;
                    px[(size + y) * size + x] = g / 127.5f - 1f;
                    px[(2 * size + y) * size + x] = b / 127.5f - 1f;
                }
            }
        }
        return px;
    }

    /** The mask PNG at {@code file}, read by {@link #readMask(Checks, String, byte[], int)}. */
    static boolean[] readMask(Checks check, String what, Path file, int size) {
        check.inputFile(what, file);
        return readMask(check, what + " " + file, bytes(file), size);
    }

    /**
     * The region to regenerate from a mask picture of size × size (the image's size): white regenerates, black keeps;
     * a grey pixel regenerates from {@value #MASK_THRESHOLD} on (the mean of R, G and B). Returns (H, W) row-major.
     */
    static boolean[] readMask(Checks check, String what, byte[] png, int size) {
        BufferedImage img = decode(check, what, png);
        if (img.getWidth() != size || img.getHeight() != size) {
            throw check.error(what + " is " + img.getWidth() + "×" + img.getHeight() + " pixels; it must match the"
                    + " image, " + size + "×" + size);
        }
        boolean[] m = new boolean[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = img.getRGB(x, y);
                m[y * size + x] = ((rgb >> 16 & 0xFF) + (rgb >> 8 & 0xFF) + (rgb & 0xFF)) / 3 >= MASK_THRESHOLD;
            }
        }
        return m;
    }

    /**
     * The region to regenerate from a box "x,y,w,h" in pixels (x, y its top-left corner) that must lie inside the
     * size × size image. Returns (H, W) row-major.
     */
    static boolean[] box(Checks check, String what, String spec, int size) {
        String[] parts = spec.split(",", -1);
        int[] v = new int[4];
        try {
            if (parts.length != 4) {
                throw new NumberFormatException();
            }
            for (int i = 0; i < 4; i++) {
                v[i] = Integer.parseInt(parts[i].trim());
            }
        } catch (NumberFormatException e) {
            throw check.error(what + " must be x,y,w,h (four integers, pixels), got '" + spec + "'");
        }
        int x = v[0], y = v[1], w = v[2], h = v[3];
        if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > size || y + h > size) {
            throw check.error(what + " " + spec + " is not inside the " + size + "×" + size + " image (need x, y ≥ 0,"
                    + " w, h ≥ 1, x + w ≤ " + size + ", y + h ≤ " + size + ")");
        }
        return rectangle(size, x, y, w, h);
    }

    /** The rectangle [x, x + w) × [y, y + h) of a size × size image, (H, W) row-major. */
    static boolean[] rectangle(int size, int x, int y, int w, int h) {
        boolean[] m = new boolean[size * size];
        for (int r = y; r < y + h; r++) {
            Arrays.fill(m, r * size + x, r * size + x + w, true);
        }
        return m;
    }

    /** The mask rule named {@code value}: any, half or all (docs/editing.md#the-mask-rule). */
    static Edit.Rule rule(Checks check, String what, String value) {
        return Edit.Rule.valueOf(check.oneOf(what, value, "any", "half", "all").toUpperCase(java.util.Locale.ROOT));
    }

    /** The label to edit with: {@code cls} in [0, classes), or the null class {@code classes} when none is given. */
    static int label(Checks check, String what, Integer cls, int classes) {
        if (cls == null) {
            return classes;
        }
        check.range(what, cls, 0, classes, true);
        return cls;
    }

    /**
     * Edits {@code images} (B, C, H, W) in [−1, 1]: encodes them, regenerates where {@code regenerate} (B, H, W) says
     * so ({@code rule} resampling it to every scale) for the classes {@code labels} (B; the null class for none) — samples first .. first + B − 1 of the seed —
     * and tells {@code listener} (may be null) of every scale.
     */
    static Sampler.Result run(NextScaleTransformer model, VqVae vae, AttentionPattern pattern, Tensor images,
                              boolean[] regenerate, Edit.Rule rule, int[] labels, Sampler.Settings st, long first,
                              Sampler.ScaleListener listener) {
        Edit edit = Edit.of(vae.encode(images), regenerate, images.size(2), images.size(3), model.cfg.schedule(), rule);
        return Sampler.sample(model, vae.quantize, pattern, labels, st, first, edit, listener);
    }

    /** "0/1, 0/4, 0/9, 4/16, 20/36, 48/64": the tokens of each scale that keep the image's. */
    static String kept(boolean[] regenerate, Edit.Rule rule, int size, ScaleSchedule schedule) {
        List<String> parts = new ArrayList<>();
        for (int s = 0; s < schedule.count(); s++) {
            int k = 0;
            for (boolean keep : Edit.keepMap(regenerate, 1, size, size, schedule.side(s), rule)) {
                k += keep ? 1 : 0;
            }
            parts.add(k + "/" + schedule.tokens(s));
        }
        return String.join(", ", parts);
    }

    /** "400 of 1024 pixels regenerated". */
    static String describe(boolean[] regenerate) {
        int n = 0;
        for (boolean r : regenerate) {
            n += r ? 1 : 0;
        }
        return n + " of " + regenerate.length + " pixels regenerated";
    }

    /** {@code image} (C, H, W) repeated {@code n} times: (n, C, H, W). */
    static Tensor repeat(float[] image, int n, int channels, int size) {
        float[] all = new float[n * image.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(image, 0, all, i * image.length, image.length);
        }
        return Tensor.of(all, n, channels, size, size);
    }

    /** {@code image} (C, H, W) with the pixels of {@code regenerate} (H, W) set to grey (0): how a mask is shown. */
    static float[] greyed(float[] image, boolean[] regenerate) {
        float[] out = image.clone();
        int hw = regenerate.length;
        for (int i = 0; i < out.length; i++) {
            if (regenerate[i % hw]) {
                out[i] = 0f;
            }
        }
        return out;
    }

    /** {@code regenerate} (H, W) as a grey picture in [−1, 1]: 1 (white) regenerates, −1 (black) keeps. */
    static float[] maskPicture(boolean[] regenerate) {
        float[] out = new float[regenerate.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = regenerate[i] ? 1f : -1f;
        }
        return out;
    }

    /**
     * The files of {@code edit} under {@code dir}: input.png, mask.png (white = regenerated), reconstruction.png,
     * edited-K.png per sample, and edit.png, one row per sample: the input with the masked region greyed, the
     * tokenizer's reconstruction, then the decoded state after each scale (the last is the edited image).
     *
     * @param image     the input (C, H, W) in [−1, 1]
     * @param perScale  per scale s, the decoded states (B, C, H, W) after scales 0..s
     * @param rowLabels one label per sample
     */
    static void write(Path dir, float[] image, boolean[] regenerate, float[] reconstruction, Tensor[] perScale,
                      List<String> scaleNames, List<String> rowLabels, int channels, int size) throws IOException {
        Files.createDirectories(dir);
        int per = image.length, B = perScale[0].size(0), S = perScale.length;
        Charts.image(dir.resolve("input.png"), image, channels, size, size);
        Charts.image(dir.resolve("mask.png"), maskPicture(regenerate), 1, size, size);
        Charts.image(dir.resolve("reconstruction.png"), reconstruction, channels, size, size);
        float[][] states = new float[S][];
        for (int s = 0; s < S; s++) {
            states[s] = perScale[s].toFloatArray();
        }
        int cols = S + 2;
        float[] grid = new float[B * cols * per];
        float[] greyed = greyed(image, regenerate);
        for (int b = 0; b < B; b++) {
            System.arraycopy(greyed, 0, grid, b * cols * per, per);
            System.arraycopy(reconstruction, 0, grid, (b * cols + 1) * per, per);
            for (int s = 0; s < S; s++) {
                System.arraycopy(states[s], b * per, grid, (b * cols + 2 + s) * per, per);
            }
            Charts.image(dir.resolve("edited-" + b + ".png"), Arrays.copyOfRange(states[S - 1], b * per,
                    (b + 1) * per), channels, size, size);
        }
        List<String> cols2 = new ArrayList<>(List.of("input, mask", "tokenizer"));
        cols2.addAll(scaleNames);
        Charts.imageGrid(dir.resolve("edit.png"), grid, B * cols, channels, size, size, cols, 3, rowLabels, cols2);
    }

    private static BufferedImage decode(Checks check, String what, byte[] png) {
        BufferedImage img = null;
        try {
            img = ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            // reported below
        }
        if (img == null) {
            throw check.error(what + ": not a picture (a PNG is expected)");
        }
        return img;
    }

    private static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
