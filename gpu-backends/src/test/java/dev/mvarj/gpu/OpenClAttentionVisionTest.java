package dev.mvarj.gpu;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.mvarj.gpu.OpenClTestSupport.GPU;
import static dev.mvarj.gpu.OpenClTestSupport.assertClose;
import static dev.mvarj.gpu.OpenClTestSupport.dev;

/** Attention (dense with every mask kind, neighbourhood), im2col / col2im and group norm against the reference. */
class OpenClAttentionVisionTest {

    private static final Backend REF = new ReferenceBackend();
    private static final Rng RNG = new Rng(99);
    private static Backend cl;

    @BeforeAll
    static void open() {
        cl = OpenClTestSupport.backend();
    }

    /** Forward and backward of one attention call on a backend; inputs are moved to its device. */
    private static Map<String, Tensor> attention(Backend be, Tensor q, Tensor k, Tensor v, Tensor dout,
                                                 AttentionMask mask, int grid, int kernel, int B, int H, int Lq,
                                                 int Lk, int d, float scale) {
        Device dv0 = be.device();
        Tensor Q = q.to(dv0), K = k.to(dv0), V = v.to(dv0), DO = dout.to(dv0);
        Tensor out = Tensor.zeros(dv0, B, H, Lq, d), lse = Tensor.zeros(dv0, B, H, Lq);
        Tensor dq = Tensor.zeros(dv0, B, H, Lq, d), dk = Tensor.zeros(dv0, B, H, Lk, d), dv = Tensor.zeros(dv0, B, H, Lk, d);
        if (mask == null) {
            be.neighborhoodAttentionForward(out, lse, Q, K, V, B, H, grid, kernel, d, scale);
            be.neighborhoodAttentionBackward(dq, dk, dv, DO, Q, K, V, out, lse, B, H, grid, kernel, d, scale);
        } else {
            be.attentionForward(out, lse, Q, K, V, mask, B, H, Lq, Lk, d, scale);
            be.attentionBackward(dq, dk, dv, DO, Q, K, V, out, lse, mask, B, H, Lq, Lk, d, scale);
        }
        Map<String, Tensor> r = new LinkedHashMap<>();
        r.put("out", out);
        r.put("lse", lse);
        r.put("dq", dq);
        r.put("dk", dk);
        r.put("dv", dv);
        return r;
    }

    private static void compare(String what, AttentionMask mask, int grid, int kernel, int B, int H, int Lq, int Lk,
                                int d) {
        float scale = (float) (1 / Math.sqrt(d));
        Tensor q = RNG.normal(0, 1, B, H, Lq, d), k = RNG.normal(0, 1, B, H, Lk, d);
        Tensor v = RNG.normal(0, 1, B, H, Lk, d), dout = RNG.normal(0, 1, B, H, Lq, d);
        Map<String, Tensor> want = attention(REF, q, k, v, dout, mask, grid, kernel, B, H, Lq, Lk, d, scale);
        Map<String, Tensor> got = attention(cl, q, k, v, dout, mask, grid, kernel, B, H, Lq, Lk, d, scale);
        want.forEach((name, w) -> assertClose(what + " " + name, got.get(name), w, DeviceTolerance.ATTENTION));
    }

    @Test
    void denseAttentionWithoutMaskOnOddShapes() {
        for (int[] s : new int[][]{{1, 1, 1}, {7, 9, 8}, {17, 33, 17}, {33, 7, 33}, {5, 257, 4}}) {
            compare("none Lq=" + s[0] + " Lk=" + s[1] + " d=" + s[2], AttentionMask.none(), 0, 0, 2, 2, s[0], s[1],
                    s[2]);
        }
    }

    @Test
    void denseAttentionWithAnAdditiveMaskIncludingAFullyMaskedRow() {
        int Lq = 7, Lk = 17;
        float[] bias = RNG.normal(0, 1, Lq, Lk).toFloatArray();
        for (int j = 0; j < Lk; j++) {
            bias[2 * Lk + j] = Float.NEGATIVE_INFINITY;             // row 2 sees nothing
            if (j % 3 == 0) {
                bias[4 * Lk + j] = Float.NEGATIVE_INFINITY;
            }
        }
        Tensor host = Tensor.of(bias, Lq, Lk);
        compare("additive (host bias)", AttentionMask.additive(host), 0, 0, 1, 3, Lq, Lk, 9);
        // a bias already on the device is used in place on the device; the reference reads it on the CPU
        float scale = 0.5f;
        Tensor q = RNG.normal(0, 1, 1, 1, Lq, 5), k = RNG.normal(0, 1, 1, 1, Lk, 5), v = RNG.normal(0, 1, 1, 1, Lk, 5);
        Tensor dout = RNG.normal(0, 1, 1, 1, Lq, 5);
        Map<String, Tensor> want = attention(REF, q, k, v, dout, AttentionMask.additive(host), 0, 0, 1, 1, Lq, Lk, 5,
                scale);
        Map<String, Tensor> got = attention(cl, q, k, v, dout, AttentionMask.additive(dev(host)), 0, 0, 1, 1, Lq, Lk,
                5, scale);
        want.forEach((name, w) -> assertClose("additive (device bias) " + name, got.get(name), w, DeviceTolerance.ATTENTION));
    }

