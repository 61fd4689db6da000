package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Neighborhood;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Dense and neighbourhood attention kernels: SIMD against the reference on odd shapes and every mask kind,
 * neighbourhood attention against dense attention with the equivalent mask, key ranges against additive masks,
 * pool-size determinism and fully masked rows.
 */
class AttentionKernelsTest {

    private static final int[] LENGTHS = {1, 7, 13, 17, 33, 130};
    private static final int[] HEAD_DIMS = {5, 16, 32, 33};
    private static final WorkerPool POOL = new WorkerPool(2);
    private static final Backend SIMD = new SimdBackend(POOL);
    private static final Backend REF = new ReferenceBackend();

    @AfterAll
    static void stop() {
        POOL.shutdown();
    }

    /** Inputs of one attention call: q (B,H,Lq,d), k, v (B,H,Lk,d), an upstream gradient dout (B,H,Lq,d). */
    record Case(int B, int H, int Lq, int Lk, int d, float scale, Tensor q, Tensor k, Tensor v, Tensor dout) {
        static Case random(long seed, int B, int H, int Lq, int Lk, int d) {
            Rng rng = new Rng(seed);
            return new Case(B, H, Lq, Lk, d, (float) (1 / Math.sqrt(d)), rng.normal(0, 1, B, H, Lq, d),
                    rng.normal(0, 1, B, H, Lk, d), rng.normal(0, 1, B, H, Lk, d), rng.normal(0, 1, B, H, Lq, d));
        }
    }

    /** out, lse, dq, dk, dv of one forward and backward. */
    private static Map<String, Tensor> dense(Backend be, Case c, AttentionMask mask) {
        Tensor out = Tensor.zeros(c.B, c.H, c.Lq, c.d), lse = Tensor.zeros(c.B, c.H, c.Lq);
        Tensor dq = Tensor.zeros(c.B, c.H, c.Lq, c.d), dk = Tensor.zeros(c.B, c.H, c.Lk, c.d);
        Tensor dv = Tensor.zeros(c.B, c.H, c.Lk, c.d);
        be.attentionForward(out, lse, c.q, c.k, c.v, mask, c.B, c.H, c.Lq, c.Lk, c.d, c.scale);
        be.attentionBackward(dq, dk, dv, c.dout, c.q, c.k, c.v, out, lse, mask, c.B, c.H, c.Lq, c.Lk, c.d, c.scale);
        return results(out, lse, dq, dk, dv);
    }

    private static Map<String, Tensor> neighborhood(Backend be, Case c, int grid, int kernel) {
        Tensor out = Tensor.zeros(c.B, c.H, c.Lq, c.d), lse = Tensor.zeros(c.B, c.H, c.Lq);
        Tensor dq = Tensor.zeros(c.B, c.H, c.Lq, c.d), dk = Tensor.zeros(c.B, c.H, c.Lk, c.d);
        Tensor dv = Tensor.zeros(c.B, c.H, c.Lk, c.d);
        be.neighborhoodAttentionForward(out, lse, c.q, c.k, c.v, c.B, c.H, grid, kernel, c.d, c.scale);
        be.neighborhoodAttentionBackward(dq, dk, dv, c.dout, c.q, c.k, c.v, out, lse, c.B, c.H, grid, kernel, c.d,
                c.scale);
        return results(out, lse, dq, dk, dv);
    }

    private static Map<String, Tensor> results(Tensor out, Tensor lse, Tensor dq, Tensor dk, Tensor dv) {
        Map<String, Tensor> r = new LinkedHashMap<>();
        r.put("out", out);
        r.put("lse", lse);
        r.put("dq", dq);
        r.put("dk", dk);
        r.put("dv", dv);
        return r;
    }

    private static void assertClose(String what, Map<String, Tensor> got, Map<String, Tensor> want, double tol) {
        for (String name : want.keySet()) {
            AllClose r = AllClose.check(what + " " + name, got.get(name), want.get(name), tol, tol);
            assertThat(r.ok()).as(r.message()).isTrue();
        }
    }

    private static void assertIdentical(String what, Map<String, Tensor> got, Map<String, Tensor> want) {
        for (String name : want.keySet()) {
            assertThat(got.get(name).toFloatArray()).as(what + " " + name).containsExactly(want.get(name).toFloatArray());
        }
    }

