package dev.mvarj.mvar.eval;

import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scores class-conditional generated images against real ones in the feature space of a trained {@link FeatureNet}:
 * the Fréchet distance of the pooled features ({@link FrechetDistance}, "FID" with our classifier in Inception's
 * place), class consistency ({@link ClassConsistency}), and k-NN precision and recall ({@link PrecisionRecall}).
 *
 * <p>Sample sizes and cost, measured on 2 CPU cores with the default classifier (549k parameters, D = 128,
 * ≈ 3 M multiply-adds per image). The real side is prepared once, in the constructor: features of the
 * {@value #DEFAULT_REAL_SAMPLES} test images (a forward pass each, ≈ 1,700 images/s), their mean and covariance
 * (O(N·D²)) and their k-NN radii (N² dot products by GEMM): ≈ 7 s in all. Each {@link #evaluate} then costs a
 * forward pass per generated image, O(M·D² + D³) for the Fréchet distance and O(M·(N + M)·D) for precision and
 * recall: ≈ 1 s for M = {@value #DEFAULT_GENERATED}. The Fréchet distance is biased upwards at small M, so compare
 * numbers only at equal M and read them against the floor that real images reach at that M: evaluating 1,000
 * Fashion-MNIST training images as if generated gives FD ≈ 7.3, class consistency ≈ 95%, precision ≈ 0.88 and
 * recall ≈ 0.88 (the classifier example prints this baseline).
 */
public final class Evaluator {

    /** Real images the generated ones are compared with: the whole Fashion-MNIST test split. */
    public static final int DEFAULT_REAL_SAMPLES = 10_000;
    /** The suggested number of generated images (100 per class); more lowers the Fréchet distance's bias. */
    public static final int DEFAULT_GENERATED = 1_000;

    /**
     * The scores of one set of generated images.
     *
     * @param generated        M, the number of generated images
     * @param real             N, the number of real images
     * @param frechetDistance  the Fréchet distance between real and generated features
     * @param classes          the confusion matrix requested × predicted behind the class consistency
     * @param realConsistency  the classifier's accuracy on the real images: the consistency a perfect generator gets
     * @param precision        share of generated images on the real k-NN manifold
     * @param recall           share of real images on the generated k-NN manifold
     * @param k                the neighbourhood size of the manifolds
     * @param seconds          wall time of the evaluation (the real side excluded)
     */
    public record Report(int generated, int real, double frechetDistance, ClassConsistency classes,
                         double realConsistency, double precision, double recall, int k, double seconds) {

        /** The share of generated images classified as requested. */
        public double classConsistency() {
            return classes.consistency();
        }

        /** One line: "FD 12.3 | class consistency 85.0% (real 90.5%) | precision 0.712 recall 0.431 (k 3) | ...". */
        public String summary() {
            return String.format(Locale.ROOT, "FD %.3f | class consistency %.1f%% (real images %.1f%%) | precision"
                            + " %.3f recall %.3f (k %d) | %d generated vs %d real, %.1fs", frechetDistance,
                    100 * classConsistency(), 100 * realConsistency, precision, recall, k, generated, real, seconds);
        }

        /** Per class: requested, classified as requested, and predicted counts, one line each. */
        public String perClassTable(List<String> names) {
            int[] req = classes.requestedPerClass(), ok = classes.consistentPerClass(), pred = classes.predictedPerClass();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-14s %9s %9s %9s %7s%n", "class",
                    "requested", "as asked", "predicted", "share"));
            for (int c = 0; c < req.length; c++) {
                String name = c < names.size() ? names.get(c) : Integer.toString(c);
                sb.append(String.format(Locale.ROOT, "%-14s %9d %9d %9d %6.1f%%%n", name, req[c], ok[c], pred[c],
                        req[c] == 0 ? 0.0 : 100.0 * ok[c] / req[c]));
            }
            return sb.toString();
        }

        /** The scalar scores by name, for a {@code MetricsLog} record or JSON. */
        public Map<String, Object> scalars() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fd", frechetDistance);
            m.put("class_consistency", classConsistency());
            m.put("real_consistency", realConsistency);
            m.put("precision", precision);
            m.put("recall", recall);
            m.put("k", k);
            m.put("generated", generated);
            m.put("real", real);
            return m;
        }
    }

    private final FeatureNet net;
    private final int k;
    private final int realCount;
    private final FeatureStats realStats;
    private final PrecisionRecall.Manifold realManifold;
    private final double realConsistency;

    /**
     * Prepares the real side: the features, statistics and k-NN manifold of the first {@code realSamples} images of
     * {@code real} (all of them when it holds fewer), and the classifier's accuracy on them.
     */
    public Evaluator(FeatureNet net, ImageDataset real, int realSamples, int k) {
        int c = net.config().channels();
        if (real.channels() != c || real.height() != FeatureNet.SIDE || real.width() != FeatureNet.SIDE) {
            throw new IllegalArgumentException("Evaluator: the classifier takes " + c + "x32x32 images, "
                    + real.name() + " has " + real.channels() + "x" + real.height() + "x" + real.width());
        }
        this.net = net;
        this.k = k;
        ImageDataset r = real.head(realSamples);
        this.realCount = r.size();
        int[] idx = new int[realCount];
        for (int i = 0; i < realCount; i++) {
            idx[i] = i;
        }
        Tensor features = net.features(r.images(idx, null));
        this.realStats = FeatureStats.of(features);
        this.realManifold = PrecisionRecall.Manifold.of(features, k);
        this.realConsistency = ClassConsistency.of(r.labels(), FeatureNet.argmaxRows(net.classify(features)),
                net.config().classes()).consistency();
    }

    /** The number of real images compared with. */
    public int realCount() {
        return realCount;
    }

    /** The classifier's accuracy on the real images. */
    public double realConsistency() {
        return realConsistency;
    }

    /**
     * Scores {@code images} (M, c, 32, 32) in [−1, 1], generated for the classes {@code requested} (M values);
     * needs M > k.
     */
    public Report evaluate(Tensor images, int[] requested) {
        int[] s = images.shape();
        int c = net.config().channels();
        if (s.length != 4 || s[1] != c || s[2] != FeatureNet.SIDE || s[3] != FeatureNet.SIDE || s[0] != requested.length) {
            throw new ShapeMismatchException("Evaluator: expected images (M, " + c + ", 32, 32) and M requested labels, got "
                    + Shape.str(s) + " and " + requested.length + " labels");
        }
        long t0 = System.nanoTime();
        Tensor features = net.features(images);                                   // (M, D)
        int[] predicted = FeatureNet.argmaxRows(net.classify(features));          // (M)
        ClassConsistency classes = ClassConsistency.of(requested, predicted, net.config().classes());
        double fd = FrechetDistance.between(realStats, FeatureStats.of(features));
        PrecisionRecall.Result pr = PrecisionRecall.compute(realManifold, PrecisionRecall.Manifold.of(features, k));
        return new Report(requested.length, realCount, fd, classes, realConsistency, pr.precision(), pr.recall(), k,
                (System.nanoTime() - t0) / 1e9);
    }
}
