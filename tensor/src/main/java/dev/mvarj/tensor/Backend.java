package dev.mvarj.tensor;

/**
 * The device seam: every kernel the engine runs, with explicit shapes, so each maps one-to-one onto a GPU kernel.
 *
 * <p>Conventions. A tensor argument stands for its storage plus its offset; unless a kernel says otherwise, it must
 * be contiguous row-major and live on this backend's device. Outputs are written, never accumulated into, unless
 * the kernel has a {@code beta} or says "accumulates". Shapes in comments use the llm.c style:
 * {@code x (rows, n) -> out (rows, n)}.
 *
 * <p>{@code ReferenceBackend} is the definition of every kernel; the other backends are tested against it.
 */
public interface Backend {

    /** A short name: "reference", "simd", "opencl". */
    String name();

    Device device();

    /**
     * Waits until every kernel queued so far has finished (a device runs asynchronously; CPU kernels return when
     * done, so this is a no-op there). Reading a tensor back synchronises implicitly; benchmarks call this.
     */
    default void synchronize() {
    }

    /**
     * Device nanoseconds spent in the kernels that finished since the last call, or −1 when this backend does not
     * measure device time (the CPU backends; an OpenCL backend without its profiling queue). Profilers call it
     * after {@link #synchronize()} to split an op's wall time into device time and the rest.
     */
    default long drainDeviceNanos() {
        return -1;
    }

    /** A zero-filled storage of {@code length} elements on this device (F64 only on the CPU). */
    Storage allocate(DType dtype, int length);

    /**
     * Storage of {@code length} elements whose contents are unspecified until written: for the output of a kernel that
     * writes every element (a CPU backend may hand back a recycled array as it was, skipping the zero fill).
     * By default {@link #allocate}.
     */
    default Storage allocateUninitialized(DType dtype, int length) {
        return allocate(dtype, length);
    }

    /** Copies {@code host} into {@code dst} (contiguous, F32). */
    void upload(Tensor dst, float[] host);

    /** Copies {@code host} into {@code dst} (contiguous, I32). */
    void upload(Tensor dst, int[] host);

    /** The elements of {@code src} (any strides, F32) in row-major order. */
    float[] downloadFloats(Tensor src);

    /** The elements of {@code src} (any strides, I32) in row-major order. */
    int[] downloadInts(Tensor src);

    /** Copies {@code host} into {@code dst} (contiguous, F64; only backends that hold F64, the CPU ones). */
    void upload(Tensor dst, double[] host);

    /** The elements of {@code src} (any strides, F64) in row-major order. */
    double[] downloadDoubles(Tensor src);

    /**
     * {@code dst (shape) <- src (shape)}: strided copy. src may have zero strides (broadcast); dst may be any view
     * whose elements do not overlap (e.g. a slice being filled by concat or by slice's backward).
     */
    void copy(Tensor dst, Tensor src);

    /** Every element of {@code dst} (contiguous) set to {@code value} (cast to int for I32). */
    void fill(Tensor dst, float value);

    /**
     * Batched SGEMM: {@code C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i]} for {@code i < batch}.
     *
     * <p>op(A) is (M, K): A is stored (M, K) with row stride {@code lda}, or (K, M) when {@code transA}. op(B) is
     * (K, N): B is stored (K, N) with row stride {@code ldb}, or (N, K) when {@code transB}. C is (M, N) with row
     * stride {@code ldc}. Matrix i starts at offset + i · stride of its tensor. With {@code beta == 0}, C is not
     * read (NaNs in C do not propagate), as in BLAS.
     */
    void gemm(boolean transA, boolean transB, int batch, int M, int N, int K,
              float alpha, Tensor a, int lda, int strideA,
              Tensor b, int ldb, int strideB,
              float beta, Tensor c, int ldc, int strideC);

    /**
     * A linear layer's forward: {@code out (rows, cout) = x (rows, cin) · wᵀ + bias}, with x, w (cout, cin) and out
     * contiguous and bias (cout) contiguous or null. By default a GEMM then a broadcast add; a backend may add the
     * bias in the pass that writes the product (one read and write of out fewer).
     */
    default void linear(Tensor out, Tensor x, Tensor w, Tensor bias, int rows, int cin, int cout) {
        gemm(false, true, 1, rows, cout, cin, 1f, x, cin, 0, w, cin, 0, 0f, out, cout, 0);
        if (bias != null) {
            binary(BinaryOp.ADD, out, out, bias.expand(rows, cout));
        }
    }

