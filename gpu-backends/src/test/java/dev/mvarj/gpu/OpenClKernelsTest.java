package dev.mvarj.gpu;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.ReduceOp;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static dev.mvarj.gpu.OpenClTestSupport.GPU;
import static dev.mvarj.gpu.OpenClTestSupport.assertClose;
import static dev.mvarj.gpu.OpenClTestSupport.dev;
import static dev.mvarj.gpu.OpenClTestSupport.ints;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every OpenCL kernel against the ReferenceBackend on odd sizes (1, 7, 17, 33, 257 ...), run on opencl:0. */
class OpenClKernelsTest {

    private static final int[] SIZES = {1, 7, 17, 33, 257};
    private static final Backend REF = new ReferenceBackend();
    private static final Rng RNG = new Rng(2024);
    private static Backend cl;

    @BeforeAll
    static void open() {
        cl = OpenClTestSupport.backend();
    }

    @Test
    void copyHandlesTransposedSlicedAndBroadcastViews() {
        for (int n : SIZES) {
            Tensor h = RNG.normal(0, 1, 5, n, 3);
            Tensor d = dev(h);
            // permuted source into a contiguous destination
            Tensor want = Tensor.zeros(Device.CPU, 3, n, 5), got = Tensor.zeros(GPU, 3, n, 5);
            REF.copy(want, h.permute(2, 1, 0));
            cl.copy(got, d.permute(2, 1, 0));
            assertClose("copy permuted n=" + n, got, want, DeviceTolerance.EXACT);
            // broadcast source into a strided slice of a destination
            Tensor wantBig = Tensor.zeros(Device.CPU, 5, n, 7), gotBig = Tensor.zeros(GPU, 5, n, 7);
            REF.copy(wantBig.slice(2, 2, 5), h.select(0, 1).unsqueeze(0).expand(5, n, 3));
            cl.copy(gotBig.slice(2, 2, 5), d.select(0, 1).unsqueeze(0).expand(5, n, 3));
            assertClose("copy into slice n=" + n, gotBig, wantBig, DeviceTolerance.EXACT);
        }
    }

    @Test
    void copyBetweenShapesWithTheSameNumberOfElementsAndOfInts() {
        Tensor h = ints(RNG, 100, 6, 35);
        Tensor want = Tensor.zeros(Device.CPU, DType.I32, 35, 6), got = Tensor.zeros(GPU, DType.I32, 35, 6);
        REF.copy(want, h.transpose(0, 1));
        cl.copy(got, dev(h).transpose(0, 1));
        assertThat(got.toIntArray()).isEqualTo(want.toIntArray());
        Tensor flat = Tensor.zeros(GPU, DType.I32, 210);
        cl.copy(flat, dev(h).transpose(0, 1));
        assertThat(flat.toIntArray()).isEqualTo(want.toIntArray());
    }

    @Test
    void fillSetsFloatsAndInts() {
        Tensor f = Tensor.zeros(GPU, 2, 17);
        cl.fill(f.slice(0, 1, 2), 2.5f);
        float[] v = f.toFloatArray();
        assertThat(v[0]).isZero();
        assertThat(v[17]).isEqualTo(2.5f);
        Tensor i = Tensor.zeros(GPU, DType.I32, 7);
        cl.fill(i, 3.9f);
        assertThat(i.toIntArray()).containsOnly(3);
    }

    @Test
    void everyUnaryOpMatchesReferenceOnStridedInput() {
        for (UnaryOp op : UnaryOp.values()) {
            for (int n : SIZES) {
                Tensor h = op == UnaryOp.LOG || op == UnaryOp.SQRT ? RNG.uniform(0.01f, 5, n, 3)
                        : RNG.uniform(-5, 5, n, 3);
                Tensor want = Tensor.zeros(Device.CPU, 3, n), got = Tensor.zeros(GPU, 3, n);
                REF.unary(op, want, h.transpose(0, 1));
                cl.unary(op, got, dev(h).transpose(0, 1));
                assertClose(op + " n=" + n, got, want, DeviceTolerance.ELEMENTWISE);
            }
        }
    }

