package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.ConvGeometry;
import dev.mvarj.tensor.cpu.WorkerPool;

/**
 * A convolution with stride s > 1 as a stride-1 convolution over the s² phases of its input (space-to-depth), so
 * that it runs on {@link SimdConv}'s direct kernels instead of im2col + GEMM.
 *
 * <p>With xpad the zero-padded input, output (oh, ow) reads xpad[s·oh + i, s·ow + j] for the taps (i, j). Writing
 * i = s·a + py and j = s·c + px, that is row oh + a, column ow + c of the <em>phase</em> (py, px) of xpad, the plane
 * of its rows ≡ py and columns ≡ px (mod s). So, with kh' = ⌈kh / s⌉ and kw' = ⌈kw / s⌉:
 * <pre>
 *   xs (B, s²·Cin, OH + kh' − 1, OW + kw' − 1)   xs[b, (py·s + px)·Cin + ci, r, c] = xpad[b, ci, s·r + py, s·c + px]
 *                                                (stored without its all-zero bottom rows and right columns)
 *   ws (Cout, s²·Cin, kh', kw')                  ws[co, (py·s + px)·Cin + ci, a, c] = w[co, ci, s·a + py, s·c + px]
 *                                                                                      (0 where s·a + py ≥ kh ...)
 *   out = conv(xs, ws), stride 1, no padding     the same sums, plus products with the zero taps of ws
 * </pre>
 * The input gradient is the stride-1 input gradient with respect to xs, scattered back to x (positions of x that no
 * output reads get 0); the weight gradient is the stride-1 weight gradient with respect to ws, its real taps gathered
 * back. The zero taps cost arithmetic (16 taps for 9 on the VQ-VAE's 3×3 stride-2 downsample), which the direct
 * kernels' speed repays several times over (docs/results.md#engine-speed-convolution-and-the-tokenizer-step).
 *
 * <p>xs lives in {@link SimdConv}'s scratch slot {@value #SLOT} (its kernels use the others). Determinism is the
 * direct kernels': each element of a result is summed by one task in an order fixed by the geometry.
 */
final class PolyphaseConv {

    private PolyphaseConv() {
    }

    /** The scratch slot of xs (and of the input gradient with respect to xs). */
    static final int SLOT = 3;

    /** Whether this path takes g: a stride above 1 whose phase convolution the direct kernels take. */
    static boolean supports(ConvGeometry g) {
        return g.stride() > 1 && SimdConv.supports(phases(g));
    }

    /**
     * The stride-1 geometry over the phases: the outputs read xs (B, s²·Cin, OH + kh' − 1, OW + kw' − 1) with a
     * (kh', kw') filter; its rows r ≥ ⌈(H + padTop) / s⌉ lie below x in every phase (all zero), so xs keeps only
     * the rows and columns that hold x and the rest is the phase convolution's bottom and right padding. (That
     * keeps the direct kernels' vectors full: the VQ-VAE's downsample of a 32×32 map reads 17×17 phase planes,
     * but 16×16 of them hold x.)
     */
    static ConvGeometry phases(ConvGeometry g) {
        int s = g.stride(), kh = Math.ceilDiv(g.kh(), s), kw = Math.ceilDiv(g.kw(), s);
        int rows = g.OH() + kh - 1, cols = g.OW() + kw - 1;
        int H = Math.min(rows, Math.ceilDiv(g.H() + g.padTop(), s));
        int W = Math.min(cols, Math.ceilDiv(g.W() + g.padLeft(), s));
        return new ConvGeometry(g.B(), s * s * g.Cin(), H, W, g.Cout(), kh, kw, 1, 0, rows - H, 0, cols - W);
    }

    // x (B, Cin, H, W), w (Cout, Cin, kh, kw), bias (Cout) or null -> out (B, Cout, OH, OW), written
    static void forward(WorkerPool pool, float[] O, int oo, float[] X, int xo, float[] Wt, int wo, float[] Bs, int bo,
                        ConvGeometry g) {
        ConvGeometry p = phases(g);
        float[] xs = SimdConv.scratch(SLOT, p.B() * p.Cin() * p.H() * p.W());
        split(pool, xs, X, xo, g, p);
        SimdConv.forward(pool, O, oo, xs, 0, phaseWeights(Wt, wo, g, p), 0, Bs, bo, p);
    }

    // dout (B, Cout, OH, OW), w (Cout, Cin, kh, kw) -> dx (B, Cin, H, W), written
    static void inputGrad(WorkerPool pool, float[] DX, int dxo, float[] D, int dO, float[] Wt, int wo, ConvGeometry g) {
        ConvGeometry p = phases(g);
        float[] dxs = SimdConv.scratch(SLOT, p.B() * p.Cin() * p.H() * p.W());
        SimdConv.inputGrad(pool, dxs, 0, D, dO, phaseWeights(Wt, wo, g, p), 0, p);
        merge(pool, DX, dxo, dxs, g, p);
    }

