package dev.mvarj.mvar.eval;

import dev.mvarj.tensor.Tensor;

/**
 * The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017; "FID" when the features
 * are Inception-v3's, here those of {@link FeatureNet}):
 * <pre>
 *   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁Σ₂)^{1/2})
 * </pre>
 * Σ₁Σ₂ is not symmetric, so instead of a general matrix square root (scipy.linalg.sqrtm in pytorch-fid) this uses
 * the similar matrix M = Σ₁^{1/2} Σ₂ Σ₁^{1/2}, which is symmetric positive semi-definite and has the same
 * eigenvalues as Σ₁Σ₂; hence Tr((Σ₁Σ₂)^{1/2}) = Σ_i √λ_i(M). Both square roots come from Jacobi
 * eigendecompositions ({@link SymmetricEigen}), with eigenvalues that rounding made negative taken as zero, so a
 * singular covariance (fewer samples than dimensions) needs no ε-offset. All in double; cost O(D³).
 */
public final class FrechetDistance {

    private FrechetDistance() {
    }

    /** The Fréchet distance between the feature sets {@code a} (n₁, D) and {@code b} (n₂, D). */
    public static double between(Tensor a, Tensor b) {
        return between(FeatureStats.of(a), FeatureStats.of(b));
    }

    /** The Fréchet distance between two fitted Gaussians. */
    public static double between(FeatureStats a, FeatureStats b) {
        int d = a.dim();
        if (b.dim() != d) {
            throw new IllegalArgumentException("FrechetDistance: feature dimensions differ (" + d + " and " + b.dim() + ")");
        }
        double meanTerm = 0, trace = 0;
        for (int i = 0; i < d; i++) {
            double diff = a.mean()[i] - b.mean()[i];
            meanTerm += diff * diff;
            trace += a.cov()[i][i] + b.cov()[i][i];
        }
        double fd = meanTerm + trace - 2 * traceSqrtProduct(a.cov(), b.cov());
        return Math.max(fd, 0); // rounding can leave −1e-12 for identical sets
    }

    /** Tr((Σ₁Σ₂)^{1/2}) = Σ_i √λ_i(Σ₁^{1/2} Σ₂ Σ₁^{1/2}) for symmetric PSD Σ₁, Σ₂. */
    public static double traceSqrtProduct(double[][] s1, double[][] s2) {
        double[][] r = SymmetricEigen.of(s1).sqrtPsd();
        double[][] m = multiply(multiply(r, s2), r);
        double sum = 0;
        for (double lambda : SymmetricEigen.of(m).values()) {
            sum += Math.sqrt(Math.max(lambda, 0));
        }
        return sum;
    }

    /** a (n × k) · b (k × m). */
    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length, k = b.length, m = b[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] row = out[i];
            for (int p = 0; p < k; p++) {
                double aip = a[i][p];
                double[] bp = b[p];
                for (int j = 0; j < m; j++) {
                    row[j] += aip * bp[j];
                }
            }
        }
        return out;
    }
}
