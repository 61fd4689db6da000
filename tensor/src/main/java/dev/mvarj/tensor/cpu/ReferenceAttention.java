package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Neighborhood;
import dev.mvarj.tensor.Tensor;

import static dev.mvarj.tensor.cpu.Host.contiguous;
import static dev.mvarj.tensor.cpu.Reals.of;

/**
 * The definition of dense and neighbourhood attention: one query row at a time, in double. Both kernels are the
 * same loop over "the keys query i sees, with their bias" ({@link Pattern}); only the pattern differs. A row of
 * logits is materialised here (this is the readable oracle, not the flash kernel of {@code SimdAttention}).
 */
final class ReferenceAttention {

    private ReferenceAttention() {
    }

    /** The keys query i attends to and the bias added to each logit. */
    @FunctionalInterface
    interface Pattern {
        /** Writes the keys of query i to keys[0..n) and their biases to bias[0..n); returns n. */
        int row(int i, int[] keys, double[] bias);
    }

    static Pattern dense(AttentionMask mask, int Lq, int Lk) {
        mask.check(Lq, Lk);
        return switch (mask) {
            case AttentionMask.None n -> (i, keys, bias) -> {
                for (int j = 0; j < Lk; j++) {
                    keys[j] = j;
                    bias[j] = 0;
                }
                return Lk;
            };
            case AttentionMask.Additive a -> {
                Reals M = of(a.bias());
                int mo = a.bias().offset();
                yield (i, keys, bias) -> {
                    for (int j = 0; j < Lk; j++) {
                        keys[j] = j;
                        bias[j] = M.get(mo + i * Lk + j);
                    }
                    return Lk;
                };
            }
            case AttentionMask.KeyRanges r -> (i, keys, bias) -> {
                int n = 0;
                for (int j = r.start(i); j < r.end(i); j++, n++) {
                    keys[n] = j;
                    bias[n] = 0;
                }
                return n;
            };
        };
    }

    static Pattern neighborhood(int grid, int kernel) {
        int[] table = Neighborhood.table(grid, kernel);
        int K = kernel * kernel;
        return (i, keys, bias) -> {
            System.arraycopy(table, i * K, keys, 0, K);
            java.util.Arrays.fill(bias, 0, K, 0);
            return K;
        };
    }

    // q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq)
    static void forward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Pattern pattern,
                        int B, int H, int Lq, int Lk, int d, float scale) {
        Reals O = of(contiguous("attention", out)), LS = of(contiguous("attention", lse));
        Reals Q = of(contiguous("attention", q)), K = of(contiguous("attention", k)), V = of(contiguous("attention", v));
        int[] keys = new int[Lk];
        double[] bias = new double[Lk], s = new double[Lk];
        for (int bh = 0; bh < B * H; bh++) {
            int qo = q.offset() + bh * Lq * d, ko = k.offset() + bh * Lk * d, vo = v.offset() + bh * Lk * d;
            for (int i = 0; i < Lq; i++) {
                int n = pattern.row(i, keys, bias);
                // s_t = scale · q_i·k_t + bias_t
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < n; t++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += Q.get(qo + i * d + c) * K.get(ko + keys[t] * d + c);
                    }
                    s[t] = scale * dot + bias[t];
                    max = Math.max(max, s[t]);
                }
                int oo = out.offset() + (bh * Lq + i) * d;
                if (max == Double.NEGATIVE_INFINITY) {
                    // fully masked row: no key, output 0
                    O.fill(oo, oo + d, 0);
                    LS.set(lse.offset() + bh * Lq + i, Double.NEGATIVE_INFINITY);
                    continue;
                }
                double sum = 0;
                for (int t = 0; t < n; t++) {
                    sum += Math.exp(s[t] - max);
                }
                double l = max + Math.log(sum);
                // out_i = Σ_t exp(s_t − lse) · v_t
                for (int c = 0; c < d; c++) {
                    double acc = 0;
                    for (int t = 0; t < n; t++) {
                        acc += Math.exp(s[t] - l) * V.get(vo + keys[t] * d + c);
                    }
                    O.set(oo + c, acc);
                }
                LS.set(lse.offset() + bh * Lq + i, l);
            }
        }
    }

    // dout, q, out (B,H,Lq,d), k, v (B,H,Lk,d), lse (B,H,Lq) -> dq (B,H,Lq,d), dk, dv (B,H,Lk,d)
    static void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k, Tensor v,
                         Tensor out, Tensor lse, Pattern pattern, int B, int H, int Lq, int Lk, int d, float scale) {
        Reals DQ = of(contiguous("attention", dq)), DK = of(contiguous("attention", dk));
        Reals DV = of(contiguous("attention", dv));
        Reals DO = of(contiguous("attention", dout)), O = of(contiguous("attention", out));
        Reals Q = of(q), K = of(k), V = of(v), LS = of(contiguous("attention", lse));
        int[] keys = new int[Lk];
        double[] bias = new double[Lk];
        for (int bh = 0; bh < B * H; bh++) {
            int qo = q.offset() + bh * Lq * d, ko = k.offset() + bh * Lk * d, vo = v.offset() + bh * Lk * d;
            int oo = out.offset() + bh * Lq * d, doo = dout.offset() + bh * Lq * d;
            double[] dkAcc = new double[Lk * d], dvAcc = new double[Lk * d], dqRow = new double[d];
            for (int i = 0; i < Lq; i++) {
                java.util.Arrays.fill(dqRow, 0);
                double l = LS.get(lse.offset() + bh * Lq + i);
                int n = l == Double.NEGATIVE_INFINITY ? 0 : pattern.row(i, keys, bias);
                // D_i = Σ_c dout_ic · out_ic
                double D = 0;
                for (int c = 0; c < d; c++) {
                    D += DO.get(doo + i * d + c) * O.get(oo + i * d + c);
                }
                for (int t = 0; t < n; t++) {
                    int j = keys[t];
                    double dot = 0, dp = 0;
                    for (int c = 0; c < d; c++) {
                        dot += Q.get(qo + i * d + c) * K.get(ko + j * d + c);
                        dp += DO.get(doo + i * d + c) * V.get(vo + j * d + c);
                    }
                    double p = Math.exp(scale * dot + bias[t] - l);   // P_ij = exp(s_ij − lse_i)
                    double ds = p * (dp - D);                          // dS_ij = P_ij (dP_ij − D_i)
                    for (int c = 0; c < d; c++) {
                        dqRow[c] += scale * ds * K.get(ko + j * d + c);
                        dkAcc[j * d + c] += scale * ds * Q.get(qo + i * d + c);
                        dvAcc[j * d + c] += p * DO.get(doo + i * d + c);
                    }
                }
                for (int c = 0; c < d; c++) {
                    DQ.set(dq.offset() + bh * Lq * d + i * d + c, dqRow[c]);
                }
            }
            for (int e = 0; e < Lk * d; e++) {
                DK.set(dk.offset() + bh * Lk * d + e, dkAcc[e]);
                DV.set(dv.offset() + bh * Lk * d + e, dvAcc[e]);
            }
        }
    }
}
