package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.Neighborhood;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static dev.mvarj.tensor.cpu.Host.contiguous;
import static dev.mvarj.tensor.cpu.Host.f;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.L;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.S;

/**
 * Dense (flash-style) and neighbourhood attention on the Vector API. Definitions in {@code ReferenceAttention}.
 *
 * <p>Dense: K (and V for backward) of one (b, h) are transposed to (d, Lk), so a block of logits
 * s[j..j+L) = Σ_c q_c · kᵀ[c][j..j+L) is a run of broadcast FMAs across keys with no horizontal sums; the output
 * and gradient updates are FMAs along d. The forward keeps one block of {@link #KEY_BLOCK} probabilities per row
 * (online softmax: running max m, running sum l, rescaled accumulator); the backward recomputes P from lse.
 * Key ranges limit the blocks a row visits, so masked blocks cost nothing.
 *
 * <p>Neighbourhood: a gather over {@link Neighborhood#table}: kernel² dot products along d per query.
 *
 * <p>Threads: both backwards run one task per (b, h), which owns its dq, dk, dv slices and accumulates in a fixed
 * order, so results are bit-identical for any pool size; forward rows are independent.
 */
final class SimdAttention {

    /** Keys per block of the online softmax (a multiple of every species length). */
    static final int KEY_BLOCK = Integer.getInteger("mvarj.attention.keyBlock", 64);

    private SimdAttention() {
    }

