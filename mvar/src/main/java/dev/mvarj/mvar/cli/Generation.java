package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Class-wise sampling to images: the loop shared by {@code sample}, {@code eval} and {@code demo}. Samples are
 * generated class by class in batches, decoded by the tokenizer, and kept together with their efficiency figures.
 * Sample i draws from its own random stream of the seed, so the images do not depend on the batch size.
 */
final class Generation {

    /** Generated images (N, C, H, W) in [−1, 1], their requested labels, and the sampler's figures. */
    record Samples(Tensor images, int[] labels, long kvCacheBytes, long peakBytes, double seconds, int batch) {
    }

    /** The guidance the demo, {@code sample}, {@code eval} and {@code figures} use unless told otherwise. */
    static final float DEFAULT_CFG = 1.5f;
    /** The top-p filter they use unless told otherwise (top-k is off). */
    static final float DEFAULT_TOP_P = 0.95f;

    private Generation() {
    }

    /** "MVAR samples (cfg 1.5, top-k off, top-p 0.95)": the name of a row of scores. */
    static String describe(AttentionPattern pattern, Sampler.Settings st) {
        return String.format(Locale.ROOT, "%s samples (cfg %s, top-k %s, top-p %s)", pattern, st.cfg(),
                st.topK() == 0 ? "off" : Integer.toString(st.topK()), st.topP() == 1f ? "off" : Float.toString(st.topP()));
    }

    /** "1×1", "2×2", ...: the side of every scale, for the columns of a progression. */
    static List<String> scaleNames(ScaleSchedule schedule) {
        List<String> names = new ArrayList<>();
        for (int k = 0; k < schedule.count(); k++) {
            names.add(schedule.side(k) + "×" + schedule.side(k));
        }
        return names;
    }

    static Samples generate(NextScaleTransformer model, VqVae vae, AttentionPattern pattern, int perClass, int batch,
                            Sampler.Settings st) {
        int classes = model.cfg.classes(), n = classes * perClass;
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i / perClass;
        }
        int per = vae.config.imageChannels() * vae.config.imageSize() * vae.config.imageSize();
        float[] pixels = new float[n * per];
        long kv = 0, peak = 0;
        double seconds = 0;
        for (int start = 0; start < n; start += batch) {
            int[] chunk = java.util.Arrays.copyOfRange(labels, start, Math.min(n, start + batch));
            Sampler.Result r = Sampler.sample(model, vae.quantize, pattern, chunk, st, start);
            float[] img = vae.decodeFhat(r.fhat()).toFloatArray();
            System.arraycopy(img, 0, pixels, start * per, img.length);
            kv = Math.max(kv, r.kvCacheBytes());
            peak = Math.max(peak, r.peakBytes());
            seconds += r.seconds();
        }
        int c = vae.config.imageChannels(), s = vae.config.imageSize();
        return new Samples(Tensor.of(pixels, n, c, s, s), labels, kv, peak, seconds, batch);
    }

    /**
     * The coarse-to-fine progression of the first sample of every class (sample c·perClass of the seed, the same
     * image {@link #generate} makes for it): per class, the decoded picture after each scale, (classes × S) images
     * (C, H, W) row-major in [−1, 1].
     */
    static float[] progression(NextScaleTransformer model, VqVae vae, AttentionPattern pattern, int perClass,
                               Sampler.Settings st) {
        int classes = model.cfg.classes(), scales = model.cfg.schedule().count();
        int per = vae.config.imageChannels() * vae.config.imageSize() * vae.config.imageSize();
        float[] pixels = new float[classes * scales * per];
        for (int c = 0; c < classes; c++) {
            Sampler.Result r = Sampler.sample(model, vae.quantize, pattern, new int[]{c}, st, (long) c * perClass);
            Tensor[] steps = vae.decodePerScale(r.indices());
            for (int s = 0; s < scales; s++) {
                System.arraycopy(steps[s].toFloatArray(), 0, pixels, (c * scales + s) * per, per);
            }
        }
        return pixels;
    }

    /**
     * A grid with one row per class, named by {@code classNames}, and every sample as its own PNG under
     * {@code dir/<class>/} when dir is given.
     */
    static void write(Samples smp, int perClass, List<String> classNames, Path grid, Path dir) throws IOException {
        int n = smp.labels().length, c = smp.images().size(1), s = smp.images().size(2);
        float[] px = smp.images().toFloatArray();
        Charts.imageGrid(grid, px, n, c, s, s, perClass, 3, classNames, List.of());
        if (dir != null) {
            int per = c * s * s;
            for (int i = 0; i < n; i++) {
                Path file = dir.resolve(Integer.toString(smp.labels()[i])).resolve(String.format(Locale.ROOT, "%05d.png", i));
                Files.createDirectories(file.getParent());
                Charts.imageGrid(file, java.util.Arrays.copyOfRange(px, i * per, (i + 1) * per), 1, c, s, s, 1, 1);
            }
        }
    }
}
