package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.ConvGeometry;
import dev.mvarj.tensor.cpu.WorkerPool;

/**
 * 2-D convolution as one large GEMM per group of samples: the batch is folded into the GEMM's long dimension.
 * With cols (K, n·P) = im2col of n samples side by side (column b·P + p is position p of sample b; K = Cin·kh·kw,
 * P = OH·OW) and dout, out rearranged as (Cout, n·P):
 * <ul>
 *   <li>forward: y (Cout, n·P) = w (Cout, K) · cols, then out[b, co, p] = y[co, b·P + p] + bias[co];</li>
 *   <li>input gradient: dcols (K, n·P) = wᵀ · dout', then dx = col2im(dcols);</li>
 *   <li>weight gradient: dw (Cout, K) = Σ over groups of dout' (Cout, n·P) · colsᵀ, one GEMM whose inner dimension
 *       runs over every position of every sample of the group.</li>
 * </ul>
 * Per-sample products (Cout, K)·(K, P) are too small to keep the packed {@link Sgemm} busy when the conv is 1×1
 * (K = Cin) or strided and P is small; folded, a group's product has n·P columns (2,048 for the 8×8 maps of a
 * batch of 32). The price is the copies: cols (K·n·P floats, built again in the backward) and the two
 * rearrangements of out or dout, all streaming, no arithmetic. {@link SimdBackend} runs this path where {@link SimdConv}'s direct kernels do not apply
 * (docs/results.md#engine-speed-convolution-and-the-tokenizer-step).
 *
 * <p>cols and the rearranged out / dout live in {@link SimdConv}'s per-thread scratch arrays (the two paths never
 * nest). Determinism: the group size depends on the geometry only and Sgemm sums its inner dimension in a fixed order,
 * so every result is bit-identical for any pool size; dw adds the groups in sample order.
 */
final class FoldedConv {

    private FoldedConv() {
    }

    /** Floats of cols one group may hold (2M = 8 MiB); the group is at least one sample. */
    private static final int COLS_BUDGET = 1 << 21;

    /** Samples per group: as many as keep cols within {@link #COLS_BUDGET}. */
    static int group(ConvGeometry g) {
        return Math.max(1, Math.min(g.B(), COLS_BUDGET / Math.max(1, g.K() * g.P())));
    }

    // x (B, Cin, H, W), w (Cout, Cin, kh, kw), bias (Cout) or null -> out (B, Cout, OH, OW), written
    static void forward(WorkerPool pool, float[] out, int oo, float[] x, int xo, float[] w, int wo, float[] bias,
                        int bo, ConvGeometry g) {
        int K = g.K(), P = g.P(), Cout = g.Cout(), group = group(g);
        float[] cols = SimdConv.scratch(0, K * group * P), y = SimdConv.scratch(1, Cout * group * P);
        for (int start = 0; start < g.B(); start += group) {
            int b0 = start, n = Math.min(group, g.B() - b0), N = n * P;
            columns(pool, cols, x, xo, b0, n, g);
            Sgemm.gemm(pool, false, false, 1, Cout, N, K, 1f, w, wo, K, 0, cols, 0, N, 0, 0f, y, 0, N, 0);
            pool.parallelFor(n * Cout, Math.max(1, 4096 / P), (r0, r1) -> {      // (Cout, n·P) -> (n, Cout, P)
                for (int r = r0; r < r1; r++) {
                    int b = r / Cout, co = r % Cout, dst = oo + ((b0 + b) * Cout + co) * P, src = co * N + b * P;
                    if (bias == null) {
                        System.arraycopy(y, src, out, dst, P);
                    } else {
                        float v = bias[bo + co];
                        for (int p = 0; p < P; p++) {
                            out[dst + p] = y[src + p] + v;
                        }
                    }
                }
            });
        }
    }

    // dout (B, Cout, OH, OW), w (Cout, Cin, kh, kw) -> dx (B, Cin, H, W), written
    static void inputGrad(WorkerPool pool, float[] dx, int dxo, float[] dout, int doo, float[] w, int wo,
                          ConvGeometry g) {
        int K = g.K(), P = g.P(), Cout = g.Cout(), group = group(g);
        float[] dcols = SimdConv.scratch(0, K * group * P), d = SimdConv.scratch(1, Cout * group * P);
        java.util.Arrays.fill(dx, dxo, dxo + g.B() * g.Cin() * g.H() * g.W(), 0f);
        for (int b0 = 0; b0 < g.B(); b0 += group) {
            int n = Math.min(group, g.B() - b0), N = n * P;
            fold(pool, d, dout, doo, b0, n, Cout, P);
            Sgemm.gemm(pool, true, false, 1, K, N, Cout, 1f, w, wo, K, 0, d, 0, N, 0, 0f, dcols, 0, N, 0);
            SimdVision.col2im(pool, dx, dxo + b0 * g.Cin() * g.H() * g.W(), dcols, 0, P, N, n, g.Cin(), g.H(),
                    g.W(), g.kh(), g.kw(), g.stride(), g.padTop(), g.padLeft(), g.OH(), g.OW());
        }
    }

    // dout (B, Cout, OH, OW), x (B, Cin, H, W) -> dw (Cout, Cin, kh, kw), written
    static void weightGrad(WorkerPool pool, float[] dw, int dwo, float[] dout, int doo, float[] x, int xo,
                           ConvGeometry g) {
        int K = g.K(), P = g.P(), Cout = g.Cout(), group = group(g);
        if (g.B() == 0) {
            java.util.Arrays.fill(dw, dwo, dwo + Cout * K, 0f);
            return;
        }
        float[] cols = SimdConv.scratch(0, K * group * P), d = SimdConv.scratch(1, Cout * group * P);
        for (int b0 = 0; b0 < g.B(); b0 += group) {
            int n = Math.min(group, g.B() - b0), N = n * P;
            columns(pool, cols, x, xo, b0, n, g);
            fold(pool, d, dout, doo, b0, n, Cout, P);
            Sgemm.gemm(pool, false, true, 1, Cout, K, N, 1f, d, 0, N, 0, cols, 0, N, 0, b0 == 0 ? 0f : 1f, dw, dwo,
                    K, 0);
        }
    }

    /** cols (K, n·P) of samples [b0, b0 + n). */
    private static void columns(WorkerPool pool, float[] cols, float[] x, int xo, int b0, int n, ConvGeometry g) {
        SimdVision.im2col(pool, x, xo + b0 * g.Cin() * g.H() * g.W(), cols, 0, g.P(), n * g.P(), n, g.Cin(), g.H(),
                g.W(), g.kh(), g.kw(), g.stride(), g.padTop(), g.padLeft(), g.OH(), g.OW());
    }

    /** t (C, n·P) from samples [b0, b0 + n) of a (B, C, P) array: t[c, b·P + p] = a[b0 + b, c, p]. */
    private static void fold(WorkerPool pool, float[] t, float[] a, int ao, int b0, int n, int C, int P) {
        pool.parallelFor(n * C, Math.max(1, 4096 / P), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / C, c = r % C;
                System.arraycopy(a, ao + ((b0 + b) * C + c) * P, t, c * n * P + b * P, P);
            }
        });
    }
}