    /** {@code out (shape) = op(x (shape))}; x may be strided, out is contiguous. */
    void unary(UnaryOp op, Tensor out, Tensor x);

    /**
     * {@code out (shape) = op(a, b)}: a and b already have out's shape, with zero strides where they broadcast
     * ({@link Tensor#expand}); out is contiguous.
     */
    void binary(BinaryOp op, Tensor out, Tensor a, Tensor b);

    /**
     * {@code out (shape) = cond != 0 ? a : b}: cond (I32), a and b already have out's shape (zero strides where they
     * broadcast); out is contiguous.
     */
    void where(Tensor out, Tensor cond, Tensor a, Tensor b);

    /** {@code x (outer, n, inner) -> out (outer, inner)}: reduces the middle axis. */
    void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner);

    /** {@code x (outer, n, inner) -> out (outer, inner), I32}: the first index of the maximum along the middle axis. */
    void argmax(Tensor out, Tensor x, int outer, int n, int inner);

    /** {@code x (rows, n) -> out (rows, n)}: softmax over the last axis, max-subtracted. */
    void softmax(Tensor out, Tensor x, int rows, int n);

    /** {@code x (rows, n) -> out (rows, n)}: log-softmax over the last axis. */
    void logSoftmax(Tensor out, Tensor x, int rows, int n);

    /** {@code y, dy (rows, n) -> dx (rows, n)}: softmax backward, dx = y ⊙ (dy − Σ dy ⊙ y). */
    void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n);

    /** {@code y, dy (rows, n) -> dx (rows, n)}: log-softmax backward, dx = dy − exp(y) · Σ dy. */
    void logSoftmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n);

    // ------------------------------------------------------------------------------------------ optimiser

    /**
     * Σ x² over {@code x (n)} (contiguous), accumulated in a fixed order (global-norm clipping). A synchronisation
     * point: the value comes back to the host.
     */
    double sumOfSquares(Tensor x, int n);

    /**
     * One AdamW step over {@code n} contiguous elements, in place, with PyTorch's semantics and operation order:
     * g' = gradScale · g; p −= lr · wd · p; m = β1 m + (1 − β1) g'; v = β2 v + (1 − β2) g'²;
     * p −= (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps).
     */
    void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, int n, float lr, float beta1, float beta2, float eps,
                   float weightDecay, int step, float gradScale);

    // ------------------------------------------------------------------------------------------ indexing

    /**
     * {@code x (outer, n, inner), index (m) I32 -> out (outer, m, inner)}: out[o, j, i] = x[o, index[j], i]
     * (index-select along the middle axis; embedding is the case outer = 1). Throws on an index outside [0, n).
     */
    void indexSelect(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m);

    /** The backward of {@link #indexSelect}: {@code dx[o, index[j], i] += dout[o, j, i]}; accumulates into dx. */
    void indexAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m);

    /**
     * {@code x (outer, n, inner), index (outer, m, inner) I32 -> out (outer, m, inner)}:
     * out[o, j, i] = x[o, index[o, j, i], i] (torch.gather along the middle axis).
     */
    void gather(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m);

    /** The backward of {@link #gather}: {@code dx[o, index[o, j, i], i] += dout[o, j, i]}; accumulates into dx. */
    void scatterAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m);

    // ------------------------------------------------------------------------------------------ normalisation, loss

    /**
     * Layer norm over the last axis: {@code x (rows, C) -> out (rows, C), mean (rows), rstd (rows)};
     * out = (x − mean) · rstd · w + b, rstd = 1/√(var + eps) with the biased variance. w and b (C) may be null
     * (no affine parameters).
     */
    void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                          int rows, int C, float eps);

    /**
     * Layer norm backward: {@code dout, x (rows, C), mean, rstd (rows) -> dx (rows, C)}, and when w is not null
     * dw, db (C) (written, not accumulated).
     */
    void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                           Tensor w, int rows, int C);

    /**
     * Row-wise L2 normalisation: {@code x (rows, n) -> y (rows, n) = x / max(‖x‖, eps), norm (rows) = ‖x‖} (the
     * norm before the clamp), both written. By default a chain of tensor ops.
     */
    default void l2NormalizeForward(Tensor y, Tensor norm, Tensor x, int rows, int n, float eps) {
        Tensor x2 = x.contiguous().reshape(rows, n);
        Tensor nrm = x2.mul(x2).sum(1, true).sqrt();
        copy(norm.reshape(rows, 1), nrm);
        copy(y.reshape(rows, n), x2.div(nrm.maximum(Tensor.scalar(x.device(), eps))));
    }

    /**
     * Its backward: {@code g, y (rows, n), norm (rows) -> dx (rows, n) = (g − m · y · Σ(g ⊙ y)) / max(norm, eps)},
     * written, with m = 1 where norm ≥ eps and 0 where the clamp holds the denominator constant.
     */
    default void l2NormalizeBackward(Tensor dx, Tensor g, Tensor y, Tensor norm, int rows, int n, float eps) {
        Tensor g2 = g.contiguous().reshape(rows, n), y2 = y.contiguous().reshape(rows, n);
        Tensor n1 = norm.contiguous().reshape(rows, 1), low = Tensor.scalar(norm.device(), eps).expand(rows, 1);
        Tensor live = Tensor.zeros(norm.device(), norm.dtype(), rows, 1);
        binary(BinaryOp.GE, live, n1, low);
        Tensor dot = g2.mul(y2).sum(1, true).mul(live);
        copy(dx.reshape(rows, n), g2.sub(y2.mul(dot)).div(n1.maximum(Tensor.scalar(norm.device(), eps))));
    }

    /**
     * Fused softmax cross-entropy: {@code logits (N, V), target (N) I32, weight (N) -> loss (N), lse (N)}:
     * loss_i = weight_i · [(1 − ε) · (lse_i − logit_{i,t}) + ε · (lse_i − mean_v logit_{i,v})], with
     * lse the log-sum-exp of the row and ε the label smoothing (as torch's label_smoothing).
     */
    void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor target, Tensor weight,
                             int N, int V, float smoothing);

    /**
     * Cross-entropy backward: {@code dlogits (N, V) = dloss_i · weight_i · (softmax_i − (1 − ε) onehot_t − ε / V)},
     * with dloss (N) the upstream gradient of each row's loss and lse from the forward.
     */
    void crossEntropyBackward(Tensor dlogits, Tensor dloss, Tensor logits, Tensor lse, Tensor target, Tensor weight,
                              int N, int V, float smoothing);

    // ------------------------------------------------------------------------------------------ attention
    // (attention and neighbourhood attention kernels)

    /**
     * Scaled dot-product attention with the log-sum-exp saved for backward:
     * {@code q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq)}, with
     * s_ij = scale · q_i·k_j (+ bias_ij for an additive mask; keys outside a key range are skipped),
     * lse_i = log Σ_j exp(s_ij), out_i = Σ_j exp(s_ij − lse_i) · v_j. The mask broadcasts over (B, H).
     * A fully masked row gives out_i = 0 and lse_i = −inf, never NaN. Fast backends must not materialise the
     * (Lq, Lk) matrix (online softmax over key blocks).
     */
    void attentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, AttentionMask mask,
                          int B, int H, int Lq, int Lk, int d, float scale);

    /**
     * Attention backward, recomputing the probabilities from lse (FlashAttention-2):
     * {@code dout, q, out (B,H,Lq,d), k, v (B,H,Lk,d), lse (B,H,Lq) -> dq (B,H,Lq,d), dk, dv (B,H,Lk,d)}, with
     * P_ij = exp(s_ij − lse_i), D_i = Σ dout_i ⊙ out_i, dP_ij = dout_i·v_j, dS = P ⊙ (dP − D):
     * dv = Pᵀ·dout, dq = scale · dS·k, dk = scale · dSᵀ·q. Outputs are written, not accumulated;
     * results do not depend on the number of threads.
     */
    void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k, Tensor v,
                           Tensor out, Tensor lse, AttentionMask mask,
                           int B, int H, int Lq, int Lk, int d, float scale);

    /**
     * 2-D neighbourhood attention over a gather table ({@link Neighborhood#table}): {@code q, k, v (B,H,N,d)} with
     * N = grid² tokens row-major {@code -> out (B,H,N,d), lse (B,H,N)}. Query n attends to exactly kernel² keys
     * (NATTEN's clamped window); it is dense attention with {@link Neighborhood#additiveMask} at O(N·k²·d) cost.
     * Requires grid ≥ kernel.
     */
    void neighborhoodAttentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v,
                                      int B, int H, int grid, int kernel, int d, float scale);

    /**
     * Neighbourhood attention backward: {@code dout, q, k, v, out (B,H,N,d), lse (B,H,N) -> dq, dk, dv (B,H,N,d)},
     * the same formulas as {@link #attentionBackward} restricted to the neighbour table; written, not accumulated.
     */
    void neighborhoodAttentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k, Tensor v,
                                       Tensor out, Tensor lse, int B, int H, int grid, int kernel, int d, float scale);

    // ------------------------------------------------------------------------------------------ vision
    // (conv2d, resampling, group norm kernels)

    /**
     * im2col for a 2-D convolution with zero padding: {@code x (B, C, H, W) -> cols (B, C·kh·kw, OH·OW)} with
     * cols[b, (c·kh + i)·kw + j, oh·OW + ow] = x[b, c, oh·stride − padTop + i, ow·stride − padLeft + j], or 0 where
     * that position falls outside the image. The bottom and right padding are implied by OH and OW.
     */
    void im2col(Tensor cols, Tensor x, int B, int C, int H, int W, int kh, int kw, int stride,
                int padTop, int padLeft, int OH, int OW);

    /**
     * The adjoint of {@link #im2col}: {@code cols (B, C·kh·kw, OH·OW) -> dx (B, C, H, W)}; accumulates into dx.
     * Entries that fall into the padding are dropped. Each element of dx sums its contributions in (i, j, oh, ow)
     * order, so the result does not depend on the thread count.
     */
    void col2im(Tensor dx, Tensor cols, int B, int C, int H, int W, int kh, int kw, int stride,
                int padTop, int padLeft, int OH, int OW);

    /**
     * 2-D convolution forward: {@code x (B, Cin, H, W), w (Cout, Cin, kh, kw), bias (Cout) or null ->
     * out (B, Cout, OH, OW)}, written (see {@link ConvGeometry} for the definition). By default im2col and a GEMM
     * per group of samples; a backend may run a direct kernel instead.
     */
    default void conv2d(Tensor out, Tensor x, Tensor w, Tensor bias, ConvGeometry g) {
        Im2colConv.forward(this, out, x, w, bias, g);
    }

    /**
     * conv2d's input gradient: {@code dout (B, Cout, OH, OW), w (Cout, Cin, kh, kw) -> dx (B, Cin, H, W)}, written.
     * By default a GEMM (wᵀ · dout) per sample group, then col2im.
     */
    default void conv2dInputGrad(Tensor dx, Tensor dout, Tensor w, ConvGeometry g) {
        Im2colConv.inputGrad(this, dx, dout, w, g);
    }

    /**
     * conv2d's weight gradient: {@code dout (B, Cout, OH, OW), x (B, Cin, H, W) -> dw (Cout, Cin, kh, kw)},
     * written; summed in a fixed order, so the result does not depend on the thread count.
     */
    default void conv2dWeightGrad(Tensor dw, Tensor dout, Tensor x, ConvGeometry g) {
        Im2colConv.weightGrad(this, dw, dout, x, g);
    }

    /**
     * Nearest-neighbour ×2 upsampling: {@code x (B, C, H, W) -> out (B, C, 2H, 2W)}, written, with
     * out[b, c, i, j] = x[b, c, i / 2, j / 2]. By default a copy of x expanded over two new axes.
     */
    default void upsampleNearest2x(Tensor out, Tensor x, int B, int C, int H, int W) {
        copy(out.reshape(B, C, H, 2, W, 2), x.reshape(B, C, H, 1, W, 1).expand(B, C, H, 2, W, 2));
    }

    /**
     * upsampleNearest2x's input gradient: {@code dout (B, C, 2H, 2W) -> dx (B, C, H, W)}, written; each element is
     * the sum of the 2×2 block it was copied to, added as (d[2i][2j] + d[2i][2j+1]) + (d[2i+1][2j] + d[2i+1][2j+1]).
     * By default two axis sums (the inner axis first, giving that order).
     */
    default void upsampleNearest2xBackward(Tensor dx, Tensor dout, int B, int C, int H, int W) {
        copy(dx, dout.contiguous().reshape(B, C, H, 2, W, 2).sum(5, false).sum(3, false));
    }

    /**
     * Group norm: {@code x (B, C, HW) -> out (B, C, HW), mean (B, G), rstd (B, G)}; each of the G groups of C/G
     * consecutive channels is normalised over its (C/G)·HW elements: out = (x − mean) · rstd · w[c] + b[c],
     * rstd = 1/√(var + eps) with the biased variance. w and b (C) may be null (no affine parameters).
     */
    void groupNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                          int B, int C, int HW, int G, float eps);

    /**
     * Group norm backward: {@code dout, x (B, C, HW), mean, rstd (B, G) -> dx (B, C, HW)}, and when w is not null
     * dw, db (C) (written, not accumulated; summed over the batch in batch order).
     */
    void groupNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                           Tensor w, int B, int C, int HW, int G);
}
