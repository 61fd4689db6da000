package dev.mvarj.gpu;

/**
 * The tolerances of the device tests, per op, in one place, derived from the error bounds OpenCL C allows a
 * single-precision device (OpenCL 1.2 specification, section 7.4, table 7.1, full profile; docs/gpu.md#precision):
 * <ul>
 *   <li>{@code + − ×}, {@code fma} and conversions: correctly rounded (0.5 ulp);</li>
 *   <li>{@code x / y}: 2.5 ulp and {@code sqrt}: 3 ulp, unless the program is built with
 *       {@code -cl-fp32-correctly-rounded-divide-sqrt} (the backend asks for it where the device offers it);</li>
 *   <li>{@code exp}, {@code log}: 3 ulp; {@code tanh}: 5 ulp; {@code pow}: 16 ulp.</li>
 * </ul>
 * The reference computes in double and rounds once, so a device result differs by the sum of its steps' bounds
 * (the worst builtin plus one ulp per rounded operation) and, for a sum of K terms, by up to K·u relative to the
 * sum of magnitudes (u = 2⁻²⁴); random inputs give about √K·u. Each constant below states its budget; the
 * absolute part covers results near zero, where a relative bound means nothing.
 */
final class DeviceTolerance {

    /** One ulp relative to a float in [1, 2): 2⁻²³. */
    static final double ULP = 0x1p-23;

    private DeviceTolerance() {
    }

    /** An absolute and a relative tolerance, as {@code AllClose} takes them. */
    record Tol(double atol, double rtol) {
    }

    /**
     * Unary and binary element-wise ops: the worst builtin is pow (16 ulp); GELU's tanh (5 ulp) with six rounded
     * steps and SiLU's exp and division stay inside 16. Budget: 16 ulp absolute, 32 ulp relative.
     */
    static final Tol ELEMENTWISE = new Tol(16 * ULP, 32 * ULP);

    /** Gathers, copies and index selects move values: exact. */
    static final Tol EXACT = new Tol(0, 0);

    /**
     * Softmax and log-softmax: exp (3 ulp), a sum over the row (tree, log₂ 257 + 1 ≈ 9 roundings), a division
     * (2.5 ulp): about 16 ulp absolute on probabilities ≤ 1; 84 ulp relative for the tails.
     */
    static final Tol SOFTMAX = new Tol(16 * ULP, 84 * ULP);

    /** Softmax backward: a sum over the row of dy·y (√n·u of the magnitudes) and one product: 84 ulp. */
    static final Tol SOFTMAX_BACKWARD = new Tol(84 * ULP, 84 * ULP);

    /**
     * Row statistics of normalisation (layer norm, group norm forward): two tree sums over C ≤ 257 and a
     * 3-ulp sqrt, amplified by 1/σ for standardised outputs: about 84 ulp absolute, 840 ulp relative.
     */
    static final Tol NORM = new Tol(84 * ULP, 840 * ULP);

    /** Normalisation backward: three sums of products (each √C·u with C ≤ 257) scaled by rstd: 840 ulp. */
    static final Tol NORM_BACKWARD = new Tol(840 * ULP, 840 * ULP);

    /**
     * Column reductions (sums over n ≤ 10⁴ rows in chunks, then over chunks): √n·u relative to Σ|x|, which for
     * unit normals is √n times |Σx|: n·u ≈ 84 ulp at 257 rows, with a margin for the larger tests.
     */
    static Tol columnSum(int n) {
        double t = Math.max(84, 2.0 * n) * ULP;
        return new Tol(t, t);
    }

    /**
     * Attention: logits are dot products over d (√d·u), exp (3 ulp), an online softmax over Lk keys (a rescale
     * per tile) and a weighted sum over Lk values: about 168 ulp absolute and 840 ulp relative for unit inputs.
     */
    static final Tol ATTENTION = new Tol(168 * ULP, 840 * ULP);

    /** GEMM over depth K: √K·u·|a||b| with unit inputs, at 168 ulp per √K plus 84 ulp. */
    static Tol gemm(int K) {
        double t = 168 * ULP * Math.sqrt(Math.max(K, 1)) + 84 * ULP;
        return new Tol(t, t);
    }

    /** Cross-entropy: log-sum-exp over V (3 + 3 ulp and a sum), its gradient exp(z − lse): 84 ulp. */
    static final Tol CROSS_ENTROPY = new Tol(84 * ULP, 84 * ULP);

    /** AdamW: a sqrt (3 ulp) and a division (2.5 ulp) per step on values ≤ 1, three steps: 8 ulp. */
    static final Tol ADAMW = new Tol(8 * ULP, 8 * ULP);

    /**
     * Sampling from device logits: two candidate tokens whose guided logits are this close (absolute) may swap
     * between the device and the CPU by rounding alone (the logits' tolerance, {@link #ATTENTION} through a
     * two-block model and the (1 + t)·c − t·u guidance, t ≤ 2); a token that differs elsewhere is a bug.
     */
    static final double SAMPLING_TIE = 1e-4;
}