    // dout (B, Cout, OH, OW), x (B, Cin, H, W) -> dw (Cout, Cin, kh, kw), written
    static void weightGrad(WorkerPool pool, float[] DW, int dwo, float[] D, int dO, float[] X, int xo, ConvGeometry g) {
        ConvGeometry p = phases(g);
        float[] xs = SimdConv.scratch(SLOT, p.B() * p.Cin() * p.H() * p.W());
        split(pool, xs, X, xo, g, p);
        float[] dws = new float[p.Cout() * p.K()];
        SimdConv.weightGrad(pool, dws, 0, D, dO, xs, 0, p);
        int s = g.stride(), Cin = g.Cin(), kh = g.kh(), kw = g.kw();
        for (int co = 0; co < g.Cout(); co++) {
            for (int ci = 0; ci < Cin; ci++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int phase = (i % s) * s + j % s;
                        DW[dwo + ((co * Cin + ci) * kh + i) * kw + j] =
                                dws[((co * p.Cin() + phase * Cin + ci) * p.kh() + i / s) * p.kw() + j / s];
                    }
                }
            }
        }
    }

    /** w (Cout, Cin, kh, kw) -> ws (Cout, s²·Cin, kh', kw'), zero at the taps past the filter. */
    private static float[] phaseWeights(float[] Wt, int wo, ConvGeometry g, ConvGeometry p) {
        int s = g.stride(), Cin = g.Cin(), kh = g.kh(), kw = g.kw();
        float[] ws = new float[p.Cout() * p.K()];
        for (int co = 0; co < g.Cout(); co++) {
            for (int ci = 0; ci < Cin; ci++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int phase = (i % s) * s + j % s;
                        ws[((co * p.Cin() + phase * Cin + ci) * p.kh() + i / s) * p.kw() + j / s] =
                                Wt[wo + ((co * Cin + ci) * kh + i) * kw + j];
                    }
                }
            }
        }
        return ws;
    }

    /**
     * x (B, Cin, H, W) -> xs (B, s²·Cin, Hs, Ws): xs[b, (py·s + px)·Cin + ci, r, c] = x[b, ci, s·r + py − padTop,
     * s·c + px − padLeft], 0 outside x. One task = one plane of xs.
     */
    private static void split(WorkerPool pool, float[] xs, float[] X, int xo, ConvGeometry g, ConvGeometry p) {
        int s = g.stride(), Cin = g.Cin(), H = g.H(), W = g.W(), Hs = p.H(), Ws = p.W();
        pool.parallelFor(p.B() * p.Cin(), Math.max(1, 4096 / (Hs * Ws)), (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int b = q / p.Cin(), phase = q % p.Cin() / Cin, ci = q % Cin, py = phase / s, px = phase % s;
                int src = xo + (b * Cin + ci) * H * W, dst = q * Hs * Ws;
                for (int r = 0; r < Hs; r++, dst += Ws) {
                    int h = s * r + py - g.padTop();
                    if (h < 0 || h >= H) {
                        java.util.Arrays.fill(xs, dst, dst + Ws, 0f);
                        continue;
                    }
                    // columns c of xs read x[w = s·c + px − padLeft]: zero before w = 0 and from w = W on
                    int row = src + h * W, c = 0, w = px - g.padLeft();
                    for (; c < Ws && w < 0; c++, w += s) {
                        xs[dst + c] = 0f;
                    }
                    for (; c < Ws && w < W; c++, w += s) {
                        xs[dst + c] = X[row + w];
                    }
                    java.util.Arrays.fill(xs, dst + c, dst + Ws, 0f);
                }
            }
        });
    }

    /**
     * The adjoint of {@link #split}: dxs (B, s²·Cin, Hs, Ws) -> dx (B, Cin, H, W), written; each element of x comes
     * from one element of xs, or from none (a position no output reads: 0). One task = one plane of dx.
     */
    private static void merge(WorkerPool pool, float[] DX, int dxo, float[] dxs, ConvGeometry g, ConvGeometry p) {
        int s = g.stride(), Cin = g.Cin(), H = g.H(), W = g.W(), Hs = p.H(), Ws = p.W();
        pool.parallelFor(g.B() * Cin, Math.max(1, 4096 / (H * W)), (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int b = q / Cin, ci = q % Cin;
                for (int h = 0, dst = dxo + q * H * W; h < H; h++, dst += W) {
                    int hp = h + g.padTop(), r = hp / s, py = hp % s;
                    java.util.Arrays.fill(DX, dst, dst + W, 0f);       // columns no output reads stay 0
                    if (r >= Hs) {
                        continue;
                    }
                    for (int px = 0; px < s; px++) {
                        // columns w = s·c + px − padLeft of this row, for c with 0 ≤ w < W and c < Ws
                        int src = ((b * p.Cin() + (py * s + px) * Cin + ci) * Hs + r) * Ws;
                        int c = Math.max(0, Math.ceilDiv(g.padLeft() - px, s));
                        for (int w = s * c + px - g.padLeft(); c < Ws && w < W; c++, w += s) {
                            DX[dst + w] = dxs[src + c];
                        }
                    }
                }
            }
        });
    }
}
