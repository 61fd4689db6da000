package dev.mvarj.tensor;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * AREA and BICUBIC image resizing exactly as PyTorch's {@code F.interpolate} (docs/model.md#resampling), as fixed separable
 * 1-D matrices: {@code Y = A_h · X · A_wᵀ} for every (B, C) plane, computed with GEMM. Both modes are linear, so
 * their gradient is the same product with the transposed matrices ({@link #resizeBackward}).
 *
 * <p>Matrices are computed in double, rounded once to the dtype of the image (F32, or F64 under the double-precision
 * gradient checks), and cached per (mode, n, o), dtype and device: a resize on an accelerator uploads its matrices
 * once, not on every call.
 */
public final class Resampling {

    /** The two interpolation modes the tokenizer uses. */
    public enum Mode {
        /** {@code mode='area'}: adaptive average pooling, windows [⌊i·n/o⌋, ⌈(i+1)·n/o⌉), overlapping when o ∤ n. */
        AREA,
        /** {@code mode='bicubic', align_corners=False}, no antialias: Keys a = −0.75, taps clamped to the edge. */
        BICUBIC
    }

    /** The Keys cubic convolution parameter PyTorch uses. */
    public static final double BICUBIC_A = -0.75;

    private record Key(Mode mode, int n, int o, boolean transposed, DType dtype, Device device) {
    }

    private static final Map<Key, Tensor> CACHE = new ConcurrentHashMap<>();

    private Resampling() {
    }

    /** The AREA matrix (o, n): row i averages the inputs [⌊i·n/o⌋, ⌈(i+1)·n/o⌉). */
    public static Tensor area(int n, int o) {
        return matrix(Mode.AREA, n, o);
    }

    /** The BICUBIC matrix (o, n) of {@code align_corners=False}. */
    public static Tensor bicubic(int n, int o) {
        return matrix(Mode.BICUBIC, n, o);
    }

    /** The (o, n) matrix mapping a length-n signal to length o (cached; do not write into it). */
    public static Tensor matrix(Mode mode, int n, int o) {
        return cached(mode, n, o, false, DType.F32, Device.CPU);
    }

    private static Tensor cached(Mode mode, int n, int o, boolean transposed, DType dtype, Device device) {
        if (n < 1 || o < 1) {
            throw new IllegalArgumentException("Resampling." + mode + ": sizes must be >= 1, got " + n + " -> " + o);
        }
        if (!device.isCpu()) {
            Tensor host = cached(mode, n, o, transposed, dtype, Device.CPU); // outside: no recursive map update
            return CACHE.computeIfAbsent(new Key(mode, n, o, transposed, dtype, device),
                    k -> MemoryScope.untracked(() -> host.to(device)));
        }
        return CACHE.computeIfAbsent(new Key(mode, n, o, transposed, dtype, device), k -> MemoryScope.untracked(() -> {
            double[][] m = weights(mode, n, o);
            double[] v = new double[o * n];
            for (int i = 0; i < o; i++) {
                for (int j = 0; j < n; j++) {
                    v[transposed ? j * o + i : i * n + j] = m[i][j];
                }
            }
            return Tensor.of(v, transposed ? new int[]{n, o} : new int[]{o, n}).to(dtype);
        }));
    }

    /** The weights in double: (o, n). */
    static double[][] weights(Mode mode, int n, int o) {
        double[][] m = new double[o][n];
        if (mode == Mode.AREA) {
            for (int i = 0; i < o; i++) {
                int start = (int) ((long) i * n / o), end = (int) (((long) (i + 1) * n + o - 1) / o);
                Arrays.fill(m[i], start, end, 1.0 / (end - start));
            }
            return m;
        }
        double scale = (double) n / o;
        for (int j = 0; j < o; j++) {
            double u = (j + 0.5) * scale - 0.5; // no clamp at 0 for cubic, as PyTorch
            int i0 = (int) Math.floor(u);
            double t = u - i0;
            double[] w = {cubicFar(1 + t), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)};
            for (int tap = 0; tap < 4; tap++) {
                int src = Math.min(Math.max(i0 - 1 + tap, 0), n - 1);
                m[j][src] += w[tap];
            }
        }
        return m;
    }

    // Keys kernel, |d| ≤ 1: (a+2)|d|³ − (a+3)|d|² + 1
    private static double cubicNear(double d) {
        double a = BICUBIC_A;
        return ((a + 2) * d - (a + 3)) * d * d + 1;
    }

    // Keys kernel, 1 < |d| < 2: a|d|³ − 5a|d|² + 8a|d| − 4a
    private static double cubicFar(double d) {
        double a = BICUBIC_A;
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
    }

    /**
     * {@code x (..., h, w) -> (..., oh, ow)}: F.interpolate(x, size=(oh, ow), mode) on every plane. No gradient: the
     * tokenizer's path; autograd's ops call this and {@link #resizeBackward}. Same size returns a copy.
     */
    public static Tensor resize(Tensor x, Mode mode, int oh, int ow) {
        int h = x.size(-2), w = x.size(-1);
        if (oh == h && ow == w) {
            return x.copy();
        }
        return separable(x, cached(mode, h, oh, false, x.dtype(), x.device()),
                cached(mode, w, ow, true, x.dtype(), x.device()), oh, ow);
    }

    /**
     * The gradient of {@link #resize}: {@code g (..., oh, ow) -> dx (..., h, w) = A_hᵀ · g · A_w} per plane.
     */
    public static Tensor resizeBackward(Tensor g, Mode mode, int h, int w) {
        int oh = g.size(-2), ow = g.size(-1);
        if (oh == h && ow == w) {
            return g.copy();
        }
        return separable(g, cached(mode, h, oh, true, g.dtype(), g.device()),
                cached(mode, w, ow, false, g.dtype(), g.device()), h, w);
    }

    /** {@code x (..., h, w), mh (oh, h), mwT (w, ow) -> mh · x · mwT (..., oh, ow)} with two GEMMs. */
    private static Tensor separable(Tensor x, Tensor mh, Tensor mwT, int oh, int ow) {
        if (x.rank() < 2) {
            throw new ShapeMismatchException("resize: expected x (..., h, w), got " + Shape.str(x.shape()));
        }
        x.requireFloating("resize");
        int[] shape = x.shape();
        int h = shape[shape.length - 2], w = shape[shape.length - 1], planes = x.numel() / Math.max(1, h * w);
        Tensor rows = x.contiguous().reshape(planes * h, w).matmul(mwT);   // (planes·h, ow)
        Tensor out = mh.matmul(rows.reshape(planes, h, ow));                // (planes, oh, ow)
        int[] outShape = shape.clone();
        outShape[shape.length - 2] = oh;
        outShape[shape.length - 1] = ow;
        return out.reshape(outShape);
    }
}