    /** Scale token counts 1, 4, 9, ... cut so that they sum to L. */
    private static int[] schedule(int L) {
        List<Integer> counts = new ArrayList<>();
        for (int s = 1, left = L; left > 0; s++) {
            counts.add(Math.min(s * s, left));
            left -= s * s;
        }
        return counts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A random 0/−inf (Lq, Lk) mask, about a third masked, with row 0 fully masked when Lq > 1. */
    private static AttentionMask.Additive randomAdditive(long seed, int Lq, int Lk) {
        float[] u = new Rng(seed).uniformArray(Lq * Lk, 0, 1);
        for (int e = 0; e < u.length; e++) {
            u[e] = u[e] < 0.35f || (Lq > 1 && e < Lk) ? Float.NEGATIVE_INFINITY : 0f;
        }
        return AttentionMask.additive(Tensor.of(u, Lq, Lk));
    }

    /** Random key intervals, some empty. */
    private static AttentionMask.KeyRanges randomRanges(long seed, int Lq, int Lk) {
        Rng rng = new Rng(seed);
        int[] start = new int[Lq], end = new int[Lq];
        for (int i = 0; i < Lq; i++) {
            int a = rng.nextInt(Lk + 1), b = rng.nextInt(Lk + 1);
            start[i] = Math.min(a, b);
            end[i] = Math.max(a, b);
        }
        return AttentionMask.keyRanges(start, end);
    }

    private static Map<String, AttentionMask> masks(int L) {
        Map<String, AttentionMask> m = new LinkedHashMap<>();
        m.put("none", AttentionMask.none());
        m.put("additive", randomAdditive(L, L, L));
        m.put("blockCausal", AttentionMask.blockCausal(schedule(L)));
        m.put("blockDiagonal", AttentionMask.blockDiagonal(schedule(L)));
        m.put("ranges", randomRanges(L + 1, L, L));
        return m;
    }

    @Test
    void simdDenseAttentionMatchesTheReferenceOnOddShapesAndEveryMask() {
        for (int L : LENGTHS) {
            for (int d : HEAD_DIMS) {
                Case c = Case.random(31L * L + d, 2, 2, L, L, d);
                for (var e : masks(L).entrySet()) {
                    String what = "L=" + L + " d=" + d + " mask=" + e.getKey();
                    assertClose(what, dense(SIMD, c, e.getValue()), dense(REF, c, e.getValue()), 2e-5);
                }
            }
        }
    }

    @Test
    void simdCrossAttentionWithMoreKeysThanQueriesMatchesTheReference() {
        for (int[] s : new int[][]{{7, 130}, {130, 7}, {13, 65}}) {
            Case c = Case.random(s[0] * 1000L + s[1], 1, 3, s[0], s[1], 32);
            for (AttentionMask mask : List.of(AttentionMask.none(), randomAdditive(5, s[0], s[1]),
                    randomRanges(6, s[0], s[1]))) {
                assertClose("Lq=" + s[0] + " Lk=" + s[1] + " " + mask.getClass().getSimpleName(),
                        dense(SIMD, c, mask), dense(REF, c, mask), 2e-5);
            }
        }
    }

    @Test
    void keyRangeMasksEqualTheirAdditiveForm() {
        int[] scales = {1, 4, 16, 64};
        Case c = Case.random(7, 2, 2, 85, 85, 32);
        for (AttentionMask mask : List.of(AttentionMask.blockCausal(scales), AttentionMask.blockDiagonal(scales))) {
            Tensor additive = mask.toAdditive(85, 85);
            for (Backend be : List.of(REF, SIMD)) {
                assertClose(be.name() + " " + mask, dense(be, c, mask), dense(be, c, AttentionMask.additive(additive)),
                        2e-6);
            }
        }
    }

    @Test
    void neighbourhoodAttentionEqualsDenseAttentionWithTheWindowMask() {
        for (int[] gk : new int[][]{{5, 3}, {7, 3}, {6, 5}, {9, 7}, {16, 7}, {16, 3}, {4, 4}}) {
            int grid = gk[0], kernel = gk[1], N = grid * grid;
            for (int d : new int[]{5, 32, 33}) {
                Case c = Case.random(grid * 100L + kernel * 10L + d, 1, 2, N, N, d);
                AttentionMask window = Neighborhood.additiveMask(grid, kernel);
                Map<String, Tensor> oracle = dense(REF, c, window);
                String what = "grid=" + grid + " kernel=" + kernel + " d=" + d;
                assertClose(what + " reference", neighborhood(REF, c, grid, kernel), oracle, 2e-6);
                assertClose(what + " simd", neighborhood(SIMD, c, grid, kernel), oracle, 2e-5);
            }
        }
    }

    @Test
    void neighbourhoodAttentionWithTheKernelAsLargeAsTheGridIsFullAttention() {
        for (int grid : new int[]{3, 4, 5}) {
            Case c = Case.random(grid, 2, 1, grid * grid, grid * grid, 16);
            Map<String, Tensor> full = dense(REF, c, AttentionMask.none());
            assertClose("reference grid=" + grid, neighborhood(REF, c, grid, grid), full, 2e-6);
            assertClose("simd grid=" + grid, neighborhood(SIMD, c, grid, grid), full, 2e-5);
        }
    }

    @Test
    void resultsAreBitIdenticalForPoolSizesOneTwoAndThree() {
        Case c = Case.random(11, 2, 3, 130, 130, 33);
        Case n = Case.random(12, 2, 3, 256, 256, 32);
        List<Map<String, Tensor>> runs = new ArrayList<>();
        for (int threads = 1; threads <= 3; threads++) {
            WorkerPool pool = new WorkerPool(threads);
            try {
                Backend be = new SimdBackend(pool);
                Map<String, Tensor> r = new LinkedHashMap<>();
                dense(be, c, randomAdditive(3, 130, 130)).forEach((k, v) -> r.put("additive " + k, v));
                dense(be, c, AttentionMask.blockCausal(schedule(130))).forEach((k, v) -> r.put("causal " + k, v));
                neighborhood(be, n, 16, 7).forEach((k, v) -> r.put("neighbourhood " + k, v));
                runs.add(r);
            } finally {
                pool.shutdown();
            }
        }
        assertIdentical("2 threads vs 1", runs.get(1), runs.get(0));
        assertIdentical("3 threads vs 1", runs.get(2), runs.get(0));
    }

    @Test
    void aFullyMaskedRowGivesZeroOutputAndNoGradient() {
        int L = 9, d = 7;
        Case c = Case.random(5, 1, 2, L, L, d);
        float[] m = new float[L * L];
        java.util.Arrays.fill(m, 3 * L, 4 * L, Float.NEGATIVE_INFINITY);     // row 3 sees nothing
        int[] start = new int[L], end = new int[L];
        java.util.Arrays.fill(end, L);
        end[3] = 0;                                                          // empty range for row 3
        for (AttentionMask mask : List.of(AttentionMask.additive(Tensor.of(m, L, L)),
                AttentionMask.keyRanges(start, end))) {
            for (Backend be : List.of(REF, SIMD)) {
                Map<String, Tensor> r = dense(be, c, mask);
                String what = be.name() + " " + mask.getClass().getSimpleName();
                for (int h = 0; h < 2; h++) {
                    for (int e = 0; e < d; e++) {
                        assertThat(r.get("out").get(0, h, 3, e)).as(what + " out").isZero();
                        assertThat(r.get("dq").get(0, h, 3, e)).as(what + " dq").isZero();
                    }
                    assertThat(r.get("lse").get(0, h, 3)).as(what + " lse").isEqualTo(Float.NEGATIVE_INFINITY);
                }
                for (String name : r.keySet()) {
                    for (float x : r.get(name).toFloatArray()) {
                        assertThat(Float.isNaN(x)).as(what + " " + name + " has NaN").isFalse();
                    }
                }
            }
        }
    }

    @Test
    void neighbourhoodAttentionRejectsAKernelLargerThanTheGrid() {
        Case c = Case.random(1, 1, 1, 9, 9, 4);
        Tensor out = Tensor.zeros(1, 1, 9, 4), lse = Tensor.zeros(1, 1, 9);
        for (Backend be : List.of(REF, SIMD)) {
            assertThatThrownBy(() -> be.neighborhoodAttentionForward(out, lse, c.q, c.k, c.v, 1, 1, 3, 5, 4, 1f))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("grid 3, kernel 5");
        }
    }
}