    @Test
    void everyBinaryOpMatchesReferenceWithBroadcasting() {
        for (BinaryOp op : BinaryOp.values()) {
            for (int n : SIZES) {
                Tensor a = op == BinaryOp.POW ? RNG.uniform(0.1f, 3, 4, n) : RNG.uniform(-3, 3, 4, n);
                Tensor b = op == BinaryOp.DIV ? RNG.uniform(0.5f, 2, 1, n) : RNG.uniform(-2, 2, 1, n);
                if (op == BinaryOp.EQ || op == BinaryOp.GE) {
                    b = a.slice(0, 2, 3).contiguous();      // equal elements in row 2
                }
                Tensor want = Tensor.zeros(Device.CPU, 4, n), got = Tensor.zeros(GPU, 4, n);
                REF.binary(op, want, a, b.expand(4, n));
                cl.binary(op, got, dev(a), dev(b).expand(4, n));
                assertClose(op + " n=" + n, got, want, DeviceTolerance.ELEMENTWISE);
            }
        }
    }

    @Test
    void maxAndMinPropagateNaN() {
        Tensor a = Tensor.of(new float[]{Float.NaN, 1, 2, -0f}, 4), b = Tensor.of(new float[]{1, Float.NaN, 3, 0f}, 4);
        for (BinaryOp op : new BinaryOp[]{BinaryOp.MAX, BinaryOp.MIN}) {
            Tensor want = Tensor.zeros(Device.CPU, 4), got = Tensor.zeros(GPU, 4);
            REF.binary(op, want, a, b);
            cl.binary(op, got, dev(a), dev(b));
            assertThat(got.toFloatArray()).as(op.name()).isEqualTo(want.toFloatArray());
        }
    }

    @Test
    void whereMatchesReferenceWithBroadcastBranches() {
        for (int n : SIZES) {
            Tensor c = ints(RNG, 2, 3, n), a = RNG.normal(0, 1, 3, n), b = RNG.normal(0, 1, 3, 1);
            Tensor want = Tensor.zeros(Device.CPU, 3, n), got = Tensor.zeros(GPU, 3, n);
            REF.where(want, c, a, b.expand(3, n));
            cl.where(got, dev(c), dev(a), dev(b).expand(3, n));
            assertClose("where n=" + n, got, want, DeviceTolerance.EXACT);
        }
    }

    @Test
    void reductionsMatchReferenceAlongEveryAxisPosition() {
        for (ReduceOp op : ReduceOp.values()) {
            for (int n : SIZES) {
                for (int[] oi : new int[][]{{1, 1}, {3, 1}, {5, 7}, {1, 33}}) {
                    int outer = oi[0], inner = oi[1];
                    Tensor x = RNG.normal(0, 1, outer, n, inner);
                    Tensor want = Tensor.zeros(Device.CPU, outer, inner), got = Tensor.zeros(GPU, outer, inner);
                    REF.reduce(op, want, x, outer, n, inner);
                    cl.reduce(op, got, dev(x), outer, n, inner);
                    assertClose(op + " outer=" + outer + " n=" + n + " inner=" + inner, got, want, DeviceTolerance.columnSum(n));
                }
            }
        }
    }

    @Test
    void argmaxTakesTheFirstMaximum() {
        for (int n : SIZES) {
            for (int inner : new int[]{1, 17}) {
                Tensor x = intValued(3, n, inner);
                Tensor want = Tensor.zeros(Device.CPU, DType.I32, 3, inner);
                Tensor got = Tensor.zeros(GPU, DType.I32, 3, inner);
                REF.argmax(want, x, 3, n, inner);
                cl.argmax(got, dev(x), 3, n, inner);
                assertThat(got.toIntArray()).as("argmax n=" + n + " inner=" + inner).isEqualTo(want.toIntArray());
            }
        }
    }

    /** Small integer values as floats, so ties are common. */
    private static Tensor intValued(int... shape) {
        int[] v = ints(RNG, 5, shape).toIntArray();
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return Tensor.of(f, shape);
    }

