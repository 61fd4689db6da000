package dev.mvarj.mvar.train;

import com.google.gson.Gson;
import dev.mvarj.autograd.F;
import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.GraphMemory;
import dev.mvarj.autograd.Variable;
import dev.mvarj.mvar.data.BatchSampler;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.nn.AdamW;
import dev.mvarj.nn.Checkpoint;
import dev.mvarj.nn.ParameterStore;
import dev.mvarj.nn.Schedule;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.random.Rng;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Trains VAR or MVAR on a {@link TokenSet} (docs/model.md#training-group-cycle, docs/model.md#optimisation).
 *
 * <ul>
 *   <li>VAR: every step runs the whole sequence with the block-causal mask.</li>
 *   <li>MVAR, {@link MvarMode#CYCLE} (faithful): step t trains one group, c = t mod (ratio_k + S − R): the coarse
 *       scales [0, R) for c < ratio_k, else the single scale R + c − ratio_k with neighbourhood attention.</li>
 *   <li>MVAR, {@link MvarMode#ALL}: every step trains every group (the coarse sequence and each fine scale) and
 *       sums their losses.</li>
 * </ul>
 * Every token weighs 1/(B·L) in any group. Class dropout, AdamW (0.9, 0.95) with the no-decay list, warm-up from
 * 0.005·lr then lin0 to 0.1·lr, clipping at 2. Checkpoints hold everything needed to resume bit-exactly.
 *
 * <p>Training runs on one device: the parameters, gradients and optimiser state move there (a {@link ParameterStore}
 * on it), each batch is uploaded once per step, and every op allocates next to its inputs. Data order, class dropout
 * and drop-path masks are drawn on the host, so a run on an accelerator sees the same randomness as on the CPU.
 */
public final class TransformerTrainer {

    public enum MvarMode { CYCLE, ALL }

    /** The checkpoint file name inside the output directory. */
    public static final String CHECKPOINT = "checkpoint.safetensors";

    private static final Gson GSON = new Gson();

    /** The run's settings; {@link #checkpointEvery} 0 = only at the end. */
    public record Options(AttentionPattern pattern, MvarMode mode, int ratioK, int steps, int batch, double lr,
                          double warmupFraction, double weightDecay, float clip, float labelSmoothing, long seed,
                          int checkpointEvery, int logEvery) {
    }

    /** What a finished run reports. */
    public record Summary(int steps, double finalLoss, double secondsPerStep, long peakGraphBytes,
                          Map<String, Long> peakGraphBytesByGroup, double[] scaleCe, double[] scaleAcc,
                          LoopClock loop) {
    }

    private final NextScaleTransformer model;
    private final Rng modelRng;
    private final TokenSet data;
    private final Options o;
    private final Path out;
    private final PrintStream console;
    private final ParameterStore store;
    private final AdamW optimizer;
    private final Schedule schedule;
    private final BatchSampler sampler;
    private final Rng labelRng;
    private final String tokenizer;
    private final Device device;
    private final DataParallel dp;
    private int step;

    /**
     * @param modelRng the generator the model was built with (its drop path draws from it; checkpointed)
     */
    public TransformerTrainer(NextScaleTransformer model, Rng modelRng, TokenSet data, Options o, Path out,
                              PrintStream console) {
        this(model, modelRng, data, o, out, console, null, Device.CPU);
    }

    /**
     * @param tokenizer the tokenizer checkpoint the tokens came from (recorded for sampling), or null
     * @param device    where to train: the model's parameters move there
     */
    public TransformerTrainer(NextScaleTransformer model, Rng modelRng, TokenSet data, Options o, Path out,
                              PrintStream console, String tokenizer, Device device) {
        this(model, modelRng, data, o, out, console, tokenizer, device, DataParallel.SINGLE);
    }

    /**
     * @param dp the ranks this run is shared with ({@link DataParallel#SINGLE}: one process); {@code o.batch()} is
     *           the global batch, each rank trains its share of it
     */
    public TransformerTrainer(NextScaleTransformer model, Rng modelRng, TokenSet data, Options o, Path out,
                              PrintStream console, String tokenizer, Device device, DataParallel dp) {
        String badBatch = dp.checkBatch("--batch", o.batch());
        if (badBatch != null) {
            throw new IllegalArgumentException(badBatch);
        }
        if (data.length() != model.cfg.schedule().length()) {
            throw new IllegalArgumentException("token set has sequences of " + data.length() + " tokens, the model's "
                    + "schedule " + model.cfg.schedule() + " has " + model.cfg.schedule().length());
        }
        this.model = model;
        this.modelRng = modelRng;
        this.data = data;
        this.o = o;
        this.out = out;
        this.console = dp.console(console);
        this.device = device;
        this.dp = dp;
        model.shard(dp.shard());
        this.store = new ParameterStore(model, ParameterStore.varNoDecay(model), device);
        this.optimizer = AdamW.var(store);
        this.schedule = new Schedule(Schedule.Kind.LIN0, o.lr(), (int) Math.round(o.warmupFraction() * o.steps()),
                o.steps(), 0.005, 0.1, o.weightDecay(), o.weightDecay());
        this.sampler = new BatchSampler(data.n(), o.batch(), true, data.hasFlips(), o.seed());
        this.labelRng = new Rng(o.seed() ^ 0x1abe1L);
        this.tokenizer = tokenizer;
    }

    public ParameterStore store() {
        return store;
    }

    private Path checkpointFile() {
        return out.resolve(CHECKPOINT);
    }

    /** The scale groups one step trains, as [from, to) pairs. */
    List<int[]> groups(int t) {
        int S = model.cfg.schedule().count(), R = model.cfg.refineStep();
        List<int[]> g = new ArrayList<>();
        if (o.pattern() == AttentionPattern.VAR) {
            g.add(new int[]{0, S});
        } else if (o.mode() == MvarMode.ALL || R == 0 || R == S) {
            g.addAll(allGroups());
        } else {
            int cycle = o.ratioK() + (S - R), c = t % cycle;
            g.add(c < o.ratioK() ? new int[]{0, R} : new int[]{R + c - o.ratioK(), R + c - o.ratioK() + 1});
        }
        return g;
    }

    /** Trains to {@code o.steps()}, resuming from the checkpoint in {@code out} when {@code resume} and it exists. */
    public Summary train(boolean resume) throws IOException {
        return train(resume ? RunDirectory.Start.RESUME : RunDirectory.Start.FRESH, o.steps());
    }

    /** As {@link #train(RunDirectory.Start, int)} with a fresh run ({@code resume} false) or a resumed one. */
    public Summary train(boolean resume, int stopAt) throws IOException {
        return train(resume ? RunDirectory.Start.RESUME : RunDirectory.Start.FRESH, stopAt);
    }

    /**
     * Trains until step {@code stopAt} (≤ the run's total; the schedule still spans the whole run), then writes a
     * checkpoint: what a run killed at that moment leaves behind. The output directory is held as a
     * {@link RunDirectory} meanwhile; a resumed run must have the model and options of the stored one (a longer
     * run is allowed), and its metrics are trimmed back to the checkpoint's step.
     *
     * @throws RunException when the directory is in use or holds a run {@code start} does not allow, when a resume
     *                      would change the run, or when the loss or the gradient norm stops being finite
     */
    public Summary train(RunDirectory.Start start, int stopAt) throws IOException {
        // rank 0 alone holds the run directory; the others receive its state (docs/distributed.md)
        try (RunDirectory run = dp.writes() ? RunDirectory.open(out, CHECKPOINT, start, console) : null) {
            int saved = -1;
            boolean resumes = dp.broadcast(run != null && run.resumes());
            if (run != null && resumes) {
                Map<String, String> meta = SafeTensors.read(checkpointFile()).metadata();
                checkResume(meta);
                Map<String, String> st = Checkpoint.load(checkpointFile(), model, optimizer);
                step = Integer.parseInt(st.get("step"));
                sampler.seek(Long.parseLong(st.get("data.position")));
                labelRng.seek(Long.parseLong(st.get("rng.labels")));
                modelRng.restore(Long.parseLong(st.get("rng.model.seed")), Long.parseLong(st.get("rng.model")));
                console.println("resumed from " + checkpointFile() + " at step " + step + ranksNote(meta));
            }
            long[] state = dp.broadcast(store, new long[]{step, sampler.position(), labelRng.offset(),
                    modelRng.seed(), modelRng.offset(), optimizer.stepCount()});
            step = (int) state[0];
            sampler.seek(state[1]);
            labelRng.seek(state[2]);
            modelRng.restore(state[3], state[4]);
            optimizer.setStepCount((int) state[5]);
            if (resumes) {
                saved = step;
            }
            dp.progress(step, saved, checkpointFile());
            model.train();
            Progress progress = new Progress(o.pattern().name().toLowerCase(), o.steps(), o.logEvery(), console, step);
            Map<String, Long> peaks = new HashMap<>();
            long peakAll = 0;
            double lastLoss = Double.NaN;
            long startTime = System.nanoTime();
            int first = step;
            LoopClock clock = new LoopClock();
            Path metrics = out.resolve(RunDirectory.METRICS);
            try (MetricsLog log = !dp.writes() ? null : resumes ? MetricsLog.resume(metrics, step)
                    : new MetricsLog(metrics, true)) {
                while (step < Math.min(stopAt, o.steps())) {
                    clock.startIteration();
                    StepResult r = clock.time(LoopClock.Phase.STEP, this::step);
                    clock.countFlops(r.flops());
                    Divergence.check(step, "loss", r.loss(), "gradient norm", r.gradNorm(), saved, checkpointFile());
                    lastLoss = r.loss();
                    peaks.merge(r.group(), r.graphBytes(), Math::max);
                    peakAll = Math.max(peakAll, r.graphBytes());
                    progress.update(step, o.batch(), "loss", lastLoss, "group", r.group(), "lr", (double) r.lr());
                    if (log != null) {
                        log.log("step", step, "loss", lastLoss, "group", r.group(), "lr", r.lr(), "grad_norm",
                                r.gradNorm(), "graph_bytes", r.graphBytes());
                    }
                    if (o.checkpointEvery() > 0 && step % o.checkpointEvery() == 0 && step < o.steps()) {
                        clock.run(LoopClock.Phase.CHECKPOINT, this::saveCheckpoint);
                        saved = step;
                    }
                    dp.progress(step, saved, checkpointFile());
                    clock.endIteration();
                }
                saveCheckpoint();
                if (log != null) {
                    Charts.lineChart(out.resolve("loss.png"), o.pattern() + " training loss", "step",
                            "loss (sum CE / L)", List.of(new Charts.Series("loss", log.series("loss"))));
                }
            }
            dp.finished();
            int done = step - first;
            double seconds = (System.nanoTime() - startTime) / 1e9;
            if (dp.ranks() > 1 && done > 0) {
                console.printf(java.util.Locale.ROOT, "data-parallel over %d ranks: the gradient all-reduce took %.1f%%"
                        + " of the training time (%.4f s per step)%n", dp.ranks(), 100 * dp.reduceSeconds() / seconds,
                        dp.reduceSeconds() / done);
            }
            double[][] perScale = dp.writes() ? evaluate(Math.min(256, data.n())) : new double[2][0];
            return new Summary(step, lastLoss, done == 0 ? 0 : seconds / done, peakAll,
                    peaks, perScale[0], perScale[1], clock);
        }
    }

    /**
     * Refuses a resume whose model or options differ from the stored run's, except a longer (or shorter, not below
     * the checkpoint's step) {@code --steps}, which is announced, and the checkpoint and log intervals.
     */
    private void checkResume(Map<String, String> meta) {
        TransformerConfig storedCfg = GSON.fromJson(meta.get("model.config"), TransformerConfig.class);
        Options stored = GSON.fromJson(meta.get("train.options"), Options.class);
        int at = Integer.parseInt(meta.get("step"));
        ResumeCheck check = new ResumeCheck().compare(storedCfg, model.cfg, CONFIG_NAMES, Set.of())
                .compare(stored, o, OPTION_NAMES, Set.of("steps", "checkpointEvery", "logEvery"));
        if (meta.containsKey("data.size") && Integer.parseInt(meta.get("data.size")) != data.n()) {
            check.add("a token set of " + data.n() + " images (the run's has " + meta.get("data.size") + ")");
        }
        if (tokenizer != null && meta.containsKey("tokenizer") && !tokenizer.equals(meta.get("tokenizer"))) {
            check.add("tokens of tokenizer " + tokenizer + " (the run's are of " + meta.get("tokenizer") + ")");
        }
        if (o.steps() < at) {
            check.add("--steps " + o.steps() + " (the checkpoint is at step " + at + ")");
        }
        check.orRefuse(checkpointFile());
        if (o.steps() != stored.steps()) {
            console.printf(java.util.Locale.ROOT, "--steps %d: the run of %d steps continues to step %d; the"
                    + " learning-rate schedule (warm-up and decay) now spans %d steps%n", o.steps(), stored.steps(),
                    o.steps(), o.steps());
        }
    }

    /**
     * A resume on another number of ranks is the same run (the global batch, its data and its random draws do not
     * depend on N; only the order of the gradient's float sums does): announced, not refused.
     */
    private String ranksNote(Map<String, String> meta) {
        String was = meta.getOrDefault("train.ranks", "1");
        return Integer.parseInt(was) == dp.ranks() ? "" : " (the run was trained on " + was + " rank(s), it continues"
                + " on " + dp.ranks() + "; the global batch stays " + o.batch() + ")";
    }

    /** User-facing names of {@link TransformerConfig} fields: the {@code train} options, or where they come from. */
    private static final Map<String, String> CONFIG_NAMES = Map.ofEntries(Map.entry("depth", "--depth"),
            Map.entry("width", "--width"), Map.entry("heads", "--heads"), Map.entry("dropPath", "--drop-path"),
            Map.entry("gateInit", "--gate-init"), Map.entry("refineStep", "--refine-step"),
            Map.entry("kernel", "--kernel"), Map.entry("vocab", "the token cache's vocabulary"),
            Map.entry("codeDim", "the token cache's code dimension"), Map.entry("classes", "the token cache's classes"),
            Map.entry("schedule", "the token cache's schedule"), Map.entry("condDrop", "class dropout"));

    /** User-facing names of {@link Options} fields: the {@code train} options. */
    private static final Map<String, String> OPTION_NAMES = Map.ofEntries(Map.entry("pattern", "--model"),
            Map.entry("mode", "--mode"), Map.entry("ratioK", "--ratio-k"), Map.entry("batch", "--batch"),
            Map.entry("lr", "--lr"), Map.entry("warmupFraction", "--warmup"), Map.entry("weightDecay", "--wd"),
            Map.entry("clip", "gradient clip"), Map.entry("labelSmoothing", "--label-smoothing"),
            Map.entry("seed", "--seed"));

    /**
     * What one optimiser step did: its loss, the group(s) trained, lr, gradient norm, the bytes the graph held, and
     * its matrix-product FLOPs (three times {@link AttentionPattern#forwardFlops} of its groups, for the batch).
     */
    public record StepResult(double loss, String group, float lr, double gradNorm, long graphBytes, long flops) {
    }

    /**
     * One optimiser step on the next batch (the unit {@code train} repeats; benchmarks time it): draw the batch,
     * drop labels, forward the step's groups, backward, clip and AdamW. Whatever the step allocated and is still
     * reachable is released when it returns (a weak {@link MemoryScope}: device buffers go back to the pool at once,
     * while the GC may take dead temporaries earlier); it reads the loss back, so the device has finished by then.
     */
    public StepResult step() {
        try (MemoryScope ignored = MemoryScope.openWeak()) {
            BatchSampler.Draw d = sampler.next();
            TokenSet.Batch b = data.batch(dp.part(d.rows()), dp.part(d.flip())).to(device);
            Tensor labels = model.dropLabels(b.labels(), labelRng);
            store.zeroGrad();
            GraphMemory.resetPeak();
            Variable loss = null;
            List<int[]> groups = groups(step);
            long flops = 0;
            for (int[] g : groups) {
                flops += 3 * o.pattern().forwardFlops(model.cfg, g[0], g[1]) * labels.size(0);  // this rank's rows
                Variable logits = model.forward(labels, b.inputs(), g[0], g[1], o.pattern());
                Variable l = model.loss(logits, b.targets(), g[0], g[1], o.labelSmoothing());
                loss = loss == null ? l : F.add(loss, l);
            }
            long graphPeak = GraphMemory.peakBytes();
            loss.backward();
            dp.averageGradients(store);
            float lr = (float) schedule.lr(step), wd = (float) schedule.weightDecay(step);
            double gnorm = optimizer.step(lr, wd, o.clip());
            step++;
            double value = dp.mean(loss.data().item())[0];
            return new StepResult(value, groupName(groups), lr, gnorm, graphPeak, flops);
        }
    }

    private static String groupName(List<int[]> groups) {
        if (groups.size() > 1) {
            return "all";
        }
        int[] g = groups.get(0);
        return g[1] - g[0] == 1 ? "s" + g[0] : "s" + g[0] + "-" + (g[1] - 1);
    }

    /** Rank 0 writes the checkpoint; the others have the same state. */
    private void saveCheckpoint() throws IOException {
        if (!dp.writes()) {
            return;
        }
        Map<String, String> st = new HashMap<>();
        st.put("step", Integer.toString(step));
        st.put("data.position", Long.toString(sampler.position()));
        st.put("rng.labels", Long.toString(labelRng.offset()));
        st.put("rng.model", Long.toString(modelRng.offset()));
        st.put("rng.model.seed", Long.toString(modelRng.seed()));
        st.put("model.config", GSON.toJson(model.cfg));
        st.put("train.options", GSON.toJson(o));
        st.put("data.size", Integer.toString(data.n()));
        st.put("train.ranks", Integer.toString(dp.ranks()));
        if (tokenizer != null) {
            st.put("tokenizer", tokenizer);
        }
        Checkpoint.save(checkpointFile(), model, optimizer, st);
    }

    /**
     * Per-scale cross-entropy and accuracy (teacher forcing, no class dropout) on the first {@code n} rows,
     * running each pattern's groups; returns {ce[S], acc[S]}.
     */
    public double[][] evaluate(int n) {
        ScaleSchedule sch = model.cfg.schedule();
        int S = sch.count(), V = model.cfg.vocab();
        double[] ce = new double[S], acc = new double[S];
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        model.eval();
        try (var g = GradMode.off()) {
            TokenSet.Batch b = data.batch(rows, null).to(device);
            int[] targets = b.targets().toIntArray();
            List<int[]> groups = o.pattern() == AttentionPattern.VAR ? List.of(new int[]{0, S}) : allGroups();
            for (int[] grp : groups) {
                float[] lg;
                try (MemoryScope ignored = MemoryScope.open()) {
                    lg = model.forward(b.labels(), b.inputs(), grp[0], grp[1], o.pattern()).data().toFloatArray();
                }
                int len = sch.tokens(grp[0], grp[1]);
                for (int i = 0; i < n; i++) {
                    for (int p = 0; p < len; p++) {
                        int pos = sch.begin(grp[0]) + p, s = sch.level(pos), t = targets[i * sch.length() + pos];
                        int base = (i * len + p) * V;
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        int arg = 0;
                        for (int v = 0; v < V; v++) {
                            if (lg[base + v] > max) {
                                max = lg[base + v];
                                arg = v;
                            }
                        }
                        for (int v = 0; v < V; v++) {
                            sum += Math.exp(lg[base + v] - max);
                        }
                        ce[s] += (max + Math.log(sum) - lg[base + t]) / ((double) n * sch.tokens(s));
                        acc[s] += (arg == t ? 1.0 : 0.0) / ((double) n * sch.tokens(s));
                    }
                }
            }
        } finally {
            model.train();
        }
        return new double[][]{ce, acc};
    }

    /** MVAR's groups: the coarse scales [0, R) together, then each scale from R on alone. */
    private List<int[]> allGroups() {
        int S = model.cfg.schedule().count(), R = model.cfg.refineStep();
        List<int[]> g = new ArrayList<>();
        if (R > 0) {
            g.add(new int[]{0, R});
        }
        for (int s = R; s < S; s++) {
            g.add(new int[]{s, s + 1});
        }
        return g;
    }
}
