package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.ReduceOp;
import dev.mvarj.tensor.Storage;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;

import static dev.mvarj.tensor.cpu.Host.contiguous;
import static dev.mvarj.tensor.cpu.Host.f;
import static dev.mvarj.tensor.cpu.Host.i;

/**
 * The definition of every kernel: plain scalar loops on one thread, written to be read. Sums accumulate in double.
 * The SIMD and GPU backends are tested against this class on odd shapes; it is never optimised.
 */
public class ReferenceBackend implements Backend {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        return new HostStorage(dtype, length);
    }

    @Override
    public void upload(Tensor dst, float[] host) {
        System.arraycopy(host, 0, f(contiguous("upload", dst)), dst.offset(), dst.numel());
    }

    @Override
    public void upload(Tensor dst, int[] host) {
        System.arraycopy(host, 0, i(contiguous("upload", dst)), dst.offset(), dst.numel());
    }

    @Override
    public float[] downloadFloats(Tensor src) {
        int n = src.numel();
        int[] off = new int[n];
        Host.offsets(src, 0, n, off);
        float[] s = f(src), out = new float[n];
        for (int k = 0; k < n; k++) {
            out[k] = s[off[k]];
        }
        return out;
    }

    @Override
    public int[] downloadInts(Tensor src) {
        int n = src.numel();
        int[] off = new int[n];
        Host.offsets(src, 0, n, off);
        int[] s = i(src), out = new int[n];
        for (int k = 0; k < n; k++) {
            out[k] = s[off[k]];
        }
        return out;
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        contiguous("copy", dst);
        int n = dst.numel();
        int[] off = new int[n];
        Host.offsets(src, 0, n, off);
        if (dst.dtype() == DType.F32) {
            float[] s = f(src), d = f(dst);
            for (int k = 0; k < n; k++) {
                d[dst.offset() + k] = s[off[k]];
            }
        } else {
            int[] s = i(src), d = i(dst);
            for (int k = 0; k < n; k++) {
                d[dst.offset() + k] = s[off[k]];
            }
        }
    }

    @Override
    public void fill(Tensor dst, float value) {
        contiguous("fill", dst);
        if (dst.dtype() == DType.F32) {
            java.util.Arrays.fill(f(dst), dst.offset(), dst.offset() + dst.numel(), value);
        } else {
            java.util.Arrays.fill(i(dst), dst.offset(), dst.offset() + dst.numel(), (int) value);
        }
    }

    // C[i] (M,N) = alpha · op(A[i]) (M,K) · op(B[i]) (K,N) + beta · C[i]
    @Override
    public void gemm(boolean transA, boolean transB, int batch, int M, int N, int K,
                     float alpha, Tensor a, int lda, int strideA,
                     Tensor b, int ldb, int strideB,
                     float beta, Tensor c, int ldc, int strideC) {
        float[] A = f(a), B = f(b), C = f(c);
        for (int bi = 0; bi < batch; bi++) {
            int ao = a.offset() + bi * strideA, bo = b.offset() + bi * strideB, co = c.offset() + bi * strideC;
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < N; n++) {
                    double acc = 0;
                    for (int k = 0; k < K; k++) {
                        float av = transA ? A[ao + k * lda + m] : A[ao + m * lda + k];
                        float bv = transB ? B[bo + n * ldb + k] : B[bo + k * ldb + n];
                        acc += (double) av * bv;
                    }
                    int ci = co + m * ldc + n;
                    C[ci] = (float) (alpha * acc + (beta == 0f ? 0.0 : (double) beta * C[ci]));
                }
            }
        }
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x) {
        contiguous("unary", out);
        int n = out.numel();
        int[] off = new int[n];
        Host.offsets(x, 0, n, off);
        float[] X = f(x), O = f(out);
        for (int k = 0; k < n; k++) {
            O[out.offset() + k] = op.apply(X[off[k]]);
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        contiguous("binary", out);
        int n = out.numel();
        int[] offA = new int[n], offB = new int[n];
        Host.offsets(a, 0, n, offA);
        Host.offsets(b, 0, n, offB);
        float[] A = f(a), B = f(b), O = f(out);
        for (int k = 0; k < n; k++) {
            O[out.offset() + k] = op.apply(A[offA[k]], B[offB[k]]);
        }
    }

    // x (outer, n, inner) -> out (outer, inner)
    @Override
    public void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        float[] X = f(contiguous("reduce", x)), O = f(contiguous("reduce", out));
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int base = x.offset() + o * n * inner + in;
                float r;
                if (op == ReduceOp.MAX) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < n; k++) {
                        float v = X[base + k * inner];
                        m = Float.isNaN(v) || v > m ? v : m;
                        if (Float.isNaN(m)) {
                            break;
                        }
                    }
                    r = m;
                } else {
                    double s = 0;
                    for (int k = 0; k < n; k++) {
                        s += X[base + k * inner];
                    }
                    r = (float) (op == ReduceOp.MEAN ? s / n : s);
                }
                O[out.offset() + o * inner + in] = r;
            }
        }
    }

    // x (outer, n, inner) -> out (outer, inner) I32: first index of the maximum (a NaN counts as the maximum)
    @Override
    public void argmax(Tensor out, Tensor x, int outer, int n, int inner) {
        float[] X = f(contiguous("argmax", x));
        int[] O = i(contiguous("argmax", out));
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int base = x.offset() + o * n * inner + in;
                int best = 0;
                float m = X[base];
                for (int k = 1; k < n && !Float.isNaN(m); k++) {
                    float v = X[base + k * inner];
                    if (v > m || Float.isNaN(v)) {
                        m = v;
                        best = k;
                    }
                }
                O[out.offset() + o * inner + in] = best;
            }
        }
    }

    // x (rows, n) -> out (rows, n): out = exp(x - max) / sum(exp(x - max))
    @Override
    public void softmax(Tensor out, Tensor x, int rows, int n) {
        float[] X = f(contiguous("softmax", x)), O = f(contiguous("softmax", out));
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * n, oo = out.offset() + r * n;
            float max = rowMax(X, xo, n);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += Math.exp(X[xo + k] - max);
            }
            for (int k = 0; k < n; k++) {
                O[oo + k] = (float) (Math.exp(X[xo + k] - max) / sum);
            }
        }
    }

    // x (rows, n) -> out (rows, n): out = x - max - log(sum(exp(x - max)))
    @Override
    public void logSoftmax(Tensor out, Tensor x, int rows, int n) {
        float[] X = f(contiguous("logSoftmax", x)), O = f(contiguous("logSoftmax", out));
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * n, oo = out.offset() + r * n;
            float max = rowMax(X, xo, n);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += Math.exp(X[xo + k] - max);
            }
            double lse = max + Math.log(sum);
            for (int k = 0; k < n; k++) {
                O[oo + k] = (float) (X[xo + k] - lse);
            }
        }
    }

    private static float rowMax(float[] x, int from, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            m = Math.max(m, x[from + k]);
        }
        return m;
    }
}
