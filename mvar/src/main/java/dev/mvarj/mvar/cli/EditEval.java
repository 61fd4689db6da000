package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.eval.FeatureNet;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Edit;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The measured run of {@code edit --eval N} (docs/editing.md#measured): class-conditional in-painting of the central
 * half of the first N test images into another class, scored by the data set's classifier, with the change of the
 * pixels outside the mask next to the tokenizer's own reconstruction error there.
 */
final class EditEval {

    /**
     * The figures: the share of edits the classifier puts in the new class (and in the old one), and outside the mask
     * the mean absolute difference (pixels in [−1, 1]) and PSNR (images mapped to [0, 1], over the whole set) of
     * edit vs input, reconstruction vs input (the tokenizer's error) and edit vs reconstruction.
     */
    record Report(int images, int maskedPixels, int pixels, double newClass, double oldClass, double inputAccuracy,
                  double[] editMae, double[] reconMae, double[] editVsReconMae, double seconds) {

        private static final int MAE = 0, MSE = 1;

        static double psnr(double[] m) {
            return 10 * Math.log10(1 / (m[MSE] / 4));
        }

        String summary() {
            return String.format(Locale.ROOT, "%d edits of the central %d of %d pixels into another class: the"
                            + " classifier says the new class for %.1f%% (the old one for %.1f%%; it is right on %.1f%%"
                            + " of the inputs). Outside the mask, mean |Δ| (pixels in [−1, 1]) / PSNR: edit vs input"
                            + " %.4f / %.2f dB, the tokenizer's reconstruction vs input %.4f / %.2f dB, edit vs"
                            + " reconstruction %.4f / %.2f dB. %.1f ms per edit.",
                    images, maskedPixels, pixels, 100 * newClass, 100 * oldClass, 100 * inputAccuracy, editMae[MAE],
                    psnr(editMae), reconMae[MAE], psnr(reconMae), editVsReconMae[MAE], psnr(editVsReconMae),
                    seconds * 1e3 / images);
        }
    }

    private EditEval() {
    }

    /**
     * The central half of a size × size image of data set {@code dataset} as a box {x, y, w, h}: the centred square with
     * half the area of the picture, side round(content / √2), where the picture fills the central content × content
     * (28 for Fashion-MNIST's padded 32×32, all of a shapes image).
     */
    static int[] centralBox(int size, String dataset) {
        int content = Datasets.family(dataset).equals(Datasets.FASHION) ? 28 : size;
        int side = (int) Math.round(content / Math.sqrt(2)), at = (size - side) / 2;
        return new int[]{at, at, side, side};
    }

    /** {@link #centralBox} as a mask (H, W) row-major, true = regenerate. */
    static boolean[] centralHalf(int size, String dataset) {
        int[] b = centralBox(size, dataset);
        return Editing.rectangle(size, b[0], b[1], b[2], b[3]);
    }

    /** The new class of test image i with label {@code label}: every other class in turn, (label + 1 + i mod (K − 1)) mod K. */
    static int newClass(int i, int label, int classes) {
        return (label + 1 + i % (classes - 1)) % classes;
    }

    /**
     * Edits the first {@code n} images of {@code test} (in batches of {@code batch}) inside {@code regenerate} (H, W)
     * into {@link #newClass}, scores them with {@code classifier}, and writes {@code picture}: the first 16 inputs,
     * reconstructions and edits.
     */
    static Report run(NextScaleTransformer model, VqVae vae, AttentionPattern pattern, ImageDataset test, int n,
                      boolean[] regenerate, Edit.Rule rule, FeatureNet classifier, Sampler.Settings st, int batch, Path picture,
                      PrintStream log) throws IOException {
        int classes = model.cfg.classes(), c = test.channels(), size = test.height(), hw = size * size, per = c * hw;
        int[] idx = new int[n], target = new int[n], old = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
            old[i] = test.labels()[i];
            target[i] = newClass(i, old[i], classes);
        }
        Tensor inputs = test.images(idx, null);
        float[] input = inputs.toFloatArray(), recon = Scorecard.reconstruct(vae, inputs).toFloatArray();
        float[] edited = new float[n * per];
        double seconds = 0;
        for (int from = 0; from < n; from += batch) {
            int to = Math.min(n, from + batch), b = to - from;
            boolean[] masks = new boolean[b * hw];
            for (int k = 0; k < b; k++) {
                System.arraycopy(regenerate, 0, masks, k * hw, hw);
            }
            Sampler.Result r = Editing.run(model, vae, pattern, inputs.slice(0, from, to).contiguous(), masks, rule,
                    Arrays.copyOfRange(target, from, to), st, from, null);
            seconds += r.seconds();
            System.arraycopy(vae.decodeFhat(r.fhat()).toFloatArray(), 0, edited, from * per, b * per);
            log.printf(Locale.ROOT, "edit --eval: %d/%d%n", to, n);
        }
        int[] predicted = argmax(classifier.logits(Tensor.of(edited, n, c, size, size)).toFloatArray(), classes);
        int[] before = argmax(classifier.logits(inputs).toFloatArray(), classes);
        int hit = 0, stayed = 0, right = 0;
        for (int i = 0; i < n; i++) {
            hit += predicted[i] == target[i] ? 1 : 0;
            stayed += predicted[i] == old[i] ? 1 : 0;
            right += before[i] == old[i] ? 1 : 0;
        }
        int masked = 0;
        for (boolean m : regenerate) {
            masked += m ? 1 : 0;
        }
        writePicture(picture, input, recon, edited, old, target, Math.min(n, 16), test.classNames(), c, size);
        return new Report(n, masked, hw, hit / (double) n, stayed / (double) n, right / (double) n,
                outside(edited, input, regenerate), outside(recon, input, regenerate),
                outside(edited, recon, regenerate), seconds);
    }

    /** Mean |a − b| and mean (a − b)² over the pixels (and channels) outside {@code regenerate} (H, W). */
    static double[] outside(float[] a, float[] b, boolean[] regenerate) {
        int hw = regenerate.length;
        double abs = 0, sq = 0;
        long count = 0;
        for (int i = 0; i < a.length; i++) {
            if (!regenerate[i % hw]) {
                double d = a[i] - b[i];
                abs += Math.abs(d);
                sq += d * d;
                count++;
            }
        }
        return new double[]{abs / count, sq / count};
    }

    private static int[] argmax(float[] logits, int classes) {
        int[] out = new int[logits.length / classes];
        for (int i = 0; i < out.length; i++) {
            for (int k = 1; k < classes; k++) {
                if (logits[i * classes + k] > logits[i * classes + out[i]]) {
                    out[i] = k;
                }
            }
        }
        return out;
    }

    private static void writePicture(Path file, float[] input, float[] recon, float[] edited, int[] old, int[] target,
                                     int rows, List<String> names, int c, int size) throws IOException {
        int per = c * size * size;
        float[] grid = new float[rows * 3 * per];
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            System.arraycopy(input, i * per, grid, 3 * i * per, per);
            System.arraycopy(recon, i * per, grid, (3 * i + 1) * per, per);
            System.arraycopy(edited, i * per, grid, (3 * i + 2) * per, per);
            labels.add(names.get(old[i]) + " → " + names.get(target[i]));
        }
        Charts.imageGrid(file, grid, rows * 3, c, size, size, 3, 3, labels,
                List.of("input", "tokenizer", "edit"));
    }
}
