package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fused forward/backward kernels autograd uses (SIMD against reference, odd sizes, pool sizes). */
class SimdFusedKernelsTest {

    private static final int[] SIZES = {1, 7, 15, 17, 33, 257};
    private static final WorkerPool POOL = new WorkerPool(2);
    private static final Backend SIMD = new SimdBackend(POOL);
    private static final Backend REF = new ReferenceBackend();
    private static final Rng RNG = new Rng(77);

    @AfterAll
    static void stop() {
        POOL.shutdown();
    }

    private static void assertClose(String what, Tensor got, Tensor want, double tol) {
        AllClose r = AllClose.check(what, got, want, tol, tol);
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    private static Tensor ints(int bound, int... shape) {
        int n = dev.mvarj.tensor.Shape.numel(shape);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = RNG.nextInt(bound);
        }
        return Tensor.ofInts(v, shape);
    }

    @Test
    void l2NormalizeForwardAndBackwardMatchTheReferenceIncludingClampedRows() {
        float eps = 1e-3f;
        for (int n : SIZES) {
            int rows = 6;
            float[] v = RNG.normal(0, 1, rows, n).toFloatArray();
            for (int c = 0; c < n; c++) {
                v[2 * n + c] = 0f;                                   // a zero row: y = 0, the clamp holds
                v[4 * n + c] = 1e-5f;                                // a row whose norm is below eps
            }
            Tensor x = Tensor.of(v, rows, n), g = RNG.normal(0, 1, rows, n);
            Tensor y = Tensor.zeros(rows, n), norm = Tensor.zeros(rows), wantY = Tensor.zeros(rows, n);
            Tensor wantNorm = Tensor.zeros(rows);
            SIMD.l2NormalizeForward(y, norm, x, rows, n, eps);
            REF.l2NormalizeForward(wantY, wantNorm, x, rows, n, eps);
            assertClose("l2 normalize y n=" + n, y, wantY, 2e-6);
            assertClose("l2 normalize norm n=" + n, norm, wantNorm, 2e-6);
            Tensor dx = Tensor.zeros(rows, n), wantDx = Tensor.zeros(rows, n);
            SIMD.l2NormalizeBackward(dx, g, y, norm, rows, n, eps);
            REF.l2NormalizeBackward(wantDx, g, wantY, wantNorm, rows, n, eps);
            assertClose("l2 normalize dx n=" + n, dx, wantDx, 2e-5);
            // below eps the denominator is the constant eps: dx = g / eps, no projection
            float[] got = dx.toFloatArray(), gs = g.toFloatArray();
            assertThat(got[4 * n]).as("clamped row n=%d", n).isCloseTo(gs[4 * n] / eps, org.assertj.core.data.Offset.offset(1e-2f));
        }
    }

    @Test
    void softmaxBackwardMatchesReference() {
        for (int n : SIZES) {
            Tensor x = RNG.uniform(-4, 4, 5, n), dy = RNG.normal(0, 1, 5, n);
            for (boolean log : new boolean[]{false, true}) {
                Tensor y = log ? x.logSoftmax() : x.softmax();
                Tensor got = Tensor.zeros(5, n), want = Tensor.zeros(5, n);
                if (log) {
                    SIMD.logSoftmaxBackward(got, y, dy, 5, n);
                    REF.logSoftmaxBackward(want, y, dy, 5, n);
                } else {
                    SIMD.softmaxBackward(got, y, dy, 5, n);
                    REF.softmaxBackward(want, y, dy, 5, n);
                }
                assertClose((log ? "logSoftmax" : "softmax") + " backward n=" + n, got, want, 2e-6);
            }
        }
    }

    @Test
    void whereMatchesReference() {
        for (int n : SIZES) {
            Tensor c = ints(2, 3, n), a = RNG.normal(0, 1, 3, n), b = RNG.normal(0, 1, 3, n);
            Tensor got = Tensor.zeros(3, n), want = Tensor.zeros(3, n);
            SIMD.where(got, c, a, b);
            REF.where(want, c, a, b);
            assertClose("where n=" + n, got, want, 0);
            SIMD.where(got, c, a, b.select(1, 0).unsqueeze(1).expand(3, n));
            REF.where(want, c, a, b.select(1, 0).unsqueeze(1).expand(3, n));
            assertClose("where broadcast n=" + n, got, want, 0);
        }
    }

    @Test
    void indexSelectAndIndexAddMatchReference() {
        for (int inner : SIZES) {
            for (int outer : new int[]{1, 3}) {
                int n = 7, m = 11;
                Tensor x = RNG.normal(0, 1, outer, n, inner), idx = ints(n, m);
                Tensor got = Tensor.zeros(outer, m, inner), want = Tensor.zeros(outer, m, inner);
                SIMD.indexSelect(got, x, idx, outer, n, inner, m);
                REF.indexSelect(want, x, idx, outer, n, inner, m);
                assertClose("indexSelect inner=" + inner, got, want, 0);
                Tensor dout = RNG.normal(0, 1, outer, m, inner);
                Tensor dg = Tensor.zeros(outer, n, inner), dw = Tensor.zeros(outer, n, inner);
                SIMD.indexAdd(dg, dout, idx, outer, n, inner, m);
                REF.indexAdd(dw, dout, idx, outer, n, inner, m);
                assertClose("indexAdd inner=" + inner, dg, dw, 1e-6);
            }
        }
    }