    @Test
    void denseAttentionWithKeyRanges() {
        int[] scales = {1, 4, 16, 9};
        int L = 30;
        compare("block-causal", AttentionMask.blockCausal(scales), 0, 0, 2, 2, L, L, 16);
        compare("block-diagonal", AttentionMask.blockDiagonal(scales), 0, 0, 1, 2, L, L, 7);
        int[] start = {0, 3, 5, 0, 2}, end = {4, 3, 9, 9, 7};     // row 1 is empty: fully masked
        compare("ranges with an empty row", AttentionMask.keyRanges(start, end), 0, 0, 1, 2, 5, 9, 3);
    }

    @Test
    void keyRangeMasksOverSeveralTilesSkipTheTilesTheyHide() {
        // VAR's and MVAR's masks on a schedule several key tiles long: whole query tiles are hidden from a key
        // block (dk, dv) and whole key tiles from a query block (forward, dq)
        int[] scales = {1, 4, 9, 16, 25, 36, 49, 64, 81};      // L = 285
        int L = java.util.Arrays.stream(scales).sum();
        compare("block-causal, L=" + L, AttentionMask.blockCausal(scales), 0, 0, 1, 2, L, L, 17);
        compare("block-diagonal, L=" + L, AttentionMask.blockDiagonal(scales), 0, 0, 1, 2, L, L, 17);
        // rows that alternate between two far-apart key ranges: the tiles between them are hidden from the block
        int Lq = 37, Lk = 300;
        int[] start = new int[Lq], end = new int[Lq];
        for (int i = 0; i < Lq; i++) {
            start[i] = i % 2 == 0 ? i % 5 : 250 + i % 7;
            end[i] = i % 2 == 0 ? 9 + i : Lk - i % 3;
        }
        start[5] = end[5] = 100;                                // and one row sees nothing
        compare("split ranges", AttentionMask.keyRanges(start, end), 0, 0, 1, 1, Lq, Lk, 9);
    }

    @Test
    void attentionBackwardRepeatsBitForBit() {
        int[] scales = {1, 4, 9, 16, 25, 36, 49, 64};
        int L = java.util.Arrays.stream(scales).sum(), d = 16;
        Tensor q = RNG.normal(0, 1, 1, 2, L, d), k = RNG.normal(0, 1, 1, 2, L, d), v = RNG.normal(0, 1, 1, 2, L, d);
        Tensor dout = RNG.normal(0, 1, 1, 2, L, d);
        var mask = AttentionMask.blockCausal(scales);
        Map<String, Tensor> first = attention(cl, q, k, v, dout, mask, 0, 0, 1, 2, L, L, d, 0.25f);
        Map<String, Tensor> second = attention(cl, q, k, v, dout, mask, 0, 0, 1, 2, L, L, d, 0.25f);
        first.forEach((name, t) -> org.assertj.core.api.Assertions.assertThat(second.get(name).toFloatArray())
                .as(name + " of a second run").isEqualTo(t.toFloatArray()));
    }

    @Test
    void neighborhoodAttentionMatchesReference() {
        // {16, 7} is MVAR-d16's largest neighbourhood scale: the windows of a query patch span two key tiles
        for (int[] gk : new int[][]{{3, 1}, {5, 3}, {7, 5}, {4, 4}, {9, 3}, {16, 7}}) {
            int grid = gk[0], kernel = gk[1], N = grid * grid;
            for (int d : grid == 16 ? new int[]{64} : new int[]{1, 8, 17}) {
                compare("neighbourhood grid=" + grid + " kernel=" + kernel + " d=" + d, null, grid, kernel, 1, 2, N,
                        N, d);
            }
        }
    }

