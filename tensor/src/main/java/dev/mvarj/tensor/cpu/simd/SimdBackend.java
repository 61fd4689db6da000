package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.ConvGeometry;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.ReduceOp;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;
import dev.mvarj.tensor.cpu.Host;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static dev.mvarj.tensor.cpu.Host.contiguous;
import static dev.mvarj.tensor.cpu.Host.f;
import static dev.mvarj.tensor.cpu.Host.i;

/**
 * The fast CPU backend: Vector API kernels (the preferred species, 16 floats on AVX-512) run on the
 * {@link WorkerPool}. Every kernel has the same contract as its {@link ReferenceBackend} definition and is tested
 * against it; allocation, uploads and strided copies are inherited from it, since they are memory-bound moves.
 * F64 tensors can be stored and converted here; the compute kernels are F32 and refuse them (F64 is computed by the
 * reference backend, for the double-precision gradient checks).
 *
 * <p>All {@code jdk.incubator.vector} imports of the project live in this package.
 */
public final class SimdBackend extends ReferenceBackend {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final FloatVector ZERO = FloatVector.zero(S), ONE = FloatVector.broadcast(S, 1f);

    /** GELU's constants in float: √(2/π) and the cubic coefficient 0.044715. */
    private static final float GELU_C = (float) UnaryOp.GELU_C, GELU_K = 0.044715f;

    /** Elements per chunk of element-wise kernels: large enough to amortise the hand-off, small for balance. */
    private static final int ELEMENT_GRAIN = 1 << 14;

    private final WorkerPool pool;

    public SimdBackend(WorkerPool pool) {
        this.pool = pool;
    }

    public WorkerPool pool() {
        return pool;
    }

    /** "512-bit, 16 float lanes". */
    public static String describeSpecies() {
        return S.vectorBitSize() + "-bit, " + L + " float lanes";
    }

    @Override
    public String name() {
        return "simd";
    }

    /** Rows per chunk for row-wise kernels, so that a chunk holds about {@link #ELEMENT_GRAIN} elements. */
    static int rowGrain(int rowLength) {
        return Math.max(1, ELEMENT_GRAIN / Math.max(1, rowLength));
    }

    // ---------------------------------------------------------------------------------------------------- copies

    @Override
    public void copy(Tensor dst, Tensor src) {
        if (dst.dtype() == DType.F64 || src.dtype() == DType.F64) {
            super.copy(dst, src); // F64 is stored here, computed (and converted) by the reference loops
            return;
        }
        if (src.isContiguous() && dst.isContiguous()) {
            if (dst.dtype() == DType.F32) {
                System.arraycopy(f(src), src.offset(), f(dst), dst.offset(), dst.numel());
            } else {
                System.arraycopy(i(src), src.offset(), i(dst), dst.offset(), dst.numel());
            }
            return;
        }
        int rank = dst.rank(), inner = rank == 0 ? 1 : dst.size(-1), step = rank == 0 ? 1 : src.stride(-1);
        if (rank > 1 && inner >= 8 && dst.stride(-1) == 1) {
            // rows along the last axis: contiguous on both sides (e.g. splitting heads), copied row by row; or one
            // source value broadcast along the row (an expand over the last axis, e.g. the gradient of a row sum),
            // filled; or read with a stride (a transpose, e.g. (B, C, HW) -> (B, HW, C)), gathered. The offsets of
            // the row starts are those of the views without the last axis.
            Tensor srcRows = src.select(-1, 0), dstRows = dst.select(-1, 0);
            int rows = srcRows.numel();
            boolean floats = dst.dtype() == DType.F32;
            Object s = floats ? f(src) : i(src), d = floats ? f(dst) : i(dst);
            pool.parallelFor(rows, rowGrain(inner), (r0, r1) -> {
                int[] offS = new int[r1 - r0], offD = new int[r1 - r0];
                Host.offsets(srcRows, r0, r1 - r0, offS);
                Host.offsets(dstRows, r0, r1 - r0, offD);
                for (int r = 0; r < offS.length; r++) {
                    if (step == 0) {
                        if (floats) {
                            java.util.Arrays.fill((float[]) d, offD[r], offD[r] + inner, ((float[]) s)[offS[r]]);
                        } else {
                            java.util.Arrays.fill((int[]) d, offD[r], offD[r] + inner, ((int[]) s)[offS[r]]);
                        }
                    } else if (floats && step == 1) {
                        copyRow((float[]) s, offS[r], (float[]) d, offD[r], inner);
                    } else if (floats) {
                        float[] sf = (float[]) s, df = (float[]) d;
                        for (int c = 0, from = offS[r], to = offD[r]; c < inner; c++, from += step) {
                            df[to + c] = sf[from];
                        }
                    } else if (step != 1) {
                        int[] si = (int[]) s, di = (int[]) d;
                        for (int c = 0, from = offS[r], to = offD[r]; c < inner; c++, from += step) {
                            di[to + c] = si[from];
                        }
                    } else {
                        System.arraycopy(s, offS[r], d, offD[r], inner);
                    }
                }
            });
            return;
        }
        pool.parallelFor(dst.numel(), ELEMENT_GRAIN, (start, end) -> {
            int[] offS = new int[end - start], offD = new int[end - start];
            Host.offsets(src, start, end - start, offS);
            Host.offsets(dst, start, end - start, offD);
            if (dst.dtype() == DType.F32) {
                float[] s = f(src), d = f(dst);
                for (int k = 0; k < offD.length; k++) {
                    d[offD[k]] = s[offS[k]];
                }
            } else {
                int[] s = i(src), d = i(dst);
                for (int k = 0; k < offD.length; k++) {
                    d[offD[k]] = s[offS[k]];
                }
            }
        });
    }

