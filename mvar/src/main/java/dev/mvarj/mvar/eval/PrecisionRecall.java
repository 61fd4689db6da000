package dev.mvarj.mvar.eval;

import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
 * Generative Models"). Each feature set approximates its manifold by the union of balls around its vectors, the
 * radius of each ball being the distance to that vector's k-th nearest neighbour in the same set (itself excluded):
 * <pre>
 *   precision = 1/M · Σ_j 1[ ∃ i : ‖g_j − r_i‖ ≤ NN_k(r_i) ]   share of generated samples on the real manifold
 *   recall    = 1/N · Σ_i 1[ ∃ j : ‖r_i − g_j‖ ≤ NN_k(g_j) ]   share of real samples on the generated manifold
 * </pre>
 * Precision measures fidelity, recall diversity (coverage). Distances are Euclidean in feature space; the dot
 * products come from the engine's GEMM in blocks of {@value #BLOCK} × {@value #BLOCK} (float accumulation, the
 * squared distances ‖x‖² + ‖y‖² − 2·x·y finished in double), so the cost is O((N + M)² · D) multiply-adds and
 * O(BLOCK²) floats of memory, not an N × M matrix.
 */
public final class PrecisionRecall {

    /** The neighbourhood size of the paper. */
    public static final int DEFAULT_K = 3;
    static final int BLOCK = 1024;

    private PrecisionRecall() {
    }

    /** Precision and recall with the sizes they were computed from. */
    public record Result(double precision, double recall, int k, int real, int generated) {
    }

    /** Precision and recall of {@code generated} (M, D) against {@code real} (N, D) with k-NN balls. */
    public static Result compute(Tensor real, Tensor generated, int k) {
        return compute(Manifold.of(real, k), Manifold.of(generated, k));
    }

    /** Precision and recall from two manifolds built with the same k (the real one can be reused across calls). */
    public static Result compute(Manifold real, Manifold generated) {
        if (real.k() != generated.k() || real.dim() != generated.dim()) {
            throw new IllegalArgumentException("PrecisionRecall: manifolds differ in k (" + real.k() + ", "
                    + generated.k() + ") or feature dimension (" + real.dim() + ", " + generated.dim() + ")");
        }
        double precision = real.coverage(generated);
        double recall = generated.coverage(real);
        return new Result(precision, recall, real.k(), real.size(), generated.size());
    }

    /**
     * A k-NN manifold estimate: n feature vectors (row-major, dimension D) and the squared radius of each one's
     * ball, the squared distance to its k-th nearest other vector.
     */
    public static final class Manifold {

        private final float[] x;
        private final int n, d, k;
        private final double[] norms2, radii2;

        private Manifold(float[] x, int n, int d, int k) {
            this.x = x;
            this.n = n;
            this.d = d;
            this.k = k;
            this.norms2 = squaredNorms(x, n, d);
            this.radii2 = kthNeighbourRadii();
        }

        /** Builds the manifold of {@code features} (n, D); needs k < n. Cost O(n²·D). */
        public static Manifold of(Tensor features, int k) {
            if (features.rank() != 2) {
                throw new ShapeMismatchException("Manifold: expected features (n, D), got " + Shape.str(features.shape()));
            }
            int n = features.size(0);
            if (k < 1 || k >= n) {
                throw new IllegalArgumentException("Manifold: k = " + k + " needs 1 <= k < n = " + n);
            }
            return new Manifold(features.contiguous().toFloatArray(), n, features.size(1), k);
        }

        public int size() {
            return n;
        }

        public int dim() {
            return d;
        }

        public int k() {
            return k;
        }

        /** The radius of vector i's ball, ‖x_i − NN_k(x_i)‖. */
        public double radius(int i) {
            return Math.sqrt(radii2[i]);
        }

        /** Whether each vector of {@code queries} lies in at least one ball of this manifold. */
        public boolean[] contains(Manifold queries) {
            boolean[] inside = new boolean[queries.n];
            forEachBlock(queries, this, (q0, q1, r0, r1, dot) -> {
                int cols = r1 - r0;
                for (int q = q0; q < q1; q++) {
                    if (inside[q]) {
                        continue;
                    }
                    int row = (q - q0) * cols;
                    for (int r = r0; r < r1; r++) {
                        double d2 = queries.norms2[q] + norms2[r] - 2.0 * dot[row + r - r0];
                        if (d2 <= radii2[r]) {
                            inside[q] = true;
                            break;
                        }
                    }
                }
            });
            return inside;
        }

        /** The share of {@code queries} inside this manifold. */
        public double coverage(Manifold queries) {
            int count = 0;
            for (boolean b : contains(queries)) {
                count += b ? 1 : 0;
            }
            return (double) count / queries.n;
        }

        /** Squared distance to the k-th nearest other vector, for every vector (self excluded by index). */
        private double[] kthNeighbourRadii() {
            double[][] nearest = new double[n][k]; // the k smallest squared distances of each row, ascending
            for (double[] row : nearest) {
                java.util.Arrays.fill(row, Double.POSITIVE_INFINITY);
            }
            forEachBlock(this, this, (a0, a1, b0, b1, dot) -> {
                int cols = b1 - b0;
                for (int i = a0; i < a1; i++) {
                    double[] best = nearest[i];
                    int row = (i - a0) * cols;
                    for (int j = b0; j < b1; j++) {
                        if (j == i) {
                            continue;
                        }
                        double d2 = Math.max(0, norms2[i] + norms2[j] - 2.0 * dot[row + j - b0]);
                        if (d2 < best[k - 1]) { // insert into the sorted k-list
                            int p = k - 1;
                            while (p > 0 && best[p - 1] > d2) {
                                best[p] = best[p - 1];
                                p--;
                            }
                            best[p] = d2;
                        }
                    }
                }
            });
            double[] r = new double[n];
            for (int i = 0; i < n; i++) {
                r[i] = nearest[i][k - 1];
            }
            return r;
        }
    }

    /** Receives dot products a_i · b_j for i in [a0, a1), j in [b0, b1), row-major ((a1 − a0) × (b1 − b0)). */
    private interface BlockBody {
        void accept(int a0, int a1, int b0, int b1, float[] dot);
    }

    // a (na, D), b (nb, D) -> dot blocks (BLOCK, BLOCK) = a_block · b_blockᵀ via GEMM
    private static void forEachBlock(Manifold a, Manifold b, BlockBody body) {
        int d = a.d;
        for (int b0 = 0; b0 < b.n; b0 += BLOCK) {
            int b1 = Math.min(b.n, b0 + BLOCK), nb = b1 - b0;
            float[] bt = new float[d * nb]; // b_blockᵀ (D, nb), contiguous, so GEMM streams its rows
            for (int j = 0; j < nb; j++) {
                for (int c = 0; c < d; c++) {
                    bt[c * nb + j] = b.x[(b0 + j) * d + c];
                }
            }
            Tensor btT = Tensor.of(bt, d, nb);
            for (int a0 = 0; a0 < a.n; a0 += BLOCK) {
                int a1 = Math.min(a.n, a0 + BLOCK);
                Tensor ab = Tensor.of(java.util.Arrays.copyOfRange(a.x, a0 * d, a1 * d), a1 - a0, d);
                body.accept(a0, a1, b0, b1, ab.matmul(btT).toFloatArray());
            }
        }
    }

    private static double[] squaredNorms(float[] x, int n, int d) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                s += (double) x[i * d + c] * x[i * d + c];
            }
            out[i] = s;
        }
        return out;
    }
}