    @Test
    void im2colAndCol2imMatchReference() {
        // {B, C, H, W, kh, kw, stride, padTop, padLeft}
        int[][] cases = {{2, 3, 7, 5, 3, 3, 1, 1, 1}, {1, 2, 8, 9, 3, 3, 2, 1, 1}, {1, 4, 5, 5, 1, 1, 1, 0, 0},
                {2, 1, 17, 7, 4, 2, 2, 1, 0}, {1, 3, 1, 1, 3, 3, 1, 1, 1}};
        for (int[] c : cases) {
            int B = c[0], C = c[1], H = c[2], W = c[3], kh = c[4], kw = c[5], stride = c[6], pt = c[7], pl = c[8];
            int OH = (H + 2 * pt - kh) / stride + 1, OW = (W + 2 * pl - kw) / stride + 1;
            String what = String.format("B=%d C=%d H=%d W=%d k=%dx%d s=%d", B, C, H, W, kh, kw, stride);
            Tensor x = RNG.normal(0, 1, B, C, H, W);
            Tensor want = Tensor.zeros(Device.CPU, B, C * kh * kw, OH * OW), got = Tensor.zeros(GPU, B, C * kh * kw, OH * OW);
            REF.im2col(want, x, B, C, H, W, kh, kw, stride, pt, pl, OH, OW);
            cl.im2col(got, dev(x), B, C, H, W, kh, kw, stride, pt, pl, OH, OW);
            assertClose("im2col " + what, got, want, DeviceTolerance.EXACT);
            Tensor cols = RNG.normal(0, 1, B, C * kh * kw, OH * OW), dx0 = RNG.normal(0, 1, B, C, H, W);
            Tensor dxWant = dx0.copy(), dxGot = dev(dx0);
            REF.col2im(dxWant, cols, B, C, H, W, kh, kw, stride, pt, pl, OH, OW);
            cl.col2im(dxGot, dev(cols), B, C, H, W, kh, kw, stride, pt, pl, OH, OW);
            assertClose("col2im " + what, dxGot, dxWant, DeviceTolerance.EXACT);       // same order of additions: bit-identical
        }
    }

    @Test
    void groupNormForwardAndBackwardMatchReference() {
        // {B, C, HW, G}
        for (int[] s : new int[][]{{2, 6, 17, 3}, {1, 4, 1, 1}, {3, 8, 33, 8}, {1, 32, 7, 4}}) {
            int B = s[0], C = s[1], HW = s[2], G = s[3];
            for (int affine = 0; affine < 2; affine++) {   // 0: none, 1: w and b
                String what = String.format("groupNorm B=%d C=%d HW=%d G=%d affine=%d", B, C, HW, G, affine);
                Tensor x = RNG.normal(0.3f, 2, B, C, HW), dout = RNG.normal(0, 1, B, C, HW);
                Tensor w = affine > 0 ? RNG.normal(1, 0.3f, C) : null, b = affine > 0 ? RNG.normal(0, 0.3f, C) : null;
                Tensor out = Tensor.zeros(Device.CPU, B, C, HW), mean = Tensor.zeros(Device.CPU, B, G), rstd = Tensor.zeros(Device.CPU, B, G);
                Tensor gOut = Tensor.zeros(GPU, B, C, HW), gMean = Tensor.zeros(GPU, B, G), gRstd = Tensor.zeros(GPU, B, G);
                REF.groupNormForward(out, mean, rstd, x, w, b, B, C, HW, G, 1e-5f);
                cl.groupNormForward(gOut, gMean, gRstd, dev(x), w == null ? null : dev(w), b == null ? null : dev(b),
                        B, C, HW, G, 1e-5f);
                assertClose(what + " out", gOut, out, DeviceTolerance.NORM);
                assertClose(what + " mean", gMean, mean, DeviceTolerance.NORM);
                assertClose(what + " rstd", gRstd, rstd, DeviceTolerance.NORM);
                Tensor dx = Tensor.zeros(Device.CPU, B, C, HW), dw = Tensor.zeros(Device.CPU, C), db = Tensor.zeros(Device.CPU, C);
                Tensor gdx = Tensor.zeros(GPU, B, C, HW), gdw = Tensor.zeros(GPU, C), gdb = Tensor.zeros(GPU, C);
                REF.groupNormBackward(dx, affine > 0 ? dw : null, affine == 1 ? db : null, dout, x, mean, rstd, w,
                        B, C, HW, G);
                cl.groupNormBackward(gdx, affine > 0 ? gdw : null, affine == 1 ? gdb : null, dev(dout), dev(x),
                        dev(mean), dev(rstd), w == null ? null : dev(w), B, C, HW, G);
                assertClose(what + " dx", gdx, dx, DeviceTolerance.NORM_BACKWARD);
                if (affine > 0) {
                    assertClose(what + " dw", gdw, dw, DeviceTolerance.NORM_BACKWARD);
                }
                if (affine == 1) {
                    assertClose(what + " db", gdb, db, DeviceTolerance.NORM_BACKWARD);
                }
            }
        }
    }
}
