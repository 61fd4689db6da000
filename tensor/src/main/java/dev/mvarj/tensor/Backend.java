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

    /** A zero-filled storage of {@code length} elements on this device. */
    Storage allocate(DType dtype, int length);

    /** Copies {@code host} into {@code dst} (contiguous, F32). */
    void upload(Tensor dst, float[] host);

    /** Copies {@code host} into {@code dst} (contiguous, I32). */
    void upload(Tensor dst, int[] host);

    /** The elements of {@code src} (any strides, F32) in row-major order. */
    float[] downloadFloats(Tensor src);

    /** The elements of {@code src} (any strides, I32) in row-major order. */
    int[] downloadInts(Tensor src);

    /** {@code dst (shape) <- src (shape)}: strided copy; src may have zero strides (broadcast), dst is contiguous. */
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

    /** {@code out (shape) = op(x (shape))}; x may be strided, out is contiguous. */
    void unary(UnaryOp op, Tensor out, Tensor x);

    /**
     * {@code out (shape) = op(a, b)}: a and b already have out's shape, with zero strides where they broadcast
     * ({@link Tensor#expand}); out is contiguous.
     */
    void binary(BinaryOp op, Tensor out, Tensor a, Tensor b);

    /** {@code x (outer, n, inner) -> out (outer, inner)}: reduces the middle axis. */
    void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner);

    /** {@code x (outer, n, inner) -> out (outer, inner), I32}: the first index of the maximum along the middle axis. */
    void argmax(Tensor out, Tensor x, int outer, int n, int inner);

    /** {@code x (rows, n) -> out (rows, n)}: softmax over the last axis, max-subtracted. */
    void softmax(Tensor out, Tensor x, int rows, int n);

    /** {@code x (rows, n) -> out (rows, n)}: log-softmax over the last axis. */
    void logSoftmax(Tensor out, Tensor x, int rows, int n);
}
