package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The SIMD im2col, col2im and group-norm kernels against their reference definitions, on odd shapes. */
class SimdVisionTest {

    private static final int[] SIDES = {1, 3, 7, 9, 17};
    private static final int[] CHANNELS = {1, 3, 5, 17};
    private static final WorkerPool[] POOLS = {new WorkerPool(1), new WorkerPool(2), new WorkerPool(3)};
    private static final Backend REF = new ReferenceBackend();
    private static final Rng RNG = new Rng(4321);

    @AfterAll
    static void stop() {
        for (WorkerPool p : POOLS) {
            p.shutdown();
        }
    }

    /** A conv geometry: kernel k×k, stride, padding [top, bottom, left, right]. */
    private record Geometry(int C, int H, int W, int k, int stride, int pt, int pb, int pl, int pr) {
        int OH() {
            return (H + pt + pb - k) / stride + 1;
        }

        int OW() {
            return (W + pl + pr - k) / stride + 1;
        }

        boolean valid() {
            return H + pt + pb >= k && W + pl + pr >= k;
        }

        int rows() {
            return C * k * k;
        }
    }

    private static List<Geometry> geometries() {
        List<Geometry> list = new ArrayList<>();
        int[][] pads = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 0, 1}, {2, 0, 1, 3}};
        for (int H : SIDES) {
            for (int W : SIDES) {
                for (int C : new int[]{1, 3}) {
                    for (int k : new int[]{1, 3}) {
                        for (int s : new int[]{1, 2}) {
                            for (int[] p : pads) {
                                Geometry g = new Geometry(C, H, W, k, s, p[0], p[1], p[2], p[3]);
                                if (g.valid()) {
                                    list.add(g);
                                }
                            }
                        }
                    }
                }
            }
        }
        return list;
    }

    private static float[] im2col(Backend be, Tensor x, int B, Geometry g) {
        Tensor cols = Tensor.zeros(B, g.rows(), g.OH() * g.OW());
        be.fill(cols, Float.NaN); // every element must be written
        be.im2col(cols, x, B, g.C, g.H, g.W, g.k, g.k, g.stride, g.pt, g.pl, g.OH(), g.OW());
        return cols.toFloatArray();
    }

    private static float[] col2im(Backend be, Tensor cols, Tensor dx0, int B, Geometry g) {
        Tensor dx = dx0.copy();
        be.col2im(dx, cols, B, g.C, g.H, g.W, g.k, g.k, g.stride, g.pt, g.pl, g.OH(), g.OW());
        return dx.toFloatArray();
    }

    @Test
    void im2colEqualsTheReferenceExactlyForEveryGeometryAndPoolSize() {
        int B = 2;
        for (Geometry g : geometries()) {
            Tensor x = RNG.uniform(-1f, 1f, B, g.C, g.H, g.W);
            float[] want = im2col(REF, x, B, g);
            for (WorkerPool pool : POOLS) {
                float[] got = im2col(new SimdBackend(pool), x, B, g);
                assertThat(got).as("im2col %s, %d threads", g, pool.threads()).isEqualTo(want);
            }
        }
    }

    @Test
    void col2imAccumulatesBitIdenticallyToTheReferenceForEveryGeometryAndPoolSize() {
        int B = 2;
        for (Geometry g : geometries()) {
            Tensor cols = RNG.uniform(-1f, 1f, B, g.rows(), g.OH() * g.OW());
            Tensor dx0 = RNG.uniform(-1f, 1f, B, g.C, g.H, g.W); // col2im accumulates onto what is there
            float[] want = col2im(REF, cols, dx0, B, g);
            for (WorkerPool pool : POOLS) {
                float[] got = col2im(new SimdBackend(pool), cols, dx0, B, g);
                assertThat(got).as("col2im %s, %d threads", g, pool.threads()).isEqualTo(want);
            }
        }
    }

    @Test
    void col2imIsTheAdjointOfIm2col() {
        // <im2col(x), c> = <x, col2im(c)> for every geometry
        for (Geometry g : geometries()) {
            Tensor x = RNG.uniform(-1f, 1f, 1, g.C, g.H, g.W);
            Tensor c = RNG.uniform(-1f, 1f, 1, g.rows(), g.OH() * g.OW());
            float[] cols = im2col(REF, x, 1, g), back = col2im(REF, c, Tensor.zeros(1, g.C, g.H, g.W), 1, g);
            double lhs = dot(cols, c.toFloatArray()), rhs = dot(x.toFloatArray(), back);
            assertThat(lhs).as("adjoint %s", g).isCloseTo(rhs, org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void upsampleNearest2xAndItsBackwardEqualTheReferenceExactlyOnOddShapesAndEveryPoolSize() {
        // widths below, at and past a vector (L = 8 or 16 lanes) and not multiples of it, so bodies and tails both run
        for (int W : new int[]{1, 3, 7, 8, 9, 16, 17, 33}) {
            for (int H : new int[]{1, 2, 5}) {
                int B = 2, C = 3;
                Tensor x = RNG.uniform(-1f, 1f, B, C, H, W), dout = RNG.uniform(-1f, 1f, B, C, 2 * H, 2 * W);
                Tensor want = Tensor.zeros(B, C, 2 * H, 2 * W), wantDx = Tensor.zeros(B, C, H, W);
                REF.upsampleNearest2x(want, x, B, C, H, W);
                REF.upsampleNearest2xBackward(wantDx, dout, B, C, H, W);
                float[] xs = x.toFloatArray(), up = want.toFloatArray();
                assertThat(up[((B * C - 1) * 2 * H + 2 * H - 1) * 2 * W + 2 * W - 1]).as("the reference's last element")
                        .isEqualTo(xs[xs.length - 1]);
                for (WorkerPool pool : POOLS) {
                    Backend be = new SimdBackend(pool);
                    Tensor out = Tensor.zeros(B, C, 2 * H, 2 * W), dx = Tensor.zeros(B, C, H, W);
                    be.fill(out, Float.NaN); // every element must be written
                    be.fill(dx, Float.NaN);
                    be.upsampleNearest2x(out, x, B, C, H, W);
                    be.upsampleNearest2xBackward(dx, dout, B, C, H, W);
                    String what = "upsample H=" + H + " W=" + W + ", " + pool.threads() + " threads";
                    assertThat(out.toFloatArray()).as(what).isEqualTo(up);
                    assertThat(dx.toFloatArray()).as(what + " backward").isEqualTo(wantDx.toFloatArray());
                }
            }
        }
    }

    private static void assertClose(String what, Tensor actual, Tensor expected, double tol) {
        AllClose r = AllClose.check(what, actual, expected, tol, tol);
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    /** out, mean, rstd, dx, dw, db of group norm on {@code be}. */
    private static Tensor[] groupNorm(Backend be, Tensor x, Tensor w, Tensor b, Tensor dout, int B, int C, int HW, int G) {
        Tensor out = Tensor.zeros(B, C, HW), mean = Tensor.zeros(B, G), rstd = Tensor.zeros(B, G);
        be.groupNormForward(out, mean, rstd, x, w, b, B, C, HW, G, 1e-6f);
        Tensor dx = Tensor.zeros(B, C, HW), dw = Tensor.zeros(C), db = Tensor.zeros(C);
        be.groupNormBackward(dx, w == null ? null : dw, w == null ? null : db, dout, x, mean, rstd, w, B, C, HW, G);
        return new Tensor[]{out, mean, rstd, dx, dw, db};
    }

    @Test
    void groupNormMatchesTheReferenceOnOddShapesAndIsIdenticalForEveryPoolSize() {
        String[] names = {"out", "mean", "rstd", "dx", "dw", "db"};
        for (int C : CHANNELS) {
            for (int G : divisors(C)) {
                for (int side : SIDES) {
                    for (boolean affine : new boolean[]{true, false}) {
                        int B = 3, HW = side * side;
                        Tensor x = RNG.normal(0.3f, 1.5f, B, C, HW), dout = RNG.normal(0f, 1f, B, C, HW);
                        Tensor w = affine ? RNG.normal(1f, 0.3f, C) : null, b = affine ? RNG.normal(0f, 0.3f, C) : null;
                        Tensor[] want = groupNorm(REF, x, w, b, dout, B, C, HW, G);
                        float[][] first = null;
                        for (WorkerPool pool : POOLS) {
                            Tensor[] got = groupNorm(new SimdBackend(pool), x, w, b, dout, B, C, HW, G);
                            String what = "group norm C=" + C + " G=" + G + " HW=" + HW + " affine=" + affine;
                            float[][] flat = new float[got.length][];
                            for (int i = 0; i < got.length; i++) {
                                assertClose(what + " " + names[i] + " (" + pool.threads() + " threads)",
                                        got[i], want[i], 2e-5);
                                flat[i] = got[i].toFloatArray();
                            }
                            if (first == null) {
                                first = flat;
                            } else {
                                assertThat(flat).as("%s bit-identical across pool sizes", what).isDeepEqualTo(first);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int[] divisors(int c) {
        return Arrays.stream(new int[]{1, c, 2, 3}).filter(g -> g <= c && c % g == 0).distinct().toArray();
    }
}