    @Test
    void softmaxAndLogSoftmaxForwardAndBackwardMatchReference() {
        for (int n : SIZES) {
            for (int rows : new int[]{1, 5}) {
                Tensor x = RNG.uniform(-6, 6, rows, n), dy = RNG.normal(0, 1, rows, n);
                for (boolean log : new boolean[]{false, true}) {
                    String what = (log ? "logSoftmax" : "softmax") + " rows=" + rows + " n=" + n;
                    Tensor want = Tensor.zeros(Device.CPU, rows, n), got = Tensor.zeros(GPU, rows, n);
                    if (log) {
                        REF.logSoftmax(want, x, rows, n);
                        cl.logSoftmax(got, dev(x), rows, n);
                    } else {
                        REF.softmax(want, x, rows, n);
                        cl.softmax(got, dev(x), rows, n);
                    }
                    assertClose(what, got, want, DeviceTolerance.SOFTMAX);
                    Tensor dxWant = Tensor.zeros(Device.CPU, rows, n), dxGot = Tensor.zeros(GPU, rows, n);
                    if (log) {
                        REF.logSoftmaxBackward(dxWant, want, dy, rows, n);
                        cl.logSoftmaxBackward(dxGot, dev(want), dev(dy), rows, n);
                    } else {
                        REF.softmaxBackward(dxWant, want, dy, rows, n);
                        cl.softmaxBackward(dxGot, dev(want), dev(dy), rows, n);
                    }
                    assertClose(what + " backward", dxGot, dxWant, DeviceTolerance.SOFTMAX_BACKWARD);
                }
            }
        }
    }

