package dev.mvarj.tensor;

/**
 * Convolution composed from other kernels: im2col, GEMM and col2im ({@link Backend}'s default conv2d kernels, run by
 * the reference and OpenCL backends; the SIMD backend has its own direct and batch-folded kernels).
 *
 * <p>Per sample, with cols (K, P) = im2col(x) (K = Cin·kh·kw, P = OH·OW): out = w (Cout, K) · cols + b;
 * dcols = wᵀ · dout and dx = col2im(dcols); dw (Cout, K) = Σ_b dout_b · cols_bᵀ, summed over samples in order.
 * im2col is recomputed in the backward rather than saved (the forward keeps only x and w, as PyTorch does).
 */
public final class Im2colConv {

    private Im2colConv() {
    }

    /**
     * System property: the most floats an im2col buffer may hold (default 4M = 16 MiB); the batch is processed in
     * groups of samples that fit, so the transient memory does not grow with the batch.
     */
    public static final String COLS_BUDGET_PROPERTY = "mvarj.conv.colsBudget";

    /** Floats of cols one forward GEMM streams per output row (64K = 256 KiB, about an L2 cache). */
    private static final int COLUMN_BLOCK_FLOATS = 1 << 16;

    /** Samples per im2col buffer. */
    private static int group(ConvGeometry g) {
        int budget = Integer.getInteger(COLS_BUDGET_PROPERTY, 1 << 22);
        return g.pointwise() ? g.B() : Math.max(1, Math.min(g.B(), budget / Math.max(1, g.K() * g.P())));
    }

    /** Output positions per forward GEMM: a multiple of 16 with K × block ≈ {@link #COLUMN_BLOCK_FLOATS}. */
    private static int columnBlock(ConvGeometry g) {
        return Math.min(g.P(), Math.max(16, COLUMN_BLOCK_FLOATS / Math.max(1, g.K()) / 16 * 16));
    }

    /**
     * The column matrices (n, K, P) of samples [b0, b0 + n): im2col into {@code cols} (group, K, P), or x itself
     * when {@code cols} is null (a pointwise conv).
     */
    private static Tensor columns(Backend be, Tensor cols, Tensor x, int b0, int n, ConvGeometry g) {
        Tensor xb = x.slice(0, b0, b0 + n);
        if (cols == null) {
            return xb.reshape(n, g.K(), g.P());
        }
        Tensor c = cols.slice(0, 0, n);
        be.im2col(c, xb, n, g.Cin(), g.H(), g.W(), g.kh(), g.kw(), g.stride(), g.padTop(), g.padLeft(), g.OH(), g.OW());
        return c;
    }

    // x (B,Cin,H,W), w (Cout,Cin,kh,kw), b (Cout) or null -> out (B,Cout,OH,OW), written
    static void forward(Backend be, Tensor out, Tensor x, Tensor w, Tensor bias, ConvGeometry g) {
        int B = g.B(), Cout = g.Cout(), K = g.K(), P = g.P(), group = group(g);
        if (bias != null) { // out[b] = bias ⊗ 1 (a K = 1 product), then the main product adds onto it
            Tensor ones = Tensor.zeros(x.device(), x.dtype(), P);
            be.fill(ones, 1f);
            be.gemm(false, false, B, Cout, P, 1, 1f, bias, 1, 0, ones, P, 0, 0f, out, P, Cout * P);
        }
        Tensor cols = g.pointwise() ? null : Tensor.zeros(x.device(), x.dtype(), group, K, P);
        for (int b0 = 0; b0 < B; b0 += group) {
            int n = Math.min(group, B - b0);
            Tensor colsB = columns(be, cols, x, b0, n, g);
            // column blocks of cols (K, pb) small enough to stay in cache while every output channel reads them
            Tensor outB = out.slice(0, b0, b0 + n).reshape(n, Cout, P);
            for (int p0 = 0; p0 < P; p0 += columnBlock(g)) {
                int pb = Math.min(columnBlock(g), P - p0);
                be.gemm(false, false, n, Cout, pb, K, 1f, w, K, 0, colsB.slice(2, p0, p0 + pb), P, K * P,
                        bias == null ? 0f : 1f, outB.slice(2, p0, p0 + pb), P, Cout * P);
            }
        }
    }

    // dout (B,Cout,OH,OW), w (Cout,Cin,kh,kw) -> dx (B,Cin,H,W), written
    static void inputGrad(Backend be, Tensor dx, Tensor dout, Tensor w, ConvGeometry g) {
        int B = g.B(), Cout = g.Cout(), K = g.K(), P = g.P(), group = group(g);
        Tensor cols = g.pointwise() ? null : Tensor.zeros(dx.device(), dx.dtype(), group, K, P);
        if (cols != null) {
            be.fill(dx, 0f);
        }
        for (int b0 = 0; b0 < B; b0 += group) { // dcols (K, P) = wᵀ (K, Cout) · dout (Cout, P); dx = col2im(dcols)
            int n = Math.min(group, B - b0);
            Tensor dxb = dx.slice(0, b0, b0 + n), dcols = cols == null ? dxb : cols.slice(0, 0, n);
            be.gemm(true, false, n, K, P, Cout, 1f, w, K, 0, dout.slice(0, b0, b0 + n), P, Cout * P, 0f, dcols, P,
                    K * P);
            if (cols != null) {
                be.col2im(dxb, dcols, n, g.Cin(), g.H(), g.W(), g.kh(), g.kw(), g.stride(), g.padTop(), g.padLeft(),
                        g.OH(), g.OW());
            }
        }
    }

    // dout (B,Cout,OH,OW), x (B,Cin,H,W) -> dw (Cout,Cin,kh,kw), written
    static void weightGrad(Backend be, Tensor dw, Tensor dout, Tensor x, ConvGeometry g) {
        int B = g.B(), Cout = g.Cout(), K = g.K(), P = g.P(), group = group(g);
        // dw (Cout, K) = Σ_b dout_b (Cout, P) · cols_bᵀ (P, K), summed over samples in order
        if (B == 0) {
            be.fill(dw, 0f);
            return;
        }
        Tensor cols = g.pointwise() ? null : Tensor.zeros(x.device(), x.dtype(), group, K, P);
        for (int b0 = 0; b0 < B; b0 += group) {
            int n = Math.min(group, B - b0);
            Tensor colsB = columns(be, cols, x, b0, n, g);
            for (int i = 0; i < n; i++) {
                int s = b0 + i;
                be.gemm(false, true, 1, Cout, K, P, 1f, dout.select(0, s), P, 0, colsB.select(0, i), P, 0,
                        s == 0 ? 0f : 1f, dw, K, 0);
            }
        }
    }
}
