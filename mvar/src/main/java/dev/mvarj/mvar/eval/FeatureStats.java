package dev.mvarj.mvar.eval;

import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;

/**
 * The first two moments of a feature set, in double: the mean μ (D) and the unbiased covariance
 * Σ = 1/(n−1) · Σ_i (x_i − μ)(x_i − μ)ᵀ (D × D), as {@code numpy.cov(x, rowvar=False)} in pytorch-fid.
 *
 * @param n the number of feature vectors they summarise
 */
public record FeatureStats(double[] mean, double[][] cov, int n) {

    /** Moments of the rows of {@code features} (n, D); needs n ≥ 2. Cost O(n·D²). */
    public static FeatureStats of(Tensor features) {
        if (features.rank() != 2) {
            throw new ShapeMismatchException("FeatureStats: expected features (n, D), got " + Shape.str(features.shape()));
        }
        return of(features.contiguous().toFloatArray(), features.size(0), features.size(1));
    }

    /** Moments of n row-major feature vectors of size d in {@code x}. */
    public static FeatureStats of(float[] x, int n, int d) {
        if (n < 2 || x.length != n * d) {
            throw new IllegalArgumentException("FeatureStats: need at least 2 vectors and n·D values, got n = " + n
                    + ", D = " + d + ", " + x.length + " values");
        }
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                mean[j] += x[i * d + j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        double[][] cov = new double[d][d];
        double[] c = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                c[j] = x[i * d + j] - mean[j];
            }
            for (int a = 0; a < d; a++) { // upper triangle, mirrored below
                double ca = c[a];
                double[] row = cov[a];
                for (int b = a; b < d; b++) {
                    row[b] += ca * c[b];
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a][b] /= n - 1;
                cov[b][a] = cov[a][b];
            }
        }
        return new FeatureStats(mean, cov, n);
    }

    /** D, the feature dimension. */
    public int dim() {
        return mean.length;
    }
}
