package dev.mvarj.bench;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.model.TransformerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The performance model of docs/gpu.md#performance-model: for each OpenCL kernel of a transformer training step,
 * the bytes it moves and the FLOPs it does per call, its roofline bound on an H200-class GPU, how often a step
 * calls it, and the predicted step time. Prints the tables of the page: {@code java -cp benchmarks.jar
 * dev.mvarj.bench.GpuPerformanceModel}.
 *
 * <p>Assumptions, stated once: peak {@value #PEAK_FLOPS} FLOP/s fp32 without tensor cores, {@value #PEAK_BYTES}
 * B/s of HBM3e; a kernel's time is its roofline bound max(FLOPs / peak, bytes / bandwidth) divided by the
 * fraction of the bound its kind reaches ({@link Kind}); plus {@value #LAUNCH_SECONDS} s per launch. Bytes are
 * DRAM bytes: each operand once per call. Attention re-reads K and V once per 16-query block; those re-reads
 * come from the 50 MB L2 (the K and V of one (batch, head) are 348 KB at depth 16, and a head's query blocks are
 * neighbouring work-groups), so the table names their factor but does not count them against HBM. Element-wise
 * and normalisation kernels read and write whole activations; their list follows the AdaLN block (docs/model.md).
 */
public final class GpuPerformanceModel {

    static final double PEAK_FLOPS = 60e12;
    static final double PEAK_BYTES = 4.8e12;
    static final double LAUNCH_SECONDS = 5e-6;

    /** A kernel's kind and the fraction of its roofline bound it is assumed to reach on the GPU. */
    enum Kind {
        /** Register-blocked 128 x 128 SGEMM without tensor cores: 60 % of the fp32 peak. */
        GEMM(0.6),
        /** Tiled attention: exp, masking and the online-softmax rescale between the products: 30 %. */
        ATTENTION(0.3),
        /** Streaming kernels (element-wise, norms, reductions, optimiser): 60 % of HBM bandwidth. */
        BANDWIDTH(0.6);

        final double efficiency;

        Kind(double efficiency) {
            this.efficiency = efficiency;
        }
    }

    /** One kernel of the step: a call's FLOPs and bytes, and the calls per step. */
    record Kernel(String name, String call, Kind kind, double flops, double bytes, long calls) {
        double roofline() {
            return Math.max(flops / PEAK_FLOPS, bytes / PEAK_BYTES);
        }

        String bound() {
            return flops / PEAK_FLOPS >= bytes / PEAK_BYTES ? "compute" : "bandwidth";
        }

        double seconds() {
            return calls * (roofline() / kind.efficiency + LAUNCH_SECONDS);
        }
    }

    /** The shapes of a model and batch: N = batch · tokens rows. */
    record Shape(String name, TransformerConfig cfg, int batch) {
        long rows() {
            return (long) batch * cfg.schedule().length();
        }
    }

    static Shape fashion() {
        return new Shape("default", TrainingStepBenchmark.config("fashion"), 32);
    }

    static Shape d16() {
        return new Shape("VAR-d16", TrainingStepBenchmark.config("d16"), 32);
    }

    private GpuPerformanceModel() {
    }

    /** The kernels of one training step (forward, backward, optimiser) of {@code pattern} at {@code s}. */
    static List<Kernel> step(Shape s, AttentionPattern pattern) {
        TransformerConfig cfg = s.cfg();
        long N = s.rows(), C = cfg.width(), V = cfg.vocab(), D = cfg.depth(), B = s.batch();
        long H = cfg.heads(), d = C / H;
        double f = 4;                                                   // bytes per float
        List<Kernel> k = new ArrayList<>();
        // linear layers: forward x·Wᵀ (nt), backward dx = dy·W (nn) and dW = dyᵀ·x (tn, depth N)
        long[][] linears = {{C, 3 * C}, {C, C}, {C, 4 * C}, {4 * C, C}};   // qkv, proj, fc1, fc2: (in, out)
        for (String kernel : new String[]{"gemm_nt", "gemm_nn", "gemm_tn"}) {
            for (long[] io : linears) {
                long in = io[0], out = io[1];
                double bytes = switch (kernel) {
                    case "gemm_nt" -> f * (N * in + in * out + N * out);
                    case "gemm_nn" -> f * (N * out + in * out + N * in);
                    default -> f * (N * out + N * in + in * out);
                };
                k.add(new Kernel(kernel, label(kernel, in, out), Kind.GEMM, 2.0 * N * in * out, bytes, D));
            }
            k.add(new Kernel(kernel, label(kernel, C, V) + " (head)", Kind.GEMM, 2.0 * N * C * V,
                    f * (N * C + C * V + N * V), 1));
        }
        // attention: 2·d multiply-adds per query-key pair and head for q·k and p·v; the backward recomputes s and
        // does dP, dV, dK, dQ (five products: 2.5 times the forward)
        List<int[]> calls = attentionCalls(cfg, pattern);      // {Lq (= Lk), pairs per image, key rows read, k}
        for (int[] c : calls) {
            double fwd = 4.0 * d * c[1] * B * H;
            double qo = f * 2 * B * H * (double) c[0] * d, kv = qo;
            String shape = (c[3] > 0 ? c[3] + "×" + c[3] + " window, " : "") + c[0] + " queries, K and V read "
                    + String.format(Locale.ROOT, "%.1f", (double) c[2] / c[0]) + "× (L2)";
            k.add(new Kernel("attention_forward", shape, Kind.ATTENTION, fwd, qo + kv, D));
            k.add(new Kernel("attention_backward_dq", shape, Kind.ATTENTION, 1.5 * fwd, 2 * qo + kv, D));
            k.add(new Kernel("attention_backward_dkdv", shape, Kind.ATTENTION, 2.0 * fwd, 2 * qo + 2 * kv, D));
        }
        // streaming kernels per block: activations of N x C floats read and written
        double act = f * N * C;
        k.add(new Kernel("layer_norm_forward", "2 per block", Kind.BANDWIDTH, 8.0 * N * C, 2 * act, 2 * D));
        k.add(new Kernel("layer_norm_backward_dx", "2 per block", Kind.BANDWIDTH, 10.0 * N * C, 3 * act, 2 * D));
        k.add(new Kernel("binary_flat", "modulation, gates, residuals (8 fwd, 12 bwd)", Kind.BANDWIDTH, N * C,
                3 * act, 20 * D));
        k.add(new Kernel("unary_flat / binary_flat", "GELU and its gradient on N×4C", Kind.BANDWIDTH, 20.0 * N * C,
                2.5 * 4 * act, 2 * D));
        k.add(new Kernel("copy32", "heads split and merged (q, k, v, out; fwd and bwd)", Kind.BANDWIDTH, 0,
                2 * act, 8 * D));
        k.add(new Kernel("reduce_cols_partial + final", "bias gradients, 9C columns over N rows", Kind.BANDWIDTH,
                9.0 * N * C, 9 * act, D));
        k.add(new Kernel("cross_entropy_forward + backward", "N×V logits", Kind.BANDWIDTH, 8.0 * N * V,
                f * 3 * N * V, 1));
        long params = parameters(cfg);
        k.add(new Kernel("adamw_step", params / 1_000_000 + "M parameters", Kind.BANDWIDTH, 12.0 * params,
                f * 7 * params, 1));
        k.add(new Kernel("sum_squares", "gradient norm", Kind.BANDWIDTH, 2.0 * params, f * params, 1));
        return k;
    }

    private static String label(String kernel, long in, long out) {
        return switch (kernel) {
            case "gemm_nt" -> "x·Wᵀ, " + in + "→" + out;
            case "gemm_nn" -> "dy·W, " + out + "→" + in;
            default -> "dyᵀ·x, " + out + "×" + in;
        };
    }

    /**
     * The attention calls of one block's forward: {Lq, query-key pairs per image, key rows read per image and head
     * by the tiled kernels (K and V once per 16-query block, over the block's key span), window (0: dense)}.
     */
    static List<int[]> attentionCalls(TransformerConfig cfg, AttentionPattern pattern) {
        ScaleSchedule sch = cfg.schedule();
        List<int[]> calls = new ArrayList<>();
        int S = sch.count(), rows = 16;
        if (pattern == AttentionPattern.VAR) {
            int L = sch.length();
            long pairs = pattern.attentionPairs(cfg), reads = 0;
            for (int q0 = 0; q0 < L; q0 += rows) {
                reads += sch.begin(scaleOf(sch, Math.min(L, q0 + rows) - 1) + 1);   // keys [0, end of last scale)
            }
            calls.add(new int[]{L, (int) pairs, (int) reads, 0});
            return calls;
        }
        int dense = Math.min(S, cfg.refineStep()), L = sch.begin(dense);
        long pairs = 0, reads = 0;
        for (int s = 0; s < dense; s++) {
            pairs += (long) sch.tokens(s) * sch.tokens(s);
        }
        for (int q0 = 0; q0 < L; q0 += rows) {
            int first = scaleOf(sch, q0), last = scaleOf(sch, Math.min(L, q0 + rows) - 1);
            reads += sch.begin(last + 1) - sch.begin(first);
        }
        calls.add(new int[]{L, (int) pairs, (int) reads, 0});
        int k = cfg.kernel();
        for (int s = dense; s < S; s++) {
            int side = sch.side(s), patches = (side + 3) / 4, span = Math.min(side, 4 + k - 1);
            calls.add(new int[]{side * side, side * side * k * k, patches * patches * span * span, k});
        }
        return calls;
    }

    private static int scaleOf(ScaleSchedule sch, int position) {
        int s = 0;
        while (sch.begin(s + 1) <= position) {
            s++;
        }
        return s;
    }

    /** Parameters of the transformer: per block qkv, proj, fc1, fc2 and the AdaLN projection; head, embeddings. */
    static long parameters(TransformerConfig cfg) {
        long C = cfg.width(), V = cfg.vocab();
        long block = 3 * C * C + 3 * C + C * C + C + 4 * C * C + 4 * C + 4 * C * C + C + 6 * C * C + 6 * C;
        return cfg.depth() * block + C * V + V + 2 * C * C + (cfg.classes() + 1) * C + cfg.codeDim() * C
                + (long) cfg.schedule().length() * C;
    }

    /** Predicted seconds of a step: the kernels' times, each its roofline bound over its kind's efficiency. */
    static double predictedSeconds(List<Kernel> kernels) {
        return kernels.stream().mapToDouble(Kernel::seconds).sum();
    }

    static String table(Shape s, AttentionPattern pattern) {
        List<Kernel> ks = step(s, pattern);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "| %s %s, batch %d | call | GFLOP | MB | bound | µs at the bound | calls | ms per step |%n",
                s.name(), pattern, s.batch()));
        sb.append("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
        for (Kernel k : ks) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.1f | %s | %.1f | %d | %.2f |%n", k.name(),
                    k.call(), k.flops() / 1e9, k.bytes() / 1e6, k.bound(), k.roofline() * 1e6, k.calls(),
                    k.seconds() * 1e3));
        }
        double gemm = ks.stream().filter(k -> k.kind() == Kind.GEMM).mapToDouble(Kernel::seconds).sum();
        double attn = ks.stream().filter(k -> k.kind() == Kind.ATTENTION).mapToDouble(Kernel::seconds).sum();
        double rest = predictedSeconds(ks) - gemm - attn;
        sb.append(String.format(Locale.ROOT, "| **step** | GEMM %.0f ms, attention %.0f ms, streaming %.0f ms |"
                        + " %.0f | | | | %d | **%.0f** |%n", gemm * 1e3, attn * 1e3, rest * 1e3,
                ks.stream().mapToDouble(k -> k.flops() * k.calls()).sum() / 1e9,
                ks.stream().mapToLong(Kernel::calls).sum(), predictedSeconds(ks) * 1e3));
        return sb.toString();
    }

    public static void main(String[] args) {
        for (Shape s : new Shape[]{fashion(), d16()}) {
            for (AttentionPattern p : AttentionPattern.values()) {
                System.out.println(table(s, p));
            }
        }
    }
}