    @Test
    void gatherAndScatterAddMatchReference() {
        for (int inner : new int[]{1, 5, 17}) {
            int outer = 3, n = 9, m = 4;
            Tensor x = RNG.normal(0, 1, outer, n, inner), idx = ints(n, outer, m, inner);
            Tensor got = Tensor.zeros(outer, m, inner), want = Tensor.zeros(outer, m, inner);
            SIMD.gather(got, x, idx, outer, n, inner, m);
            REF.gather(want, x, idx, outer, n, inner, m);
            assertClose("gather", got, want, 0);
            Tensor dout = RNG.normal(0, 1, outer, m, inner);
            Tensor dg = Tensor.zeros(outer, n, inner), dw = Tensor.zeros(outer, n, inner);
            SIMD.scatterAdd(dg, dout, idx, outer, n, inner, m);
            REF.scatterAdd(dw, dout, idx, outer, n, inner, m);
            assertClose("scatterAdd", dg, dw, 1e-6);
        }
    }

    @Test
    void indexOutOfRangeIsAClearError() {
        Tensor x = Tensor.zeros(1, 4, 2), idx = Tensor.ofInts(new int[]{0, 4}, 2), out = Tensor.zeros(1, 2, 2);
        for (Backend b : new Backend[]{SIMD, REF}) {
            assertThatThrownBy(() -> b.indexSelect(out, x, idx, 1, 4, 2, 2))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("index 4");
        }
    }

    @Test
    void layerNormForwardAndBackwardMatchReference() {
        for (int C : SIZES) {
            for (boolean affine : new boolean[]{true, false}) {
                int rows = 37;
                Tensor x = RNG.normal(0.5f, 2, rows, C), dout = RNG.normal(0, 1, rows, C);
                Tensor w = affine ? RNG.normal(1, 0.2f, C) : null, b = affine ? RNG.normal(0, 0.2f, C) : null;
                Tensor[] got = layerNorm(SIMD, x, w, b, dout, rows, C), want = layerNorm(REF, x, w, b, dout, rows, C);
                String[] names = {"out", "mean", "rstd", "dx", "dw", "db"};
                for (int i = 0; i < got.length; i++) {
                    if (want[i] != null) {
                        assertClose("layerNorm " + names[i] + " C=" + C + " affine=" + affine, got[i], want[i], 2e-5);
                    }
                }
            }
        }
    }

    private static Tensor[] layerNorm(Backend be, Tensor x, Tensor w, Tensor b, Tensor dout, int rows, int C) {
        Tensor out = Tensor.zeros(rows, C), mean = Tensor.zeros(rows), rstd = Tensor.zeros(rows);
        be.layerNormForward(out, mean, rstd, x, w, b, rows, C, 1e-5f);
        Tensor dx = Tensor.zeros(rows, C), dw = w == null ? null : Tensor.zeros(C), db = w == null ? null : Tensor.zeros(C);
        be.layerNormBackward(dx, dw, db, dout, x, mean, rstd, w, rows, C);
        return new Tensor[]{out, mean, rstd, dx, dw, db};
    }

    @Test
    void crossEntropyForwardAndBackwardMatchReference() {
        for (int V : SIZES) {
            for (float smoothing : new float[]{0f, 0.1f}) {
                int N = 23;
                Tensor z = RNG.normal(0, 3, N, V), t = ints(V, N), w = RNG.uniform(0, 1, N), dl = RNG.normal(0, 1, N);
                Function<Backend, Tensor[]> run = be -> {
                    Tensor loss = Tensor.zeros(N), lse = Tensor.zeros(N), dz = Tensor.zeros(N, V);
                    be.crossEntropyForward(loss, lse, z, t, w, N, V, smoothing);
                    be.crossEntropyBackward(dz, dl, z, lse, t, w, N, V, smoothing);
                    return new Tensor[]{loss, lse, dz};
                };
                Tensor[] got = run.apply(SIMD), want = run.apply(REF);
                assertClose("ce loss V=" + V, got[0], want[0], 2e-5);
                assertClose("ce lse V=" + V, got[1], want[1], 2e-5);
                assertClose("ce dlogits V=" + V, got[2], want[2], 2e-6);
            }
        }
    }

    @Test
    void fusedKernelsAreBitIdenticalForPoolSizesOneTwoThree() {
        int rows = 300, C = 257;
        Tensor x = RNG.normal(0, 1, rows, C), dout = RNG.normal(0, 1, rows, C), w = RNG.normal(1, 0.1f, C);
        Tensor b = RNG.normal(0, 0.1f, C), idx = ints(rows, 500), grads = RNG.normal(0, 1, 500, C);
        float[][] res = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            WorkerPool pool = new WorkerPool(threads);
            try {
                Backend be = new SimdBackend(pool);
                Tensor[] ln = layerNorm(be, x, w, b, dout, rows, C);
                Tensor emb = Tensor.zeros(rows, C);
                be.indexAdd(emb, grads, idx, 1, rows, C, 500);
                float[] a = ln[3].toFloatArray(), dw = ln[4].toFloatArray(), db = ln[5].toFloatArray(),
                        e = emb.toFloatArray();
                float[] cat = new float[a.length + dw.length + db.length + e.length];
                System.arraycopy(a, 0, cat, 0, a.length);
                System.arraycopy(dw, 0, cat, a.length, dw.length);
                System.arraycopy(db, 0, cat, a.length + dw.length, db.length);
                System.arraycopy(e, 0, cat, a.length + dw.length + db.length, e.length);
                res[threads - 1] = cat;
            } finally {
                pool.shutdown();
            }
        }
        assertThat(res[1]).containsExactly(res[0]);
        assertThat(res[2]).containsExactly(res[0]);
    }

    @Test
    void i32TensorsAreNotAcceptedAsFloats() {
        Tensor t = Tensor.zeros(Device.CPU, DType.I32, 3);
        assertThatThrownBy(() -> t.add(t)).hasMessageContaining("expected a floating-point tensor").hasMessageContaining("I32");
    }
}
