package dev.mvarj.mvar.eval;

/**
 * The eigendecomposition A = V · diag(λ) · Vᵀ of a real symmetric matrix by the cyclic Jacobi method, in double.
 * Each rotation zeroes one off-diagonal pair; sweeps repeat until the off-diagonal mass is negligible (quadratic
 * convergence, typically 6-10 sweeps). Cost ≈ 3·n³ flops per sweep: milliseconds for the n ≤ 256 feature
 * covariances of the metrics. Unconditionally stable and accurate for small eigenvalues, which is what a matrix
 * square root of a nearly singular covariance needs.
 *
 * @param values  the eigenvalues λ (n), in ascending order
 * @param vectors the eigenvectors as columns of V (n × n, {@code vectors[row][col]}), orthonormal
 */
public record SymmetricEigen(double[] values, double[][] vectors) {

    private static final int MAX_SWEEPS = 100;

    /** Decomposes the symmetric matrix {@code a} (n × n; only symmetry up to rounding is assumed, a is not changed). */
    public static SymmetricEigen of(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][];
        double[][] v = new double[n][n];
        double norm2 = 0;
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException("SymmetricEigen: matrix is not square (row " + i + " has "
                        + a[i].length + " entries, expected " + n + ")");
            }
            m[i] = a[i].clone();
            v[i][i] = 1;
            for (int j = 0; j < n; j++) {
                if (!Double.isFinite(a[i][j])) {
                    throw new IllegalArgumentException("SymmetricEigen: entry (" + i + ", " + j + ") is " + a[i][j]);
                }
                norm2 += a[i][j] * a[i][j];
            }
        }
        for (int i = 0; i < n; i++) { // symmetrise: (A + Aᵀ)/2
            for (int j = i + 1; j < n; j++) {
                double s = 0.5 * (m[i][j] + m[j][i]);
                m[i][j] = s;
                m[j][i] = s;
            }
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += m[p][q] * m[p][q];
                }
            }
            if (off <= 1e-30 * norm2 || off == 0) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (m[p][q] != 0) {
                        rotate(m, v, p, q);
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = m[i][i];
        }
        return sorted(values, v);
    }

    /**
     * A ← Jᵀ·A·J and V ← V·J for the rotation J in the (p, q) plane that zeroes A[p][q]:
     * with θ = (a_qq − a_pp) / (2·a_pq), t = tan φ = sgn(θ) / (|θ| + √(θ² + 1)), c = 1/√(t² + 1), s = t·c.
     */
    private static void rotate(double[][] a, double[][] v, int p, int q) {
        int n = a.length;
        double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        double t = Double.isInfinite(theta * theta) ? 0.5 / theta
                : Math.signum(theta == 0 ? 1 : theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        double c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; k++) { // columns p, q of A·J
            double akp = a[k][p], akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; k++) { // rows p, q of Jᵀ·(A·J)
            double apk = a[p][k], aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
        }
        a[p][q] = 0; // exactly, by the choice of t
        a[q][p] = 0;
        for (int k = 0; k < n; k++) {
            double vkp = v[k][p], vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
        }
    }

    private static SymmetricEigen sorted(double[] values, double[][] v) {
        int n = values.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(values[x], values[y]));
        double[] vals = new double[n];
        double[][] vecs = new double[n][n];
        for (int j = 0; j < n; j++) {
            vals[j] = values[order[j]];
            for (int i = 0; i < n; i++) {
                vecs[i][j] = v[i][order[j]];
            }
        }
        return new SymmetricEigen(vals, vecs);
    }

    /**
     * The principal square root V · diag(√max(λ, 0)) · Vᵀ of the (positive semi-definite) matrix; eigenvalues that
     * rounding pushed below zero count as zero.
     */
    public double[][] sqrtPsd() {
        int n = values.length;
        double[] r = new double[n];
        for (int j = 0; j < n; j++) {
            r[j] = Math.sqrt(Math.max(values[j], 0));
        }
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = i; k < n; k++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += vectors[i][j] * r[j] * vectors[k][j];
                }
                out[i][k] = s;
                out[k][i] = s;
            }
        }
        return out;
    }
}