    @Test
    void sumOfSquaresMatchesReference() {
        for (int n : new int[]{1, 7, 257, 4099, 100_003}) {
            Tensor x = RNG.normal(0, 1, n + 3);
            double want = REF.sumOfSquares(x.slice(0, 3, n + 3), n);
            double got = cl.sumOfSquares(dev(x).slice(0, 3, n + 3), n);
            assertThat(got).as("sumOfSquares n=" + n).isCloseTo(want, org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
        assertThat(cl.sumOfSquares(dev(RNG.normal(0, 1, 4)), 0)).isZero();
    }

    @Test
    void adamwStepMatchesReference() {
        for (int n : SIZES) {
            Tensor p = RNG.normal(0, 1, n), g = RNG.normal(0, 1, n), m = RNG.normal(0, 0.1f, n);
            Tensor v = RNG.uniform(0, 0.1f, n);
            Tensor dp = dev(p), dg = dev(g), dm = dev(m), dv = dev(v);
            for (int step = 1; step <= 3; step++) {
                REF.adamwStep(p, g, m, v, n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step, 0.5f);
                cl.adamwStep(dp, dg, dm, dv, n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step, 0.5f);
            }
            assertClose("adamw p n=" + n, dp, p, DeviceTolerance.ADAMW);
            assertClose("adamw m n=" + n, dm, m, DeviceTolerance.ADAMW);
            assertClose("adamw v n=" + n, dv, v, DeviceTolerance.ADAMW);
        }
    }

    @Test
    void indexSelectAndIndexAddMatchReference() {
        for (int inner : SIZES) {
            for (int outer : new int[]{1, 3}) {
                int n = 7, m = 11;
                Tensor x = RNG.normal(0, 1, outer, n, inner), idx = ints(RNG, n, m);
                Tensor want = Tensor.zeros(Device.CPU, outer, m, inner), got = Tensor.zeros(GPU, outer, m, inner);
                REF.indexSelect(want, x, idx, outer, n, inner, m);
                cl.indexSelect(got, dev(x), dev(idx), outer, n, inner, m);
                assertClose("indexSelect inner=" + inner, got, want, DeviceTolerance.EXACT);
                Tensor dout = RNG.normal(0, 1, outer, m, inner), dx0 = RNG.normal(0, 1, outer, n, inner);
                Tensor dxWant = dx0.copy(), dxGot = dev(dx0);
                REF.indexAdd(dxWant, dout, idx, outer, n, inner, m);
                cl.indexAdd(dxGot, dev(dout), dev(idx), outer, n, inner, m);
                // same summation order as the reference: bit-identical
                assertClose("indexAdd inner=" + inner, dxGot, dxWant, DeviceTolerance.EXACT);
            }
        }
    }

    @Test
    void gatherAndScatterAddMatchReference() {
        for (int inner : new int[]{1, 5, 17}) {
            int outer = 3, n = 9, m = 4;
            Tensor x = RNG.normal(0, 1, outer, n, inner), idx = ints(RNG, n, outer, m, inner);
            Tensor want = Tensor.zeros(Device.CPU, outer, m, inner), got = Tensor.zeros(GPU, outer, m, inner);
            REF.gather(want, x, idx, outer, n, inner, m);
            cl.gather(got, dev(x), dev(idx), outer, n, inner, m);
            assertClose("gather inner=" + inner, got, want, DeviceTolerance.EXACT);
            Tensor dout = RNG.normal(0, 1, outer, m, inner);
            Tensor dxWant = Tensor.zeros(Device.CPU, outer, n, inner), dxGot = Tensor.zeros(GPU, outer, n, inner);
            REF.scatterAdd(dxWant, dout, idx, outer, n, inner, m);
            cl.scatterAdd(dxGot, dev(dout), dev(idx), outer, n, inner, m);
            assertClose("scatterAdd inner=" + inner, dxGot, dxWant, DeviceTolerance.EXACT);
        }
    }

    @Test
    void anIndexOutOfRangeIsAnErrorNamingTheOp() {
        Tensor x = Tensor.zeros(GPU, 1, 4, 2), out = Tensor.zeros(GPU, 1, 2, 2);
        Tensor idx = dev(Tensor.ofInts(new int[]{0, 4}, 2));
        assertThatThrownBy(() -> cl.indexSelect(out, x, idx, 1, 4, 2, 2))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("indexSelect")
                .hasMessageContaining("index 4 out of range [0, 4)");
        assertThatThrownBy(() -> cl.indexAdd(x, out, idx, 1, 4, 2, 2))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("indexAdd");
        Tensor bad = dev(Tensor.ofInts(new int[]{0, -1, 2, 3}, 1, 2, 2));
        assertThatThrownBy(() -> cl.gather(out, x, bad, 1, 4, 2, 2)).hasMessageContaining("gather: index -1");
        // the flag is reset: a good call afterwards succeeds
        cl.indexSelect(out, x, dev(Tensor.ofInts(new int[]{3, 0}, 2)), 1, 4, 2, 2);
    }

    @Test
    void layerNormForwardAndBackwardMatchReference() {
        for (int C : SIZES) {
            for (boolean affine : new boolean[]{true, false}) {
                int rows = 6;
                Tensor x = RNG.normal(0.5f, 2, rows, C), dout = RNG.normal(0, 1, rows, C);
                Tensor w = affine ? RNG.normal(1, 0.2f, C) : null, b = affine ? RNG.normal(0, 0.2f, C) : null;
                Tensor out = Tensor.zeros(Device.CPU, rows, C), mean = Tensor.zeros(Device.CPU, rows), rstd = Tensor.zeros(Device.CPU, rows);
                Tensor dOut = Tensor.zeros(GPU, rows, C), dMean = Tensor.zeros(GPU, rows), dRstd = Tensor.zeros(GPU, rows);
                REF.layerNormForward(out, mean, rstd, x, w, b, rows, C, 1e-5f);
                cl.layerNormForward(dOut, dMean, dRstd, dev(x), w == null ? null : dev(w), b == null ? null : dev(b),
                        rows, C, 1e-5f);
                String what = "layerNorm C=" + C + (affine ? "" : " no affine");
                assertClose(what + " out", dOut, out, DeviceTolerance.NORM);
                assertClose(what + " mean", dMean, mean, DeviceTolerance.NORM);
                assertClose(what + " rstd", dRstd, rstd, DeviceTolerance.NORM);

                Tensor dx = Tensor.zeros(Device.CPU, rows, C), dw = Tensor.zeros(Device.CPU, C), db = Tensor.zeros(Device.CPU, C);
                Tensor gdx = Tensor.zeros(GPU, rows, C), gdw = Tensor.zeros(GPU, C), gdb = Tensor.zeros(GPU, C);
                REF.layerNormBackward(dx, affine ? dw : null, affine ? db : null, dout, x, mean, rstd, w, rows, C);
                cl.layerNormBackward(gdx, affine ? gdw : null, affine ? gdb : null, dev(dout), dev(x), dev(mean),
                        dev(rstd), w == null ? null : dev(w), rows, C);
                assertClose(what + " dx", gdx, dx, DeviceTolerance.NORM_BACKWARD);
                if (affine) {
                    assertClose(what + " dw", gdw, dw, DeviceTolerance.NORM);
                    assertClose(what + " db", gdb, db, DeviceTolerance.NORM);
                }
            }
        }
    }

    @Test
    void contiguousOperandsTakeTheFlatElementwiseKernelsWithTheSameResults() {
        for (int n : SIZES) {
            Tensor x = RNG.uniform(0.1f, 3, 3, n), y = RNG.uniform(0.5f, 2, 3, n), s = Tensor.scalar(1.5f);
            for (UnaryOp op : UnaryOp.values()) {
                // rows 1..2: a contiguous view at an offset
                Tensor want = Tensor.zeros(Device.CPU, 2, n), got = Tensor.zeros(GPU, 2, n);
                REF.unary(op, want, x.slice(0, 1, 3));
                cl.unary(op, got, dev(x).slice(0, 1, 3));
                assertClose(op + " contiguous n=" + n, got, want, DeviceTolerance.ELEMENTWISE);
            }
            for (BinaryOp op : BinaryOp.values()) {
                Tensor want = Tensor.zeros(Device.CPU, 3, n), got = Tensor.zeros(GPU, 3, n);
                REF.binary(op, want, x, y);
                cl.binary(op, got, dev(x), dev(y));
                assertClose(op + " contiguous n=" + n, got, want, DeviceTolerance.ELEMENTWISE);
                REF.binary(op, want, s.expand(3, n), y);
                cl.binary(op, got, dev(s).expand(3, n), dev(y));
                assertClose(op + " scalar, contiguous n=" + n, got, want, DeviceTolerance.ELEMENTWISE);
                REF.binary(op, want, x, s.expand(3, n));
                cl.binary(op, got, dev(x), dev(s).expand(3, n));
                assertClose(op + " contiguous, scalar n=" + n, got, want, DeviceTolerance.ELEMENTWISE);
            }
        }
    }

    /** Two runs of a device op give the same bits (no timing-dependent order of additions). */
    private static void assertRepeatable(String what, Tensor first, Runnable again, Tensor out) {
        float[] a = first.toFloatArray();
        again.run();
        assertThat(out.toFloatArray()).as(what + ": a second run gives the same bits").isEqualTo(a);
    }

    @Test
    void columnReductionsOverManyChunksMatchReferenceAndRepeatBitForBit() {
        int outer = 2, n = 3001, inner = 33;                    // 47 chunks of 64 rows
        Tensor x = RNG.normal(0, 1, outer, n, inner), dx = dev(x);
        for (ReduceOp op : ReduceOp.values()) {
            Tensor want = Tensor.zeros(Device.CPU, outer, inner), got = Tensor.zeros(GPU, outer, inner);
            REF.reduce(op, want, x, outer, n, inner);
            cl.reduce(op, got, dx, outer, n, inner);
            assertClose(op + " over " + n + " rows", got, want, DeviceTolerance.columnSum(n));
            assertRepeatable(op + " over " + n + " rows", got, () -> cl.reduce(op, got, dx, outer, n, inner), got);
        }
    }

    @Test
    void layerNormWeightGradientsOverManyRowsMatchReferenceAndRepeat() {
        int rows = 301, C = 33;                                 // 5 chunks
        Tensor x = RNG.normal(0.5f, 2, rows, C), dout = RNG.normal(0, 1, rows, C), w = RNG.normal(1, 0.2f, C);
        Tensor out = Tensor.zeros(Device.CPU, rows, C), mean = Tensor.zeros(Device.CPU, rows);
        Tensor rstd = Tensor.zeros(Device.CPU, rows);
        REF.layerNormForward(out, mean, rstd, x, w, null, rows, C, 1e-5f);
        Tensor dx = Tensor.zeros(Device.CPU, rows, C), dw = Tensor.zeros(Device.CPU, C), db = Tensor.zeros(Device.CPU, C);
        Tensor gdx = Tensor.zeros(GPU, rows, C), gdw = Tensor.zeros(GPU, C), gdb = Tensor.zeros(GPU, C);
        REF.layerNormBackward(dx, dw, db, dout, x, mean, rstd, w, rows, C);
        Runnable device = () -> cl.layerNormBackward(gdx, gdw, gdb, dev(dout), dev(x), dev(mean), dev(rstd), dev(w),
                rows, C);
        device.run();
        assertClose("layerNorm dw over " + rows + " rows", gdw, dw, DeviceTolerance.columnSum(rows));
        assertClose("layerNorm db over " + rows + " rows", gdb, db, DeviceTolerance.columnSum(rows));
        assertRepeatable("layerNorm dw", gdw, device, gdw);
    }

    @Test
    void indexAndScatterAddOverManyIndicesRunInChunksAndRepeatBitForBit() {
        int outer = 2, n = 7, inner = 5, m = 301;               // 5 chunks of 64 indices
        Tensor idx = ints(RNG, n, m), dout = RNG.normal(0, 1, outer, m, inner), dx0 = RNG.normal(0, 1, outer, n, inner);
        Tensor want = dx0.copy(), got = dev(dx0);
        REF.indexAdd(want, dout, idx, outer, n, inner, m);
        cl.indexAdd(got, dev(dout), dev(idx), outer, n, inner, m);
        assertClose("indexAdd of " + m + " indices", got, want, DeviceTolerance.columnSum(m));
        Tensor again = dev(dx0);
        assertRepeatable("indexAdd", got, () -> cl.indexAdd(again, dev(dout), dev(idx), outer, n, inner, m), again);

        Tensor sidx = ints(RNG, n, outer, m, inner);
        Tensor sWant = Tensor.zeros(Device.CPU, outer, n, inner), sGot = Tensor.zeros(GPU, outer, n, inner);
        REF.scatterAdd(sWant, dout, sidx, outer, n, inner, m);
        cl.scatterAdd(sGot, dev(dout), dev(sidx), outer, n, inner, m);
        assertClose("scatterAdd of " + m + " indices", sGot, sWant, DeviceTolerance.columnSum(m));
        Tensor sAgain = Tensor.zeros(GPU, outer, n, inner);
        assertRepeatable("scatterAdd", sGot, () -> cl.scatterAdd(sAgain, dev(dout), dev(sidx), outer, n, inner, m),
                sAgain);
    }

    @Test
    void sumOfSquaresRepeatsBitForBit() {
        Tensor x = dev(RNG.normal(0, 1, 1_000_003));
        assertThat(cl.sumOfSquares(x, 1_000_003)).isEqualTo(cl.sumOfSquares(x, 1_000_003));
    }

    @Test
    void crossEntropyForwardAndBackwardMatchReference() {
        for (int V : SIZES) {
            for (float smoothing : new float[]{0f, 0.1f}) {
                int N = 5;
                Tensor logits = RNG.normal(0, 3, N, V), target = ints(RNG, V, N), weight = RNG.uniform(0, 1, N);
                Tensor loss = Tensor.zeros(Device.CPU, N), lse = Tensor.zeros(Device.CPU, N);
                Tensor gLoss = Tensor.zeros(GPU, N), gLse = Tensor.zeros(GPU, N);
                REF.crossEntropyForward(loss, lse, logits, target, weight, N, V, smoothing);
                cl.crossEntropyForward(gLoss, gLse, dev(logits), dev(target), dev(weight), N, V, smoothing);
                String what = "crossEntropy V=" + V + " eps=" + smoothing;
                assertClose(what + " loss", gLoss, loss, DeviceTolerance.CROSS_ENTROPY);
                assertClose(what + " lse", gLse, lse, DeviceTolerance.CROSS_ENTROPY);
                Tensor dloss = RNG.normal(0, 1, N);
                Tensor dz = Tensor.zeros(Device.CPU, N, V), gdz = Tensor.zeros(GPU, N, V);
                REF.crossEntropyBackward(dz, dloss, logits, lse, target, weight, N, V, smoothing);
                cl.crossEntropyBackward(gdz, dev(dloss), dev(logits), dev(lse), dev(target), dev(weight), N, V,
                        smoothing);
                assertClose(what + " dlogits", gdz, dz, DeviceTolerance.CROSS_ENTROPY);
            }
        }
        Tensor bad = dev(Tensor.ofInts(new int[]{3}, 1));
        assertThatThrownBy(() -> cl.crossEntropyForward(Tensor.zeros(GPU, 1), Tensor.zeros(GPU, 1), Tensor.zeros(GPU, 1, 3), bad,
                dev(Tensor.ones(1)), 1, 3, 0f)).hasMessageContaining("crossEntropy: index 3 out of range [0, 3)");
    }
}