    /**
     * dst[d0, d0+n) = src[s0, s0+n): vector moves, for the short rows of head splits (32 floats) where
     * {@code System.arraycopy}'s call costs as much as the move (≈ 20 % faster for a (B,L,3,H,32) split).
     */
    private static void copyRow(float[] src, int s0, float[] dst, int d0, int n) {
        int c = 0;
        for (int bound = S.loopBound(n); c < bound; c += L) {
            FloatVector.fromArray(S, src, s0 + c).intoArray(dst, d0 + c);
        }
        for (; c < n; c++) {
            dst[d0 + c] = src[s0 + c];
        }
    }

    // ---------------------------------------------------------------------------------------------------- GEMM

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int M, int N, int K,
                     float alpha, Tensor a, int lda, int strideA,
                     Tensor b, int ldb, int strideB,
                     float beta, Tensor c, int ldc, int strideC) {
        Sgemm.gemm(pool, transA, transB, batch, M, N, K, alpha, f(a), a.offset(), lda, strideA,
                f(b), b.offset(), ldb, strideB, beta, f(c), c.offset(), ldc, strideC);
    }

    // out (rows, cout) = x (rows, cin) · wᵀ (cin, cout) + bias (cout): the bias goes in with the product's first write
    @Override
    public void linear(Tensor out, Tensor x, Tensor w, Tensor bias, int rows, int cin, int cout) {
        Sgemm.gemm(pool, false, true, 1, rows, cout, cin, 1f, f(x), x.offset(), cin, 0, f(w), w.offset(), cin, 0,
                0f, f(contiguous("linear", out)), out.offset(), cout, 0,
                bias == null ? null : f(contiguous("linear", bias)), bias == null ? 0 : bias.offset());
    }

    // ---------------------------------------------------------------------------------------------------- element-wise

    /**
     * out[o + k] = op(x[xo + k]) for k < n: the vector body, with the scalar definition on the tail.
     *
     * <p>The switch stands outside the loops on purpose: C2 only keeps vectors in registers when each loop body is
     * small and monomorphic; a switch over the op inside the loop falls back to the Vector API's lane-by-lane Java
     * implementation (measured 10-50x slower).
     */
    static void unaryRun(UnaryOp op, float[] x, int xo, float[] out, int o, int n) {
        int k = 0, bound = S.loopBound(n);
        switch (op) {
            case NEG -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, x, xo + k).neg().intoArray(out, o + k);
                }
            }
            case ABS -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, x, xo + k).abs().intoArray(out, o + k);
                }
            }
            case SQUARE -> {
                for (; k < bound; k += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + k);
                    v.mul(v).intoArray(out, o + k);
                }
            }
            case RECIPROCAL -> {
                for (; k < bound; k += L) {
                    ONE.div(FloatVector.fromArray(S, x, xo + k)).intoArray(out, o + k);
                }
            }
            case SQRT -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, x, xo + k).sqrt().intoArray(out, o + k);
                }
            }
            case RELU -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, x, xo + k).max(0f).intoArray(out, o + k);
                }
            }
            case EXP -> {
                for (; k < bound; k += L) {
                    SimdMath.exp(FloatVector.fromArray(S, x, xo + k)).intoArray(out, o + k);
                }
            }
            case TANH -> {
                for (; k < bound; k += L) {
                    SimdMath.tanh(FloatVector.fromArray(S, x, xo + k)).intoArray(out, o + k);
                }
            }
            case SIGMOID -> {
                for (; k < bound; k += L) {
                    ONE.div(SimdMath.exp(FloatVector.fromArray(S, x, xo + k).neg()).add(1f)).intoArray(out, o + k);
                }
            }
            case SILU -> {
                for (; k < bound; k += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + k);
                    v.div(SimdMath.exp(v.neg()).add(1f)).intoArray(out, o + k);
                }
            }
            case GELU_TANH -> {
                // 0.5·x·(1 + tanh u) = x · σ(2u) = x / (1 + e^{−2u}): one exp and one division, no cancellation
                // near u = 0 (the tanh form's 1 − 2/(e^{2|u|} + 1) loses bits there)
                for (; k < bound; k += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + k);
                    FloatVector minus2u = v.mul(v).mul(-2 * GELU_K * GELU_C).sub(2 * GELU_C).mul(v);
                    v.div(SimdMath.exp(minus2u).add(1f)).intoArray(out, o + k);
                }
            }
            case LOG -> {
                // no reproducible vector log (see SimdMath): the scalar definition below
            }
        }
        for (; k < n; k++) {
            out[o + k] = op.apply(x[xo + k]);
        }
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x) {
        contiguous("unary", out);
        if (!x.isContiguous()) {
            x = x.contiguous();
        }
        float[] X = f(x), O = f(out);
        int xo = x.offset(), oo = out.offset();
        pool.parallelFor(out.numel(), ELEMENT_GRAIN,
                (start, end) -> unaryRun(op, X, xo + start, O, oo + start, end - start));
    }

    /** The rare binary ops (comparisons) as one vector step; the hot ops have their own loops below. */
    static FloatVector compareVector(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case GT -> ZERO.blend(ONE, a.compare(VectorOperators.GT, b));
            case GE -> ZERO.blend(ONE, a.compare(VectorOperators.GE, b));
            case EQ -> ZERO.blend(ONE, a.compare(VectorOperators.EQ, b));
            default -> throw new AssertionError(op + " has its own loop");
        };
    }

    /** out[o + k] = op(a[ao + k], b[bo + k]) for k < n (one loop per op: see {@link #unaryRun}). */
    static void binaryRun(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int o, int n) {
        int k = 0, bound = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).add(FloatVector.fromArray(S, b, bo + k)).intoArray(out, o + k);
                }
            }
            case SUB -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).sub(FloatVector.fromArray(S, b, bo + k)).intoArray(out, o + k);
                }
            }
            case MUL -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).mul(FloatVector.fromArray(S, b, bo + k)).intoArray(out, o + k);
                }
            }
            case DIV -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).div(FloatVector.fromArray(S, b, bo + k)).intoArray(out, o + k);
                }
            }
            case MAX -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).max(FloatVector.fromArray(S, b, bo + k)).intoArray(out, o + k);
                }
            }
            case MIN -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).min(FloatVector.fromArray(S, b, bo + k)).intoArray(out, o + k);
                }
            }
            case GELU_TANH_GRAD -> k = geluTanhGradRun(a, ao, b, bo, out, o, bound);
            case SILU_GRAD -> k = siluGradRun(a, ao, b, bo, out, o, bound);
            case GT, GE, EQ -> {
                for (; k < bound; k += L) {
                    compareVector(op, FloatVector.fromArray(S, a, ao + k), FloatVector.fromArray(S, b, bo + k))
                            .intoArray(out, o + k);
                }
            }
            case POW -> {
                // no reproducible vector pow (see SimdMath): the scalar definition below
            }
        }
        for (; k < n; k++) {
            out[o + k] = op.apply(a[ao + k], b[bo + k]);
        }
    }

    /*
     * The gradients that evaluate exp have loops of their own, outside binaryRun: inside it (a method as large as its
     * switch) C2 compiled exp's blends as the Vector API's lane-by-lane Java fallback, which made SiLU's backward
     * a tenth of the tokenizer's training step (a JFR profile showed FloatVector.blendTemplate under binaryRun). Each
     * runs the vector body for k < bound and returns bound; the caller runs the scalar tail.
     */

    // out = dy · d/dx gelu_tanh(x): with s = σ(2u) = 0.5·(1 + tanh u), d/dx = s + 2x·s·(1 − s)·u', u' = C·(1 + 3k·x²)
    private static int geluTanhGradRun(float[] a, int ao, float[] b, int bo, float[] out, int o, int bound) {
        for (int k = 0; k < bound; k += L) {
            FloatVector x = FloatVector.fromArray(S, a, ao + k), dy = FloatVector.fromArray(S, b, bo + k);
            FloatVector x2 = x.mul(x);
            FloatVector sg = ONE.div(SimdMath.exp(x2.mul(-2 * GELU_K * GELU_C).sub(2 * GELU_C).mul(x)).add(1f));
            FloatVector du2x = x2.mul(3 * GELU_K).add(1f).mul(x).mul(2 * GELU_C);
            FloatVector ss = sg.mul(sg.neg().add(1f));             // s·(1 − s), exactly 0 for |x| ≳ 10
            // there u'·x overflows for |x| ≳ 1.2e13 (inf · 0 would be NaN): the term is 0 wherever s·(1 − s) is
            FloatVector term = du2x.mul(ss).blend(0f, ss.compare(VectorOperators.EQ, 0f));
            sg.add(term).mul(dy).intoArray(out, o + k);
        }
        return bound;
    }

    // out = dy · d/dx silu(x) = dy · σ(x) · (1 + x·(1 − σ(x)))
    private static int siluGradRun(float[] a, int ao, float[] b, int bo, float[] out, int o, int bound) {
        for (int k = 0; k < bound; k += L) {
            FloatVector x = FloatVector.fromArray(S, a, ao + k), dy = FloatVector.fromArray(S, b, bo + k);
            FloatVector sg = ONE.div(SimdMath.exp(x.neg()).add(1f));
            dy.mul(sg).mul(x.mul(sg.neg().add(1f)).add(1f)).intoArray(out, o + k);
        }
        return bound;
    }

    /** out[o + k] = op(a[ao + k], s) for k < n, or op(s, a[ao + k]) when {@code scalarFirst}. */
    static void binaryScalarRun(BinaryOp op, float[] a, int ao, float s, boolean scalarFirst,
                                float[] out, int o, int n) {
        int k = 0, bound = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).add(s).intoArray(out, o + k);
                }
            }
            case MUL -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).mul(s).intoArray(out, o + k);
                }
            }
            case SUB -> {
                if (scalarFirst) {
                    for (; k < bound; k += L) {
                        FloatVector.fromArray(S, a, ao + k).neg().add(s).intoArray(out, o + k);
                    }
                } else {
                    for (; k < bound; k += L) {
                        FloatVector.fromArray(S, a, ao + k).sub(s).intoArray(out, o + k);
                    }
                }
            }
            case DIV -> {
                if (scalarFirst) {
                    FloatVector sv = FloatVector.broadcast(S, s);
                    for (; k < bound; k += L) {
                        sv.div(FloatVector.fromArray(S, a, ao + k)).intoArray(out, o + k);
                    }
                } else {
                    for (; k < bound; k += L) {
                        FloatVector.fromArray(S, a, ao + k).div(s).intoArray(out, o + k);
                    }
                }
            }
            case MAX -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).max(s).intoArray(out, o + k);
                }
            }
            case MIN -> {
                for (; k < bound; k += L) {
                    FloatVector.fromArray(S, a, ao + k).min(s).intoArray(out, o + k);
                }
            }
            default -> {
                // the rest (comparisons, activation gradients, pow) is rare with a scalar: scalar definition below
            }
        }
        for (; k < n; k++) {
            out[o + k] = scalarFirst ? op.apply(s, a[ao + k]) : op.apply(a[ao + k], s);
        }
    }

    /**
     * How one operand of a broadcast binary op is laid out against the output, seen as (rows, cols):
     * FULL (contiguous, same shape), ROW (one contiguous block of cols, repeated for every row: a trailing-axes
     * broadcast such as a bias), COLUMN (one value per row, repeated along cols: e.g. x - mean(x, -1)), or OTHER.
     */
    private enum Layout { FULL, ROW, COLUMN, OTHER }

    /** Finds a split of out's axes into (rows, cols) for which both operands have a fast layout. */
    private record Plan(Layout a, Layout b, int rows, int cols) {

        static Plan of(Tensor a, Tensor b, int[] shape) {
            int rank = shape.length;
            for (int split = 0; split <= rank; split++) {
                Layout la = layout(a, shape, split), lb = layout(b, shape, split);
                if (la != Layout.OTHER && lb != Layout.OTHER && !(la == Layout.COLUMN && lb == Layout.COLUMN)) {
                    int rows = dev.mvarj.tensor.Shape.prod(shape, 0, split);
                    int cols = dev.mvarj.tensor.Shape.prod(shape, split, rank);
                    return new Plan(la, lb, rows, cols);
                }
            }
            return null;
        }

        private static Layout layout(Tensor t, int[] shape, int split) {
            int[] st = t.strides();
            if (t.isContiguous()) {
                return Layout.FULL;
            }
            if (allZero(st, shape, 0, split) && contiguousRange(st, shape, split, shape.length)) {
                return Layout.ROW;
            }
            if (allZero(st, shape, split, shape.length) && contiguousRange(st, shape, 0, split)) {
                return Layout.COLUMN;
            }
            return Layout.OTHER;
        }

        private static boolean allZero(int[] st, int[] shape, int from, int to) {
            for (int d = from; d < to; d++) {
                if (shape[d] != 1 && st[d] != 0) {
                    return false;
                }
            }
            return true;
        }

        private static boolean contiguousRange(int[] st, int[] shape, int from, int to) {
            int expected = 1;
            for (int d = to - 1; d >= from; d--) {
                if (shape[d] != 1 && st[d] != expected) {
                    return false;
                }
                expected *= shape[d];
            }
            return true;
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        contiguous("binary", out);
        int[] shape = out.shape();
        Plan plan = Plan.of(a, b, shape);
        if (plan == null && shape.length > 1 && shape[shape.length - 1] >= 8 && unitOrZeroStep(a) && unitOrZeroStep(b)) {
            binaryRows(op, out, a, b);
            return;
        }
        if (plan == null) {
            // general strided case: materialise the operands, then run the same-shape kernel
            plan = new Plan(Layout.FULL, Layout.FULL, 1, out.numel());
            a = a.contiguous();
            b = b.contiguous();
        }
        float[] A = f(a), B = f(b), O = f(out);
        int ao = a.offset(), bo = b.offset(), oo = out.offset();
        Plan p = plan;
        int cols = p.cols;
        if (p.a == Layout.FULL && p.b == Layout.FULL) {
            pool.parallelFor(out.numel(), ELEMENT_GRAIN,
                    (s, e) -> binaryRun(op, A, ao + s, B, bo + s, O, oo + s, e - s));
            return;
        }
        pool.parallelFor(p.rows, rowGrain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = oo + r * cols;
                int ar = switch (p.a) {
                    case FULL -> ao + r * cols;
                    case ROW -> ao;
                    default -> ao + r;
                };
                int br = switch (p.b) {
                    case FULL -> bo + r * cols;
                    case ROW -> bo;
                    default -> bo + r;
                };
                if (p.a == Layout.COLUMN) {
                    binaryScalarRun(op, B, br, A[ar], true, O, o, cols);
                } else if (p.b == Layout.COLUMN) {
                    binaryScalarRun(op, A, ar, B[br], false, O, o, cols);
                } else {
                    binaryRun(op, A, ar, B, br, O, o, cols);
                }
            }
        });
    }

    /** Whether t's last axis is contiguous or broadcast (stride 1 or 0). */
    private static boolean unitOrZeroStep(Tensor t) {
        int step = t.stride(-1);
        return step == 1 || step == 0;
    }

    /**
     * A broadcast binary op that no (rows, cols) split fits, with both operands' last axes contiguous or broadcast
     * (e.g. AdaLN's x (B, L, C) · scale (B, 1, C)): row by row along the last axis, each operand's row start found
     * from its view without that axis, no operand materialised.
     */
    private void binaryRows(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        Tensor aRows = a.select(-1, 0), bRows = b.select(-1, 0);
        int cols = out.size(-1), rows = out.numel() / cols, aStep = a.stride(-1), bStep = b.stride(-1);
        float[] A = f(a), B = f(b), O = f(out);
        int oo = out.offset();
        pool.parallelFor(rows, rowGrain(cols), (r0, r1) -> {
            int[] offA = new int[r1 - r0], offB = new int[r1 - r0];
            Host.offsets(aRows, r0, r1 - r0, offA);
            Host.offsets(bRows, r0, r1 - r0, offB);
            for (int r = 0; r < offA.length; r++) {
                int o = oo + (r0 + r) * cols;
                if (aStep == 0 && bStep == 0) {
                    java.util.Arrays.fill(O, o, o + cols, op.apply(A[offA[r]], B[offB[r]]));
                } else if (aStep == 0) {
                    binaryScalarRun(op, B, offB[r], A[offA[r]], true, O, o, cols);
                } else if (bStep == 0) {
                    binaryScalarRun(op, A, offA[r], B[offB[r]], false, O, o, cols);
                } else {
                    binaryRun(op, A, offA[r], B, offB[r], O, o, cols);
                }
            }
        });
    }

    @Override
    public void where(Tensor out, Tensor cond, Tensor a, Tensor b) {
        contiguous("where", out);
        if (!(cond.isContiguous() && a.isContiguous() && b.isContiguous())) {
            super.where(out, cond, a, b);
            return;
        }
        int[] C = i(cond);
        float[] A = f(a), B = f(b), O = f(out);
        int co = cond.offset(), ao = a.offset(), bo = b.offset(), oo = out.offset();
        pool.parallelFor(out.numel(), ELEMENT_GRAIN, (s0, s1) -> {
            for (int k = s0; k < s1; k++) {
                O[oo + k] = C[co + k] != 0 ? A[ao + k] : B[bo + k];
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------- reductions

    /** The sum of x[from..from+n) in vector lanes, then across lanes. */
    static float sumRun(float[] x, int from, int n) {
        FloatVector acc = FloatVector.zero(S);
        int k = 0;
        for (int bound = S.loopBound(n); k < bound; k += L) {
            acc = acc.add(FloatVector.fromArray(S, x, from + k));
        }
        float s = SimdMath.sum(acc);
        for (; k < n; k++) {
            s += x[from + k];
        }
        return s;
    }

    /** The maximum of x[from..from+n) (NaN if any element is NaN); -inf for n = 0. */
    static float maxRun(float[] x, int from, int n) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int k = 0;
        for (int bound = S.loopBound(n); k < bound; k += L) {
            acc = acc.max(FloatVector.fromArray(S, x, from + k));
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; k < n; k++) {
            m = Math.max(m, x[from + k]);
        }
        return m;
    }

    // x (outer, n, inner) -> out (outer, inner)
    @Override
    public void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        float[] X = f(contiguous("reduce", x)), O = f(contiguous("reduce", out));
        int xo = x.offset(), oo = out.offset();
        if (inner == 1) {
            pool.parallelFor(outer, rowGrain(n), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    float v = switch (op) {
                        case SUM -> sumRun(X, xo + r * n, n);
                        case MEAN -> sumRun(X, xo + r * n, n) / n;
                        case MAX -> maxRun(X, xo + r * n, n);
                    };
                    O[oo + r] = v;
                }
            });
            return;
        }
        // reduce across rows of length inner: accumulate whole rows with vectors, in k order
        pool.parallelFor(outer, rowGrain(n * inner), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = xo + r * n * inner, o = oo + r * inner;
                float init = op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : 0f;
                java.util.Arrays.fill(O, o, o + inner, init);
                for (int k = 0; k < n; k++) {
                    binaryRun(op == ReduceOp.MAX ? BinaryOp.MAX : BinaryOp.ADD, O, o, X, base + k * inner, O, o, inner);
                }
                if (op == ReduceOp.MEAN) {
                    binaryScalarRun(BinaryOp.MUL, O, o, 1f / n, false, O, o, inner);
                }
            }
        });
    }

    // x (outer, n, inner) -> out (outer, inner) I32
    @Override
    public void argmax(Tensor out, Tensor x, int outer, int n, int inner) {
        if (inner != 1) {
            super.argmax(out, x, outer, n, inner);
            return;
        }
        float[] X = f(contiguous("argmax", x));
        int[] O = i(contiguous("argmax", out));
        int xo = x.offset(), oo = out.offset();
        pool.parallelFor(outer, rowGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                O[oo + r] = firstIndexOfMax(X, xo + r * n, n);
            }
        });
    }

    /** The first index of the maximum of x[from..from+n): one vector pass for the maximum, one scan for it. */
    private static int firstIndexOfMax(float[] x, int from, int n) {
        float m = maxRun(x, from, n);
        boolean nan = Float.isNaN(m);
        int k = 0;
        for (int bound = S.loopBound(n); k < bound; k += L) {
            FloatVector v = FloatVector.fromArray(S, x, from + k);
            VectorMask<Float> hit = nan ? v.test(jdk.incubator.vector.VectorOperators.IS_NAN) : v.eq(m);
            if (hit.anyTrue()) {
                return k + hit.firstTrue();
            }
        }
        for (; k < n; k++) {
            if (nan ? Float.isNaN(x[from + k]) : x[from + k] == m) {
                return k;
            }
        }
        return 0;
    }

    // ---------------------------------------------------------------------------------------------------- softmax

    // x (rows, n) -> out (rows, n)
    @Override
    public void softmax(Tensor out, Tensor x, int rows, int n) {
        float[] X = f(contiguous("softmax", x)), O = f(contiguous("softmax", out));
        int xo = x.offset(), oo = out.offset();
        pool.parallelFor(rows, rowGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                softmaxRow(X, xo + r * n, O, oo + r * n, n);
            }
        });
    }

    /** out = exp(x - max) / Σ exp(x - max) for one row. */
    static void softmaxRow(float[] x, int xo, float[] out, int o, int n) {
        float max = maxRun(x, xo, n);
        float sum = expShiftedRun(x, xo, max, out, o, n);
        binaryScalarRun(BinaryOp.MUL, out, o, 1f / sum, false, out, o, n);
    }

    /** out[o + k] = exp(x[xo + k] - shift); returns the sum of what it wrote. */
    static float expShiftedRun(float[] x, int xo, float shift, float[] out, int o, int n) {
        FloatVector acc = FloatVector.zero(S);
        int k = 0;
        for (int bound = S.loopBound(n); k < bound; k += L) {
            FloatVector e = SimdMath.exp(FloatVector.fromArray(S, x, xo + k).sub(shift));
            e.intoArray(out, o + k);
            acc = acc.add(e);
        }
        float sum = SimdMath.sum(acc);
        for (; k < n; k++) {
            float e = (float) Math.exp(x[xo + k] - shift);
            out[o + k] = e;
            sum += e;
        }
        return sum;
    }

    // x (rows, n) -> out (rows, n)
    @Override
    public void logSoftmax(Tensor out, Tensor x, int rows, int n) {
        float[] X = f(contiguous("logSoftmax", x)), O = f(contiguous("logSoftmax", out));
        int xo = x.offset(), oo = out.offset();
        pool.parallelFor(rows, rowGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * n, or = oo + r * n;
                float max = maxRun(X, xr, n);
                float lse = max + (float) Math.log(expShiftedRun(X, xr, max, O, or, n));
                binaryScalarRun(BinaryOp.SUB, X, xr, lse, false, O, or, n);
            }
        });
    }

    @Override
    public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        SimdRows.softmaxBackward(pool, f(dx), dx.offset(), f(y), y.offset(), f(dy), dy.offset(), rows, n, false);
    }

    @Override
    public void logSoftmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        SimdRows.softmaxBackward(pool, f(dx), dx.offset(), f(y), y.offset(), f(dy), dy.offset(), rows, n, true);
    }

    // ---------------------------------------------------------------------------------------------------- optimiser

    /** Elements per chunk of the optimiser kernels; fixed, so partial sums combine identically for any pool. */
    private static final int OPTIM_GRAIN = 1 << 16;

    @Override
    public double sumOfSquares(Tensor x, int n) {
        float[] X = f(x);
        int xo = x.offset();
        double[] partial = new double[WorkerPool.chunks(n, OPTIM_GRAIN)];
        pool.parallelFor(n, OPTIM_GRAIN, (s0, s1) -> partial[s0 / OPTIM_GRAIN] = SimdRows.dot(X, xo + s0, X, xo + s0, s1 - s0));
        double s = 0;
        for (double v : partial) {
            s += v;
        }
        return s;
    }

    @Override
    public void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, int n, float lr, float beta1, float beta2,
                          float eps, float weightDecay, int step, float gradScale) {
        float[] P = f(p), G = f(g), M = f(m), V = f(v);
        int po = p.offset(), go = g.offset(), mo = m.offset(), vo = v.offset();
        float bc1 = 1f - (float) Math.pow(beta1, step), bc2 = 1f - (float) Math.pow(beta2, step);
        float stepSize = lr / bc1, bc2Sqrt = (float) Math.sqrt(bc2), decay = 1f - lr * weightDecay;
        pool.parallelFor(n, OPTIM_GRAIN, (s0, s1) -> {
            int k = s0;
            for (int bound = s0 + S.loopBound(s1 - s0); k < bound; k += L) {
                FloatVector grad = FloatVector.fromArray(S, G, go + k).mul(gradScale);
                FloatVector pv = FloatVector.fromArray(S, P, po + k).mul(decay);
                FloatVector mv = FloatVector.fromArray(S, M, mo + k).mul(beta1).add(grad.mul(1f - beta1));
                FloatVector vv = FloatVector.fromArray(S, V, vo + k).mul(beta2).add(grad.mul(1f - beta2).mul(grad));
                FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
                pv.sub(mv.div(denom).mul(stepSize)).intoArray(P, po + k);
                mv.intoArray(M, mo + k);
                vv.intoArray(V, vo + k);
            }
            for (; k < s1; k++) {
                float grad = G[go + k] * gradScale;
                P[po + k] = P[po + k] * decay;
                M[mo + k] = M[mo + k] * beta1 + (1f - beta1) * grad;
                V[vo + k] = V[vo + k] * beta2 + (1f - beta2) * grad * grad;
                float denom = (float) Math.sqrt(V[vo + k]) / bc2Sqrt + eps;
                P[po + k] = P[po + k] - stepSize * (M[mo + k] / denom);
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------- indexing

    @Override
    public void indexSelect(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m) {
        SimdIndexing.indexSelect(pool, f(out), out.offset(), f(x), x.offset(), i(index), index.offset(),
                outer, n, inner, m);
    }

    @Override
    public void indexAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        SimdIndexing.indexAdd(pool, f(dx), dx.offset(), f(dout), dout.offset(), i(index), index.offset(),
                outer, n, inner, m);
    }

    @Override
    public void gather(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m) {
        SimdIndexing.gather(pool, f(out), out.offset(), f(x), x.offset(), i(index), index.offset(),
                outer, n, inner, m, false);
    }

    @Override
    public void scatterAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        SimdIndexing.gather(pool, f(dx), dx.offset(), f(dout), dout.offset(), i(index), index.offset(),
                outer, n, inner, m, true);
    }

    // ---------------------------------------------------------------------------------------------------- norm, loss

    // x (rows, n) -> y (rows, n), norm (rows)
    @Override
    public void l2NormalizeForward(Tensor y, Tensor norm, Tensor x, int rows, int n, float eps) {
        SimdRows.l2NormalizeForward(pool, f(contiguous("l2NormalizeForward", y)), y.offset(),
                f(contiguous("l2NormalizeForward", norm)), norm.offset(), f(contiguous("l2NormalizeForward", x)),
                x.offset(), rows, n, eps);
    }

    // g, y (rows, n), norm (rows) -> dx (rows, n)
    @Override
    public void l2NormalizeBackward(Tensor dx, Tensor g, Tensor y, Tensor norm, int rows, int n, float eps) {
        SimdRows.l2NormalizeBackward(pool, f(contiguous("l2NormalizeBackward", dx)), dx.offset(),
                f(contiguous("l2NormalizeBackward", g)), g.offset(), f(contiguous("l2NormalizeBackward", y)),
                y.offset(), f(contiguous("l2NormalizeBackward", norm)), norm.offset(), rows, n, eps);
    }

    @Override
    public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int rows, int C, float eps) {
        SimdRows.layerNormForward(pool, out, mean, rstd, x, w, b, rows, C, eps);
    }

    @Override
    public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                                  Tensor w, int rows, int C) {
        SimdRows.layerNormBackward(pool, dx, dw, db, dout, x, mean, rstd, w, rows, C);
    }

    @Override
    public void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor target, Tensor weight,
                                    int N, int V, float smoothing) {
        SimdRows.crossEntropyForward(pool, loss, lse, logits, target, weight, N, V, smoothing);
    }

    @Override
    public void crossEntropyBackward(Tensor dlogits, Tensor dloss, Tensor logits, Tensor lse, Tensor target,
                                     Tensor weight, int N, int V, float smoothing) {
        SimdRows.crossEntropyBackward(pool, dlogits, dloss, logits, lse, target, weight, N, V, smoothing);
    }

    // ---------------------------------------------------------------------------------------------------- attention

    @Override
    public void attentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, AttentionMask mask,
                                 int B, int H, int Lq, int Lk, int d, float scale) {
        SimdAttention.attentionForward(pool, out, lse, q, k, v, mask, B, H, Lq, Lk, d, scale);
    }

    @Override
    public void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k, Tensor v,
                                  Tensor out, Tensor lse, AttentionMask mask,
                                  int B, int H, int Lq, int Lk, int d, float scale) {
        SimdAttention.attentionBackward(pool, dq, dk, dv, dout, q, k, v, out, lse, mask, B, H, Lq, Lk, d, scale);
    }

    @Override
    public void neighborhoodAttentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v,
                                             int B, int H, int grid, int kernel, int d, float scale) {
        SimdAttention.neighborhoodForward(pool, out, lse, q, k, v, B, H, grid, kernel, d, scale);
    }

    @Override
    public void neighborhoodAttentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k,
                                              Tensor v, Tensor out, Tensor lse,
                                              int B, int H, int grid, int kernel, int d, float scale) {
        SimdAttention.neighborhoodBackward(pool, dq, dk, dv, dout, q, k, v, out, lse, B, H, grid, kernel, d, scale);
    }

    // ---------------------------------------------------------------------------------------------------- vision

    @Override
    public void im2col(Tensor cols, Tensor x, int B, int C, int H, int W, int kh, int kw, int stride,
                       int padTop, int padLeft, int OH, int OW) {
        SimdVision.im2col(pool, f(contiguous("im2col", x)), x.offset(), f(contiguous("im2col", cols)), cols.offset(),
                B, C, H, W, kh, kw, stride, padTop, padLeft, OH, OW);
    }

    @Override
    public void col2im(Tensor dx, Tensor cols, int B, int C, int H, int W, int kh, int kw, int stride,
                       int padTop, int padLeft, int OH, int OW) {
        SimdVision.col2im(pool, f(contiguous("col2im", dx)), dx.offset(), f(contiguous("col2im", cols)),
                cols.offset(), B, C, H, W, kh, kw, stride, padTop, padLeft, OH, OW);
    }

    /*
     * Convolution: SimdConv's direct kernels where they take the geometry (stride 1, k > 1), FoldedConv's
     * batch-folded GEMMs for the rest (1×1, strided) (docs/results.md#engine-speed-convolution-and-the-tokenizer-step).
     */

    @Override
    public void conv2d(Tensor out, Tensor x, Tensor w, Tensor bias, ConvGeometry g) {
        float[] o = f(contiguous("conv2d", out)), xs = f(contiguous("conv2d", x)), ws = f(contiguous("conv2d", w));
        float[] bs = bias == null ? null : f(contiguous("conv2d", bias));
        int bo = bias == null ? 0 : bias.offset();
        if (SimdConv.supports(g)) {
            SimdConv.forward(pool, o, out.offset(), xs, x.offset(), ws, w.offset(), bs, bo, g);
        } else {
            FoldedConv.forward(pool, o, out.offset(), xs, x.offset(), ws, w.offset(), bs, bo, g);
        }
    }

    @Override
    public void conv2dInputGrad(Tensor dx, Tensor dout, Tensor w, ConvGeometry g) {
        float[] d = f(contiguous("conv2dInputGrad", dx)), dy = f(contiguous("conv2dInputGrad", dout));
        float[] ws = f(contiguous("conv2dInputGrad", w));
        if (SimdConv.supports(g)) {
            SimdConv.inputGrad(pool, d, dx.offset(), dy, dout.offset(), ws, w.offset(), g);
        } else {
            FoldedConv.inputGrad(pool, d, dx.offset(), dy, dout.offset(), ws, w.offset(), g);
        }
    }

    @Override
    public void conv2dWeightGrad(Tensor dw, Tensor dout, Tensor x, ConvGeometry g) {
        float[] d = f(contiguous("conv2dWeightGrad", dw)), dy = f(contiguous("conv2dWeightGrad", dout));
        float[] xs = f(contiguous("conv2dWeightGrad", x));
        if (SimdConv.supports(g)) {
            SimdConv.weightGrad(pool, d, dw.offset(), dy, dout.offset(), xs, x.offset(), g);
        } else {
            FoldedConv.weightGrad(pool, d, dw.offset(), dy, dout.offset(), xs, x.offset(), g);
        }
    }

    // x (B, C, H, W) -> out (B, C, 2H, 2W)
    @Override
    public void upsampleNearest2x(Tensor out, Tensor x, int B, int C, int H, int W) {
        SimdVision.upsampleNearest2x(pool, f(contiguous("upsampleNearest2x", x)), x.offset(),
                f(contiguous("upsampleNearest2x", out)), out.offset(), B * C * H, W);
    }

    // dout (B, C, 2H, 2W) -> dx (B, C, H, W)
    @Override
    public void upsampleNearest2xBackward(Tensor dx, Tensor dout, int B, int C, int H, int W) {
        SimdVision.upsampleNearest2xBackward(pool, f(contiguous("upsampleNearest2xBackward", dx)), dx.offset(),
                f(contiguous("upsampleNearest2xBackward", dout)), dout.offset(), B * C * H, W);
    }

    @Override
    public void groupNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int B, int C, int HW, int G, float eps) {
        SimdVision.groupNormForward(pool, out, mean, rstd, x, w, b, B, C, HW, G, eps);
    }

    @Override
    public void groupNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                                  Tensor w, int B, int C, int HW, int G) {
        SimdVision.groupNormBackward(pool, dx, dw, db, dout, x, mean, rstd, w, B, C, HW, G);
    }
}