    /** Per-thread scratch arrays, grown on demand, so a call allocates nothing per (b, h). */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[9][0]);

    private static float[] scratch(int slot, int n) {
        float[][] s = SCRATCH.get();
        if (s[slot].length < n) {
            s[slot] = new float[n];
        }
        return s[slot];
    }

    /** kt[c · Lk + j] = k[ko + j · d + c]: (Lk, d) -> (d, Lk). */
    private static void transpose(float[] k, int ko, int Lk, int d, float[] kt) {
        for (int j = 0; j < Lk; j++) {
            for (int c = 0; c < d; c++) {
                kt[c * Lk + j] = k[ko + j * d + c];
            }
        }
    }

    /** s[t] = Σ_c x[xo + c] · kt[c · ld + j0 + t] for t < n: one query against n consecutive (transposed) keys. */
    private static void scores(float[] x, int xo, float[] kt, int ld, int j0, int n, int d, float[] s) {
        scores(x, xo, kt, ld, j0, n, d, s, 0);
    }

    /** As above, written to s[so + t]. */
    private static void scores(float[] x, int xo, float[] kt, int ld, int j0, int n, int d, float[] s, int so) {
        int t = 0;
        for (int bound = S.loopBound(n); t < bound; t += L) {
            FloatVector acc = FloatVector.zero(S);   // not the shared ZERO constant: a boxed phi would allocate
            for (int c = 0; c < d; c++) {
                acc = FloatVector.fromArray(S, kt, c * ld + j0 + t).fma(FloatVector.broadcast(S, x[xo + c]), acc);
            }
            acc.intoArray(s, so + t);
        }
        for (; t < n; t++) {
            float acc = 0f;
            for (int c = 0; c < d; c++) {
                acc = Math.fma(kt[c * ld + j0 + t], x[xo + c], acc);
            }
            s[so + t] = acc;
        }
    }

    /**
     * Four queries against the same n keys: s[s_r + t] = Σ_c x[x_r + c] · kt[c · ld + j0 + t] for r < 4, t < n.
     * Keys go two vectors at a time: per c, two key-vector loads and four query broadcasts feed eight FMAs (eight
     * accumulators), so loads no longer outnumber FMAs; a last single vector and a scalar tail follow.
     */
    private static void scores4(float[] x, int x0, int x1, int x2, int x3, float[] kt, int ld, int j0, int n, int d,
                                float[] s, int s0, int s1, int s2, int s3) {
        int t = 0;
        for (int bound = n - 2 * L; t <= bound; t += 2 * L) {
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S);
            FloatVector c3 = FloatVector.zero(S), e0 = FloatVector.zero(S), e1 = FloatVector.zero(S);
            FloatVector e2 = FloatVector.zero(S), e3 = FloatVector.zero(S);
            for (int c = 0, kc = j0 + t; c < d; c++, kc += ld) {
                FloatVector ka = FloatVector.fromArray(S, kt, kc), kb = FloatVector.fromArray(S, kt, kc + L);
                FloatVector w = FloatVector.broadcast(S, x[x0 + c]);
                c0 = ka.fma(w, c0);
                e0 = kb.fma(w, e0);
                w = FloatVector.broadcast(S, x[x1 + c]);
                c1 = ka.fma(w, c1);
                e1 = kb.fma(w, e1);
                w = FloatVector.broadcast(S, x[x2 + c]);
                c2 = ka.fma(w, c2);
                e2 = kb.fma(w, e2);
                w = FloatVector.broadcast(S, x[x3 + c]);
                c3 = ka.fma(w, c3);
                e3 = kb.fma(w, e3);
            }
            c0.intoArray(s, s0 + t);
            e0.intoArray(s, s0 + t + L);
            c1.intoArray(s, s1 + t);
            e1.intoArray(s, s1 + t + L);
            c2.intoArray(s, s2 + t);
            e2.intoArray(s, s2 + t + L);
            c3.intoArray(s, s3 + t);
            e3.intoArray(s, s3 + t + L);
        }
        for (int bound = S.loopBound(n); t < bound; t += L) {
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S);
            FloatVector c3 = FloatVector.zero(S);
            for (int c = 0; c < d; c++) {
                FloatVector kv = FloatVector.fromArray(S, kt, c * ld + j0 + t);
                c0 = kv.fma(FloatVector.broadcast(S, x[x0 + c]), c0);
                c1 = kv.fma(FloatVector.broadcast(S, x[x1 + c]), c1);
                c2 = kv.fma(FloatVector.broadcast(S, x[x2 + c]), c2);
                c3 = kv.fma(FloatVector.broadcast(S, x[x3 + c]), c3);
            }
            c0.intoArray(s, s0 + t);
            c1.intoArray(s, s1 + t);
            c2.intoArray(s, s2 + t);
            c3.intoArray(s, s3 + t);
        }
        for (; t < n; t++) {
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            for (int c = 0; c < d; c++) {
                float k = kt[c * ld + j0 + t];
                a0 = Math.fma(k, x[x0 + c], a0);
                a1 = Math.fma(k, x[x1 + c], a1);
                a2 = Math.fma(k, x[x2 + c], a2);
                a3 = Math.fma(k, x[x3 + c], a3);
            }
            s[s0 + t] = a0;
            s[s1 + t] = a1;
            s[s2 + t] = a2;
            s[s3 + t] = a3;
        }
    }

    /** out[o + c] = a · x[xo + c] for c < n (a plain multiply; the generic binary-op switch boxes here). */
    private static void scaleRun(float[] x, int xo, float a, float[] out, int o, int n) {
        FloatVector av = FloatVector.broadcast(S, a);
        int c = 0;
        for (int bound = S.loopBound(n); c < bound; c += L) {
            FloatVector.fromArray(S, x, xo + c).mul(av).intoArray(out, o + c);
        }
        for (; c < n; c++) {
            out[o + c] = a * x[xo + c];
        }
    }

    /** y[yo + c] += a · x[xo + c] for c < n. */
    private static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(S, a);
        int c = 0;
        for (int bound = S.loopBound(n); c < bound; c += L) {
            FloatVector.fromArray(S, x, xo + c).fma(av, FloatVector.fromArray(S, y, yo + c)).intoArray(y, yo + c);
        }
        for (; c < n; c++) {
            y[yo + c] = Math.fma(a, x[xo + c], y[yo + c]);
        }
    }

    /**
     * The three updates of one (query i, key j) pair, fused along d: dv_j += p · dout_i, dk_j += a · q_i,
     * dq_i += a · k_j, with a = scale · dS_ij.
     */
    private static void pairUpdate(float p, float a, float[] dout, int doo, float[] q, int qo, float[] k, int ko,
                                   float[] dq, int dqo, float[] dk, int dko, float[] dv, int dvo, int d) {
        FloatVector pv = FloatVector.broadcast(S, p), av = FloatVector.broadcast(S, a);
        int c = 0;
        for (int bound = S.loopBound(d); c < bound; c += L) {
            FloatVector.fromArray(S, dout, doo + c).fma(pv, FloatVector.fromArray(S, dv, dvo + c)).intoArray(dv, dvo + c);
            FloatVector.fromArray(S, q, qo + c).fma(av, FloatVector.fromArray(S, dk, dko + c)).intoArray(dk, dko + c);
            FloatVector.fromArray(S, k, ko + c).fma(av, FloatVector.fromArray(S, dq, dqo + c)).intoArray(dq, dqo + c);
        }
        for (; c < d; c++) {
            dv[dvo + c] = Math.fma(p, dout[doo + c], dv[dvo + c]);
            dk[dko + c] = Math.fma(a, q[qo + c], dk[dko + c]);
            dq[dqo + c] = Math.fma(a, k[ko + c], dq[dqo + c]);
        }
    }

    /** The key interval of query i: the key range of the mask, or all keys. */
    private static int rangeStart(AttentionMask mask, int i) {
        return mask instanceof AttentionMask.KeyRanges r ? r.start(i) : 0;
    }

    private static int rangeEnd(AttentionMask mask, int i, int Lk) {
        return mask instanceof AttentionMask.KeyRanges r ? r.end(i) : Lk;
    }

    // ------------------------------------------------------------------------------------------------ dense

    // q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq)
    static void attentionForward(WorkerPool pool, Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v,
                                 AttentionMask mask, int B, int H, int Lq, int Lk, int d, float scale) {
        mask.check(Lq, Lk);
        float[] O = f(contiguous("attention", out)), LS = f(contiguous("attention", lse));
        float[] Q = f(contiguous("attention", q)), K = f(contiguous("attention", k)), V = f(contiguous("attention", v));
        float[] M = mask instanceof AttentionMask.Additive a ? f(a.bias()) : null;
        int mo = mask instanceof AttentionMask.Additive a ? a.bias().offset() : 0;
        pool.parallelFor(B * H, 1, (bh0, bh1) -> {
            float[] kt = scratch(0, d * Lk), s = scratch(1, KEY_BLOCK), qs = scratch(2, d), acc = scratch(3, d);
            for (int bh = bh0; bh < bh1; bh++) {
                int qo = q.offset() + bh * Lq * d, vo = v.offset() + bh * Lk * d;
                transpose(K, k.offset() + bh * Lk * d, Lk, d, kt);
                if (d == 2 * L) {
                    forwardGrouped(O, LS, Q, V, kt, M, mo, mask, Lq, Lk, scale, qo, vo,
                            out.offset() + bh * Lq * d, lse.offset() + bh * Lq);
                    continue;
                }
                for (int i = 0; i < Lq; i++) {
                    scaleRun(Q, qo + i * d, scale, qs, 0, d);
                    Arrays.fill(acc, 0, d, 0f);
                    float m = Float.NEGATIVE_INFINITY, l = 0f;
                    int end = rangeEnd(mask, i, Lk);
                    for (int j0 = rangeStart(mask, i); j0 < end; j0 += KEY_BLOCK) {
                        int n = Math.min(KEY_BLOCK, end - j0);
                        scores(qs, 0, kt, Lk, j0, n, d, s);                           // s = scale · q_i·k_j
                        if (M != null) {
                            SimdBackend.binaryRun(BinaryOp.ADD, s, 0, M, mo + i * Lk + j0, s, 0, n);
                        }
                        float mNew = Math.max(m, SimdBackend.maxRun(s, 0, n));
                        if (mNew == Float.NEGATIVE_INFINITY) {
                            continue;                                                    // every key so far masked
                        }
                        float corr = (float) Math.exp(m - mNew);                         // 0 when m = −inf
                        l = l * corr + SimdBackend.expShiftedRun(s, 0, mNew, s, 0, n);   // s := exp(s − m)
                        if (corr != 1f) {
                            scaleRun(acc, 0, corr, acc, 0, d);
                        }
                        for (int t = 0; t < n; t++) {
                            if (s[t] != 0f) {
                                axpy(s[t], V, vo + (j0 + t) * d, acc, 0, d);             // acc += p · v_j
                            }
                        }
                        m = mNew;
                    }
                    int oo = out.offset() + (bh * Lq + i) * d;
                    if (l == 0f) {
                        Arrays.fill(O, oo, oo + d, 0f);                                  // fully masked row
                        LS[lse.offset() + bh * Lq + i] = Float.NEGATIVE_INFINITY;
                    } else {
                        scaleRun(acc, 0, 1f / l, O, oo, d);
                        LS[lse.offset() + bh * Lq + i] = m + (float) Math.log(l);
                    }
                }
            }
        });
    }

    /**
     * acc_r += Σ_t w[r · KEY_BLOCK + t] · rows[rowOff + t · d ..] for the four accumulator rows acc_r = acc[r · d ..]
     * (d = 2 vectors), which stay in registers across the n source rows: each source row is loaded once for four
     * weighted sums. The forward's P·V and the backward's A·K.
     */
    private static void accumulateWeightedRows(float[] w, float[] rows, int rowOff, int n, float[] acc) {
        int d = 2 * L;
        FloatVector a0a = FloatVector.fromArray(S, acc, 0), a0b = FloatVector.fromArray(S, acc, L);
        FloatVector a1a = FloatVector.fromArray(S, acc, d), a1b = FloatVector.fromArray(S, acc, d + L);
        FloatVector a2a = FloatVector.fromArray(S, acc, 2 * d), a2b = FloatVector.fromArray(S, acc, 2 * d + L);
        FloatVector a3a = FloatVector.fromArray(S, acc, 3 * d), a3b = FloatVector.fromArray(S, acc, 3 * d + L);
        for (int t = 0; t < n; t++) {
            int j = rowOff + t * d;
            FloatVector va = FloatVector.fromArray(S, rows, j), vb = FloatVector.fromArray(S, rows, j + L);
            FloatVector w0 = FloatVector.broadcast(S, w[t]), w1 = FloatVector.broadcast(S, w[KEY_BLOCK + t]);
            FloatVector w2 = FloatVector.broadcast(S, w[2 * KEY_BLOCK + t]);
            FloatVector w3 = FloatVector.broadcast(S, w[3 * KEY_BLOCK + t]);
            a0a = va.fma(w0, a0a);
            a0b = vb.fma(w0, a0b);
            a1a = va.fma(w1, a1a);
            a1b = vb.fma(w1, a1b);
            a2a = va.fma(w2, a2a);
            a2b = vb.fma(w2, a2b);
            a3a = va.fma(w3, a3a);
            a3b = vb.fma(w3, a3b);
        }
        a0a.intoArray(acc, 0);
        a0b.intoArray(acc, L);
        a1a.intoArray(acc, d);
        a1b.intoArray(acc, d + L);
        a2a.intoArray(acc, 2 * d);
        a2b.intoArray(acc, 2 * d + L);
        a3a.intoArray(acc, 3 * d);
        a3b.intoArray(acc, 3 * d + L);
    }

    /**
     * dst[j] += Σ_r w[r · KEY_BLOCK + t] · x_r for the n rows j = t of dst (d = 2 vectors each, from dstOff): the four
     * source rows x_r (at x0..x3) stay in registers, each destination row is loaded and stored once.
     */
    private static void addWeightedRows(float[] w, float[] x, int x0, int x1, int x2, int x3, float[] dst,
                                        int dstOff, int n) {
        int d = 2 * L;
        FloatVector r0a = FloatVector.fromArray(S, x, x0), r0b = FloatVector.fromArray(S, x, x0 + L);
        FloatVector r1a = FloatVector.fromArray(S, x, x1), r1b = FloatVector.fromArray(S, x, x1 + L);
        FloatVector r2a = FloatVector.fromArray(S, x, x2), r2b = FloatVector.fromArray(S, x, x2 + L);
        FloatVector r3a = FloatVector.fromArray(S, x, x3), r3b = FloatVector.fromArray(S, x, x3 + L);
        for (int t = 0; t < n; t++) {
            int j = dstOff + t * d;
            FloatVector w0 = FloatVector.broadcast(S, w[t]), w1 = FloatVector.broadcast(S, w[KEY_BLOCK + t]);
            FloatVector w2 = FloatVector.broadcast(S, w[2 * KEY_BLOCK + t]);
            FloatVector w3 = FloatVector.broadcast(S, w[3 * KEY_BLOCK + t]);
            FloatVector ya = FloatVector.fromArray(S, dst, j), yb = FloatVector.fromArray(S, dst, j + L);
            ya = r0a.fma(w0, ya).add(r1a.mul(w1)).add(r2a.fma(w2, r3a.mul(w3)));
            yb = r0b.fma(w0, yb).add(r1b.mul(w1)).add(r2b.fma(w2, r3b.mul(w3)));
            ya.intoArray(dst, j);
            yb.intoArray(dst, j + L);
        }
    }

    /**
     * The forward of one (b, h) for head dimension d = 2 vectors, four query rows at a time: each key block's
     * scores are computed per row (−∞ outside the row's key range), each row keeps its own online-softmax max and
     * sum, and the four output accumulators stay in registers across the whole key loop, so each value row is loaded
     * once per four queries instead of once per query with an accumulator load and store. (The P·V loop is written
     * out here rather than calling {@link #accumulateWeightedRows}: the accumulators then stay in registers across
     * all key blocks; through the helper they go to memory once per block, which measured 40 % slower.)
     */
    private static void forwardGrouped(float[] O, float[] LS, float[] Q, float[] V, float[] kt, float[] M, int mo,
                                       AttentionMask mask, int Lq, int Lk, float scale, int qo, int vo, int oo,
                                       int lo) {
        int d = 2 * L;
        float[] P = scratch(4, GROUP * KEY_BLOCK), qs = scratch(5, GROUP * d);
        float[] m = new float[GROUP], l = new float[GROUP], corr = new float[GROUP];
        for (int i0 = 0; i0 < Lq; i0 += GROUP) {
            int rows = Math.min(GROUP, Lq - i0), u0 = Lk, u1 = 0;
            for (int r = 0; r < rows; r++) {
                scaleRun(Q, qo + (i0 + r) * d, scale, qs, r * d, d);
                u0 = Math.min(u0, rangeStart(mask, i0 + r));
                u1 = Math.max(u1, rangeEnd(mask, i0 + r, Lk));
            }
            Arrays.fill(m, Float.NEGATIVE_INFINITY);
            Arrays.fill(l, 0f);
            FloatVector a0a = FloatVector.zero(S), a0b = FloatVector.zero(S), a1a = FloatVector.zero(S);
            FloatVector a1b = FloatVector.zero(S), a2a = FloatVector.zero(S), a2b = FloatVector.zero(S);
            FloatVector a3a = FloatVector.zero(S), a3b = FloatVector.zero(S);
            for (int b0 = u0; b0 < u1; b0 += KEY_BLOCK) {
                int n = Math.min(KEY_BLOCK, u1 - b0);
                scores4(qs, 0, d, 2 * d, 3 * d, kt, Lk, b0, n, d, P, 0, KEY_BLOCK, 2 * KEY_BLOCK, 3 * KEY_BLOCK);
                for (int r = 0; r < GROUP; r++) {                        // P = scale · q_i·k_j, −∞ outside the range
                    int i = i0 + r, pr = r * KEY_BLOCK;
                    corr[r] = 1f;
                    int j0 = r < rows ? Math.max(b0, rangeStart(mask, i)) : b0 + n;
                    int j1 = r < rows ? Math.min(b0 + n, rangeEnd(mask, i, Lk)) : b0 + n;
                    if (j0 >= j1) {
                        Arrays.fill(P, pr, pr + n, 0f);                  // no key of this block for row r
                        continue;
                    }
                    Arrays.fill(P, pr, pr + j0 - b0, Float.NEGATIVE_INFINITY);
                    Arrays.fill(P, pr + j1 - b0, pr + n, Float.NEGATIVE_INFINITY);
                    if (M != null) {
                        SimdBackend.binaryRun(BinaryOp.ADD, P, pr + j0 - b0, M, mo + i * Lk + j0, P, pr + j0 - b0,
                                j1 - j0);
                    }
                    float mNew = Math.max(m[r], SimdBackend.maxRun(P, pr, n));
                    if (mNew == Float.NEGATIVE_INFINITY) {
                        Arrays.fill(P, pr, pr + n, 0f);                  // every key so far masked
                        continue;
                    }
                    corr[r] = (float) Math.exp(m[r] - mNew);             // 0 when m = −inf
                    l[r] = l[r] * corr[r] + SimdBackend.expShiftedRun(P, pr, mNew, P, pr, n);  // P := exp(s − m)
                    m[r] = mNew;
                }
                FloatVector c0 = FloatVector.broadcast(S, corr[0]), c1 = FloatVector.broadcast(S, corr[1]);
                FloatVector c2 = FloatVector.broadcast(S, corr[2]), c3 = FloatVector.broadcast(S, corr[3]);
                a0a = a0a.mul(c0);
                a0b = a0b.mul(c0);
                a1a = a1a.mul(c1);
                a1b = a1b.mul(c1);
                a2a = a2a.mul(c2);
                a2b = a2b.mul(c2);
                a3a = a3a.mul(c3);
                a3b = a3b.mul(c3);
                for (int t = 0; t < n; t++) {                            // acc_r += p_rj · v_j
                    int j = vo + (b0 + t) * d;
                    FloatVector va = FloatVector.fromArray(S, V, j), vb = FloatVector.fromArray(S, V, j + L);
                    FloatVector w0 = FloatVector.broadcast(S, P[t]), w1 = FloatVector.broadcast(S, P[KEY_BLOCK + t]);
                    FloatVector w2 = FloatVector.broadcast(S, P[2 * KEY_BLOCK + t]);
                    FloatVector w3 = FloatVector.broadcast(S, P[3 * KEY_BLOCK + t]);
                    a0a = va.fma(w0, a0a);
                    a0b = vb.fma(w0, a0b);
                    a1a = va.fma(w1, a1a);
                    a1b = vb.fma(w1, a1b);
                    a2a = va.fma(w2, a2a);
                    a2b = vb.fma(w2, a2b);
                    a3a = va.fma(w3, a3a);
                    a3b = vb.fma(w3, a3b);
                }
            }
            for (int r = 0; r < rows; r++) {
                FloatVector xa = r == 0 ? a0a : r == 1 ? a1a : r == 2 ? a2a : a3a;
                FloatVector xb = r == 0 ? a0b : r == 1 ? a1b : r == 2 ? a2b : a3b;
                int o = oo + (i0 + r) * d;
                if (l[r] == 0f) {
                    Arrays.fill(O, o, o + d, 0f);                        // fully masked row
                    LS[lo + i0 + r] = Float.NEGATIVE_INFINITY;
                } else {
                    FloatVector inv = FloatVector.broadcast(S, 1f / l[r]);
                    xa.mul(inv).intoArray(O, o);
                    xb.mul(inv).intoArray(O, o + L);
                    LS[lo + i0 + r] = m[r] + (float) Math.log(l[r]);
                }
            }
        }
    }

    // dout, q, out (B,H,Lq,d), k, v (B,H,Lk,d), lse (B,H,Lq) -> dq (B,H,Lq,d), dk, dv (B,H,Lk,d)
    static void attentionBackward(WorkerPool pool, Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k,
                                  Tensor v, Tensor out, Tensor lse, AttentionMask mask,
                                  int B, int H, int Lq, int Lk, int d, float scale) {
        mask.check(Lq, Lk);
        float[] DQ = f(contiguous("attention", dq)), DK = f(contiguous("attention", dk));
        float[] DV = f(contiguous("attention", dv)), DO = f(contiguous("attention", dout));
        float[] Q = f(contiguous("attention", q)), K = f(contiguous("attention", k)), V = f(contiguous("attention", v));
        float[] O = f(contiguous("attention", out)), LS = f(contiguous("attention", lse));
        float[] M = mask instanceof AttentionMask.Additive a ? f(a.bias()) : null;
        int mo = mask instanceof AttentionMask.Additive a ? a.bias().offset() : 0;
        pool.parallelFor(B * H, 1, (bh0, bh1) -> {
            float[] kt = scratch(0, d * Lk), vt = scratch(1, d * Lk), s = scratch(2, KEY_BLOCK);
            float[] dp = scratch(3, KEY_BLOCK), qs = scratch(4, Lq * d), D = scratch(5, Lq);
            for (int bh = bh0; bh < bh1; bh++) {
                int qo = q.offset() + bh * Lq * d, ko = k.offset() + bh * Lk * d, vo = v.offset() + bh * Lk * d;
                int doo = dout.offset() + bh * Lq * d, dqo = dq.offset() + bh * Lq * d;
                int dko = dk.offset() + bh * Lk * d, dvo = dv.offset() + bh * Lk * d, lo = lse.offset() + bh * Lq;
                transpose(K, ko, Lk, d, kt);
                transpose(V, vo, Lk, d, vt);
                scaleRun(Q, qo, scale, qs, 0, Lq * d);
                for (int i = 0; i < Lq; i++) {
                    D[i] = SimdRows.dot(DO, doo + i * d, O, out.offset() + bh * Lq * d + i * d, d); // D_i = dout_i·out_i
                }
                Arrays.fill(DQ, dqo, dqo + Lq * d, 0f);
                Arrays.fill(DK, dko, dko + Lk * d, 0f);
                Arrays.fill(DV, dvo, dvo + Lk * d, 0f);
                if (d == 2 * L) {
                    backwardGrouped(bh, DQ, DK, DV, DO, Q, K, qs, kt, vt, D, LS, M, mo, mask, Lq, Lk, scale,
                            qo, ko, doo, dqo, dko, dvo, lo);
                    continue;
                }
                // key blocks outside, queries inside: a block's dk, dv rows stay in cache while every query visits it
                for (int b0 = 0; b0 < Lk; b0 += KEY_BLOCK) {
                    int b1 = Math.min(Lk, b0 + KEY_BLOCK);
                    for (int i = 0; i < Lq; i++) {
                        float l = LS[lo + i];
                        int j0 = Math.max(b0, rangeStart(mask, i)), j1 = Math.min(b1, rangeEnd(mask, i, Lk));
                        if (j0 >= j1 || l == Float.NEGATIVE_INFINITY) {
                            continue;
                        }
                        int n = j1 - j0;
                        scores(qs, i * d, kt, Lk, j0, n, d, s);                      // s = scale · q_i·k_j
                        if (M != null) {
                            SimdBackend.binaryRun(BinaryOp.ADD, s, 0, M, mo + i * Lk + j0, s, 0, n);
                        }
                        SimdBackend.expShiftedRun(s, 0, l, s, 0, n);                  // P = exp(s − lse)
                        scores(DO, doo + i * d, vt, Lk, j0, n, d, dp);                // dP = dout_i·v_j
                        for (int t = 0; t < n; t++) {
                            float p = s[t];
                            if (p == 0f) {
                                continue;
                            }
                            float a = scale * p * (dp[t] - D[i]);                     // scale · dS_ij
                            int j = j0 + t;
                            pairUpdate(p, a, DO, doo + i * d, Q, qo + i * d, K, ko + j * d,
                                    DQ, dqo + i * d, DK, dko + j * d, DV, dvo + j * d, d);
                        }
                    }
                }
            }
        });
    }

    /** Query rows per group in {@link #backwardGrouped}. */
    private static final int GROUP = 4;

    /**
     * The backward of one (b, h) for head dimension d = 2 vectors, four query rows at a time against each key block:
     * the rows' P and scale·dS for the block's keys are computed first (rows outside their key range or fully
     * masked contribute zeros), then three register-blocked passes: dv_j += Σ_r P_rj · dout_r and
     * dk_j += Σ_r A_rj · q_r load and store each key row once for four queries (the four rows' dout and q stay in
     * registers), and dq_r += Σ_j A_rj · k_j keeps the four dq rows in registers across the block. That is about a
     * fifth of the memory traffic of one pair at a time. Accumulation order is fixed (deterministic).
     */
    private static void backwardGrouped(int bh, float[] DQ, float[] DK, float[] DV, float[] DO, float[] Q, float[] K,
                                        float[] qs, float[] kt, float[] vt, float[] D, float[] LS, float[] M, int mo,
                                        AttentionMask mask, int Lq, int Lk, float scale, int qo, int ko, int doo,
                                        int dqo, int dko, int dvo, int lo) {
        int d = 2 * L;
        float[] P = scratch(6, GROUP * KEY_BLOCK), A = scratch(7, GROUP * KEY_BLOCK);
        float[] acc = scratch(8, GROUP * d);
        for (int b0 = 0; b0 < Lk; b0 += KEY_BLOCK) {
            int b1 = Math.min(Lk, b0 + KEY_BLOCK);
            for (int i0 = 0; i0 < Lq; i0 += GROUP) {
                int u0 = b1, u1 = b0;                                    // the union of the rows' key intervals
                for (int r = 0; r < GROUP && i0 + r < Lq; r++) {
                    int i = i0 + r;
                    int j0 = Math.max(b0, rangeStart(mask, i)), j1 = Math.min(b1, rangeEnd(mask, i, Lk));
                    if (j0 < j1 && LS[lo + i] != Float.NEGATIVE_INFINITY) {
                        u0 = Math.min(u0, j0);
                        u1 = Math.max(u1, j1);
                    }
                }
                if (u0 >= u1) {
                    continue;
                }
                int n = u1 - u0, rows = Math.min(GROUP, Lq - i0);
                // rows past Lq read row i0's vectors with zero weights: no out-of-range reads, nothing added
                int r1 = rows > 1 ? i0 + 1 : i0, r2 = rows > 2 ? i0 + 2 : i0, r3 = rows > 3 ? i0 + 3 : i0;
                scores4(qs, i0 * d, r1 * d, r2 * d, r3 * d, kt, Lk, u0, n, d, P, 0, KEY_BLOCK, 2 * KEY_BLOCK,
                        3 * KEY_BLOCK);                                  // s = scale · q_i·k_j
                scores4(DO, doo + i0 * d, doo + r1 * d, doo + r2 * d, doo + r3 * d, vt, Lk, u0, n, d, A, 0,
                        KEY_BLOCK, 2 * KEY_BLOCK, 3 * KEY_BLOCK);        // dP = dout_i·v_j
                for (int r = 0; r < GROUP; r++) {
                    int i = i0 + r, pr = r * KEY_BLOCK;
                    int j0 = i < Lq ? Math.max(u0, rangeStart(mask, i)) : u1;
                    int j1 = i < Lq ? Math.min(u1, rangeEnd(mask, i, Lk)) : u1;
                    float l = i < Lq ? LS[lo + i] : Float.NEGATIVE_INFINITY;
                    if (j0 >= j1 || l == Float.NEGATIVE_INFINITY) {
                        Arrays.fill(P, pr, pr + n, 0f);                  // this row adds nothing in this block
                        Arrays.fill(A, pr, pr + n, 0f);
                        continue;
                    }
                    int m = j1 - j0, off = pr + j0 - u0;
                    Arrays.fill(P, pr, off, 0f);
                    Arrays.fill(P, off + m, pr + n, 0f);
                    Arrays.fill(A, pr, off, 0f);
                    Arrays.fill(A, off + m, pr + n, 0f);
                    if (M != null) {
                        SimdBackend.binaryRun(BinaryOp.ADD, P, off, M, mo + i * Lk + j0, P, off, m);
                    }
                    SimdBackend.expShiftedRun(P, off, l, P, off, m);     // P = exp(s − lse)
                    float Di = D[i];
                    for (int t = off; t < off + m; t++) {
                        A[t] = scale * P[t] * (A[t] - Di);               // scale · dS_ij
                    }
                }
                // rows past Lq read row 0's vectors with zero weights: no out-of-range reads, nothing added
                int q0 = qo + i0 * d, q1 = qo + (rows > 1 ? i0 + 1 : i0) * d;
                int q2 = qo + (rows > 2 ? i0 + 2 : i0) * d, q3 = qo + (rows > 3 ? i0 + 3 : i0) * d;
                int o0 = doo + i0 * d, o1 = doo + (rows > 1 ? i0 + 1 : i0) * d;
                int o2 = doo + (rows > 2 ? i0 + 2 : i0) * d, o3 = doo + (rows > 3 ? i0 + 3 : i0) * d;
                addWeightedRows(P, DO, o0, o1, o2, o3, DV, dvo + u0 * d, n);    // dv_j += Σ_r P_rj · dout_r
                addWeightedRows(A, Q, q0, q1, q2, q3, DK, dko + u0 * d, n);     // dk_j += Σ_r A_rj · q_r
                Arrays.fill(acc, 0, GROUP * d, 0f);                      // dq_r += Σ_j A_rj · k_j
                accumulateWeightedRows(A, K, ko + u0 * d, n, acc);
                for (int r = 0; r < rows; r++) {
                    axpy(1f, acc, r * d, DQ, dqo + (i0 + r) * d, d);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ neighbourhood

    // q, k, v (B,H,N,d), N = grid² -> out (B,H,N,d), lse (B,H,N)
    static void neighborhoodForward(WorkerPool pool, Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v,
                                    int B, int H, int grid, int kernel, int d, float scale) {
        int[] table = Neighborhood.table(grid, kernel);
        int N = grid * grid, KK = kernel * kernel;
        float[] O = f(contiguous("neighborhoodAttention", out)), LS = f(contiguous("neighborhoodAttention", lse));
        float[] Q = f(contiguous("neighborhoodAttention", q)), K = f(contiguous("neighborhoodAttention", k));
        float[] V = f(contiguous("neighborhoodAttention", v));
        pool.parallelFor(B * H, 1, (bh0, bh1) -> {
            float[] s = scratch(0, KK);
            for (int bh = bh0; bh < bh1; bh++) {
                int qo = q.offset() + bh * N * d, ko = k.offset() + bh * N * d, vo = v.offset() + bh * N * d;
                for (int n = 0; n < N; n++) {
                    for (int t = 0; t < KK; t++) {
                        s[t] = scale * SimdRows.dot(Q, qo + n * d, K, ko + table[n * KK + t] * d, d);
                    }
                    float m = SimdBackend.maxRun(s, 0, KK);
                    float l = SimdBackend.expShiftedRun(s, 0, m, s, 0, KK);          // s := exp(s − m)
                    int oo = out.offset() + (bh * N + n) * d;
                    Arrays.fill(O, oo, oo + d, 0f);
                    for (int t = 0; t < KK; t++) {
                        axpy(s[t], V, vo + table[n * KK + t] * d, O, oo, d);          // out += p · v_j
                    }
                    scaleRun(O, oo, 1f / l, O, oo, d);
                    LS[lse.offset() + bh * N + n] = m + (float) Math.log(l);
                }
            }
        });
    }

    // dout, q, k, v, out (B,H,N,d), lse (B,H,N) -> dq, dk, dv (B,H,N,d)
    static void neighborhoodBackward(WorkerPool pool, Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q,
                                     Tensor k, Tensor v, Tensor out, Tensor lse,
                                     int B, int H, int grid, int kernel, int d, float scale) {
        int[] table = Neighborhood.table(grid, kernel);
        int N = grid * grid, KK = kernel * kernel;
        String op = "neighborhoodAttention";
        float[] DQ = f(contiguous(op, dq)), DK = f(contiguous(op, dk)), DV = f(contiguous(op, dv));
        float[] DO = f(contiguous(op, dout)), Q = f(contiguous(op, q)), K = f(contiguous(op, k));
        float[] V = f(contiguous(op, v)), O = f(contiguous(op, out)), LS = f(contiguous(op, lse));
        pool.parallelFor(B * H, 1, (bh0, bh1) -> {
            for (int bh = bh0; bh < bh1; bh++) {
                int qo = q.offset() + bh * N * d, ko = k.offset() + bh * N * d, vo = v.offset() + bh * N * d;
                int doo = dout.offset() + bh * N * d, oo = out.offset() + bh * N * d;
                int dqo = dq.offset() + bh * N * d, dko = dk.offset() + bh * N * d, dvo = dv.offset() + bh * N * d;
                Arrays.fill(DQ, dqo, dqo + N * d, 0f);
                Arrays.fill(DK, dko, dko + N * d, 0f);
                Arrays.fill(DV, dvo, dvo + N * d, 0f);
                for (int n = 0; n < N; n++) {
                    float l = LS[lse.offset() + bh * N + n];
                    float D = SimdRows.dot(DO, doo + n * d, O, oo + n * d, d);         // D_n = dout_n·out_n
                    for (int t = 0; t < KK; t++) {
                        int j = table[n * KK + t];
                        float p = (float) Math.exp(scale * SimdRows.dot(Q, qo + n * d, K, ko + j * d, d) - l);
                        float dp = SimdRows.dot(DO, doo + n * d, V, vo + j * d, d);   // dP = dout_n·v_j
                        float a = scale * p * (dp - D);                                // scale · dS
                        pairUpdate(p, a, DO, doo + n * d, Q, qo + n * d, K, ko + j * d,
                                DQ, dqo + n * d, DK, dko + j * d, DV, dvo + j * d, d);
                    }
                }
            }
        });
    }
}
