package dev.mvarj.mvar.vq;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import dev.mvarj.autograd.F;
import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.mvar.data.DataLoader;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.train.DataParallel;
import dev.mvarj.mvar.train.LoopClock;
import dev.mvarj.mvar.train.MetricsLog;
import dev.mvarj.mvar.train.Divergence;
import dev.mvarj.mvar.train.Progress;
import dev.mvarj.mvar.train.ResumeCheck;
import dev.mvarj.mvar.train.RunDirectory;
import dev.mvarj.mvar.train.RunException;
import dev.mvarj.nn.AdamW;
import dev.mvarj.nn.Checkpoint;
import dev.mvarj.nn.ParameterStore;
import dev.mvarj.nn.Schedule;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.random.Rng;
import org.eclipse.collections.impl.list.mutable.primitive.IntArrayList;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Trains the multi-scale VQ-VAE (docs/model.md#tokenizer-training): pixel MSE (or L1) + the VQ loss, straight-through to the
 * encoder; codebook initialised from encoder outputs (k-means++ per scale); dead codes re-seeded from current
 * residuals; AdamW with warm-up and cosine decay; per-scale codebook usage and perplexity; PSNR on the test split;
 * bit-exact checkpoints and resume; a progress line, JSON-lines metrics, a loss chart and reconstruction grids.
 *
 * <p>Files in {@code out}: {@value #CHECKPOINT} (model + optimiser + trainer state), {@code metrics.jsonl},
 * {@code loss.png}, {@code reconstructions.png} and {@code eval.json}.
 */
public final class TokenizerTrainer {

    /** The checkpoint file name inside the output directory. */
    public static final String CHECKPOINT = "tokenizer.safetensors";

    /**
     * Training settings.
     *
     * @param steps           optimiser steps
     * @param batch           images per step
     * @param lr              peak learning rate (AdamW β = (0.9, 0.95), no weight decay)
     * @param seed            seeds the model, the data order and the collapse guards
     * @param l1              L1 pixel loss instead of MSE
     * @param warmup          linear warm-up steps (then cosine to 5% of the peak)
     * @param logEvery        steps between metric records
     * @param evalEvery       steps between evaluations on {@code evalImages} test images (0 = only at the end)
     * @param evalImages      test images per periodic evaluation
     * @param finalEvalImages test images of the final evaluation (0 = the whole split)
     * @param checkpointEvery steps between checkpoints (and at the end)
     * @param reseedEvery     steps between dead-code checks (0 = never)
     * @param reseedStop      fraction of the run after which no code is re-seeded
     * @param deadShare       a code is dead when its hits over the window are below deadShare × the average
     * @param initImages      training images whose latents seed the codebook
     * @param clip            global gradient-norm clip
     */
    public record Settings(int steps, int batch, double lr, long seed, boolean l1, int warmup, int logEvery,
                           int evalEvery, int evalImages, int finalEvalImages, int checkpointEvery, int reseedEvery,
                           double reseedStop, double deadShare, int initImages, float clip) {

        /** The defaults of {@code mvarj tokenizer train}. */
        public static Settings defaults() {
            return new Settings(700, 32, 2e-3, 1, false, 40, 20, 350, 1000, 0, 350, 50, 0.85, 0.03, 512, 2f);
        }

        public Settings withSteps(int s, int b, double learningRate, long sd) {
            return new Settings(s, b, learningRate, sd, l1, Math.min(warmup, s / 10), logEvery, evalEvery, evalImages,
                    finalEvalImages, checkpointEvery, reseedEvery, reseedStop, deadShare, initImages, clip);
        }

        public Settings withL1(boolean on) {
            return new Settings(steps, batch, lr, seed, on, warmup, logEvery, evalEvery, evalImages, finalEvalImages,
                    checkpointEvery, reseedEvery, reseedStop, deadShare, initImages, clip);
        }

        public Settings withEval(int every, int images, int finalImages) {
            return new Settings(steps, batch, lr, seed, l1, warmup, logEvery, every, images, finalImages,
                    checkpointEvery, reseedEvery, reseedStop, deadShare, initImages, clip);
        }

        public Settings withCheckpointEvery(int every) {
            return new Settings(steps, batch, lr, seed, l1, warmup, logEvery, evalEvery, evalImages, finalEvalImages,
                    every, reseedEvery, reseedStop, deadShare, initImages, clip);
        }
    }

    private final VqVaeConfig config;
    private final ImageDataset train, test;
    private final Settings st;
    private final Path out;
    private final PrintStream log;
    public final VqVae model;
    private final ParameterStore store;
    private final AdamW optimizer;
    private final Schedule schedule;
    private final DataLoader loader;
    private final Rng guardRng;
    private final CodebookStats window;
    private final DataParallel dp;
    private int step;

    public TokenizerTrainer(VqVaeConfig config, ImageDataset train, ImageDataset test, Settings st, Path out,
                            PrintStream log) {
        this(config, train, test, st, out, log, DataParallel.SINGLE);
    }

    /**
     * @param dp the ranks this run is shared with ({@link DataParallel#SINGLE}: one process); {@code st.batch()} is
     *           the global batch, each rank trains its share of it
     */
    public TokenizerTrainer(VqVaeConfig config, ImageDataset train, ImageDataset test, Settings st, Path out,
                            PrintStream log, DataParallel dp) {
        String badBatch = dp.checkBatch("--batch", st.batch());
        if (badBatch != null) {
            throw new IllegalArgumentException(badBatch);
        }
        if (train.channels() != config.imageChannels() || train.height() != config.imageSize()) {
            throw new IllegalArgumentException("data set " + train.name() + " has " + train.channels() + "x"
                    + train.height() + "x" + train.width() + " images, the tokenizer expects " + config.imageChannels()
                    + "x" + config.imageSize() + "x" + config.imageSize());
        }
        this.config = config;
        this.train = train;
        this.test = test;
        this.st = st;
        this.out = out;
        this.log = dp.console(log);
        this.dp = dp;
        this.model = new VqVae(config, st.seed());
        model.shard(dp.shard());
        this.store = new ParameterStore(model, ParameterStore.varNoDecay(model), Device.CPU);
        this.optimizer = AdamW.var(store);
        this.schedule = new Schedule(Schedule.Kind.COSINE, st.lr(), st.warmup(), st.steps(), 0.005, 0.05, 0, 0);
        this.loader = new DataLoader(train, st.batch(), true, true, st.seed());
        this.guardRng = new Rng(st.seed() * 7919 + 17);
        this.window = new CodebookStats(config.schedule().count(), config.vocab());
    }

    /** The steps taken. */
    public int stepsTaken() {
        return step;
    }

    /** What {@link #train} returns: the final evaluation and the wall time of the training loop. */
    public record Result(Evaluation evaluation, double trainSeconds, int steps, LoopClock loop) {
    }

    /** Trains to {@code settings.steps}, resuming from {@code out}/{@value #CHECKPOINT} when {@code resume}. */
    public Result train(boolean resume) throws IOException {
        return train(resume ? RunDirectory.Start.RESUME : RunDirectory.Start.FRESH, st.steps());
    }

    /** As {@link #train(RunDirectory.Start, int)} with a fresh run ({@code resume} false) or a resumed one. */
    public Result train(boolean resume, int stopAt) throws IOException {
        return train(resume ? RunDirectory.Start.RESUME : RunDirectory.Start.FRESH, stopAt);
    }

    /**
     * Trains to {@code settings.steps}, but stops after step {@code stopAt} (writing a checkpoint there, as an
     * interrupted run would have); returns null unless the run is complete. The output directory is held as a
     * {@link RunDirectory} meanwhile; a resumed run must have the model, data set and settings of the stored one
     * (a longer run is allowed), and its metrics are trimmed back to the checkpoint's step.
     *
     * @throws RunException when the directory is in use or holds a run {@code start} does not allow, when a resume
     *                      would change the run, or when the loss or the gradient norm stops being finite
     */
    public Result train(RunDirectory.Start start, int stopAt) throws IOException {
        // rank 0 alone holds the run directory; the others receive its state (docs/distributed.md)
        try (RunDirectory run = dp.writes() ? RunDirectory.open(out, CHECKPOINT, start, log) : null) {
            return trainFrom(dp.broadcast(run != null && run.resumes()), stopAt);
        }
    }

    private Result trainFrom(boolean resumed, int stopAt) throws IOException {
        Path ckpt = out.resolve(CHECKPOINT);
        int saved = -1;
        if (resumed && dp.writes()) {
            load(ckpt);
            log.printf(Locale.ROOT, "resumed from %s at step %d%n", ckpt, step);
        } else if (!resumed) {
            initCodebook();
        }
        long[] hits = window.counts();
        long[] state = dp.broadcast(store, java.util.stream.LongStream.concat(java.util.stream.LongStream.of(step,
                loader.position(), guardRng.offset(), optimizer.stepCount()), java.util.Arrays.stream(hits)).toArray());
        step = (int) state[0];
        loader.seek(state[1]);
        guardRng.seek(state[2]);
        optimizer.setStepCount((int) state[3]);
        window.setCounts(java.util.Arrays.copyOfRange(state, 4, state.length));
        if (resumed) {
            saved = step;
        }
        dp.progress(step, saved, ckpt);
        log.printf(Locale.ROOT, "tokenizer: %,d parameters, data %s (%d images), %d steps of %d, lr %.2g, %s loss%n",
                model.parameterCount(), train.name(), train.size(), st.steps(), st.batch(), st.lr(),
                st.l1() ? "L1" : "MSE");
        long t0 = System.nanoTime();
        Path metricsFile = out.resolve(RunDirectory.METRICS);
        try (MetricsLog metrics = !dp.writes() ? null : resumed ? MetricsLog.resume(metricsFile, step)
                : new MetricsLog(metricsFile, true)) {
            Progress progress = new Progress("tokenizer", st.steps(), st.logEvery(), log, step);
            LoopClock clock = new LoopClock();
            model.train();
            while (step < Math.min(stopAt, st.steps())) {
                clock.startIteration();
                StepResult r = clock.time(LoopClock.Phase.STEP, this::step);
                Divergence.check(step, "loss", r.loss(), "gradient norm", r.gradNorm(), saved, ckpt);
                float recLoss = r.recLoss(), vqLoss = r.vqLoss(), lr = r.lr();
                double gradNorm = r.gradNorm();
                progress.update(step, st.batch(), "rec", (double) recLoss, "vq", (double) vqLoss,
                        "usage@last", window.usage(config.schedule().count() - 1));
                boolean logNow = step % st.logEvery() == 0 || step == st.steps();
                List<Object> kv = new ArrayList<>();
                for (int s = 0; logNow && s < config.schedule().count(); s++) {
                    kv.addAll(List.of("usage_s" + s, window.usage(s), "perplexity_s" + s, window.perplexity(s)));
                }
                int reseeded = maybeReseed(r.quantized());
                if (logNow && metrics != null) {
                    kv.addAll(0, List.of("step", step, "loss", r.loss(), "rec_loss", recLoss, "vq_loss",
                            vqLoss, "lr", lr, "grad_norm", gradNorm, "reseeded", reseeded));
                    metrics.log(kv.toArray());
                }
                if (dp.writes() && st.evalEvery() > 0 && step % st.evalEvery() == 0 && step < st.steps()) {
                    clock.run(LoopClock.Phase.EVALUATION, () -> {
                        Evaluation e = evaluate(model, test, st.evalImages(), 100);
                        log.println("  eval@" + step + ": " + e.summary());
                        metrics.log(e.record(step, "eval_"));
                        writeGrid(out.resolve("reconstructions.png"), model, test, 8);
                        model.train();
                    });
                }
                if (step % st.checkpointEvery() == 0 || step == st.steps() || step == stopAt) {
                    clock.run(LoopClock.Phase.CHECKPOINT, () -> save(ckpt));
                    saved = step;
                }
                dp.progress(step, saved, ckpt);
                clock.endIteration();
            }
            dp.finished();
            if (step < st.steps()) {
                return null;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (!dp.writes()) {
                return new Result(null, seconds, step, clock);
            }
            Charts.lineChart(out.resolve("loss.png"), "tokenizer training", "step", "loss", List.of(
                    new Charts.Series(st.l1() ? "pixel L1" : "pixel MSE", metrics.series("rec_loss")),
                    new Charts.Series("VQ loss", metrics.series("vq_loss"))));
            Evaluation e = evaluate(model, test, st.finalEvalImages(), 100);
            log.println("final eval (" + test.name() + "): " + e.summary());
            metrics.log(e.record(step, "test_"));
            Files.writeString(out.resolve("eval.json"), e.json(step, seconds));
            writeGrid(out.resolve("reconstructions.png"), model, test, 8);
            return new Result(e, seconds, step, clock);
        }
    }

    /** What one optimiser step returns: its losses, the gradient norm before clipping, the learning rate used. */
    public record StepResult(float loss, float recLoss, float vqLoss, double gradNorm, float lr,
                             ResidualQuantizer.Quantized quantized) {
    }

    /**
     * One optimiser step on the next batch: forward, pixel + VQ loss, backward, gradient clipping, AdamW; the codes
     * hit are counted for the dead-code guard and the losses read back (so the step has finished).
     */
    public StepResult step() {
        try (MemoryScope scope = MemoryScope.openWeak()) {
            DataLoader.Batch batch = loader.next();
            float lr = (float) schedule.lr(step);
            store.zeroGrad();
            Tensor images = dp.part(batch.images());
            VqVae.Output o = model.forward(Variable.constant(images));
            Variable target = Variable.constant(images);
            Variable rec = st.l1() ? l1(o.reconstruction(), target) : F.mse(o.reconstruction(), target);
            Variable loss = F.add(rec, o.vqLoss());
            loss.backward();
            dp.averageGradients(store);
            double gradNorm = optimizer.step(lr, 0f, st.clip());
            ResidualQuantizer.Quantized q = gathered(o.quantized());
            window.add(q.indices());
            step++;
            // the quantisation outlives the step (the dead-code guard reads it); the rest of the step's storage is
            // released when the scope closes, so its large arrays go back to the host pool
            for (Tensor[] ts : new Tensor[][]{q.indices(), q.fhats(), q.inputs()}) {
                for (Tensor t : ts) {
                    scope.keep(t);
                }
            }
            double[] losses = dp.mean(loss.data().item(), rec.data().item(), o.vqLoss().data().item());
            return new StepResult((float) losses[0], (float) losses[1], (float) losses[2], gradNorm, lr, q);
        }
    }

    /**
     * The global batch's quantisation on every rank (each rank's rows in rank order): the code counts and the
     * dead-code re-seeding then see what one process sees. The residuals travel only on a re-seeding step.
     */
    private ResidualQuantizer.Quantized gathered(ResidualQuantizer.Quantized q) {
        if (dp.ranks() == 1) {
            return q;
        }
        boolean reseeds = st.reseedEvery() > 0 && (step + 1) % st.reseedEvery() == 0;
        Tensor[] idx = new Tensor[q.indices().length], in = new Tensor[q.inputs().length];
        for (int s = 0; s < idx.length; s++) {
            idx[s] = dp.gather(q.indices()[s]);
            in[s] = reseeds ? dp.gather(q.inputs()[s]) : q.inputs()[s];
        }
        return new ResidualQuantizer.Quantized(idx, q.fhats(), in);
    }

    /** mean |a − b|. */
    static Variable l1(Variable a, Variable b) {
        Variable d = F.sub(a, b);
        float[] v = d.data().toFloatArray();
        int[] sign = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            sign[i] = v[i] > 0 ? 1 : 0;
        }
        Tensor positive = Tensor.ofInts(sign, d.shape());
        return F.mean(F.where(positive, d, F.neg(d)));
    }

    // ==================================================================================== collapse guards

    /** Seeds the codebook from the latents of {@code initImages} training images (codes split ∝ pn[s]). */
    private void initCodebook() {
        int n = Math.min(st.initImages(), train.size());
        int[] pick = new int[n];
        Rng r = new Rng(st.seed() * 31 + 5);
        int[] perm = new int[train.size()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        for (int i = 0; i < n; i++) {                                          // partial Fisher-Yates
            int j = i + r.nextInt(perm.length - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            pick[i] = perm[i];
        }
        Tensor f = latentsOf(model, train.images(pick, null), 64);
        int S = config.schedule().count(), V = config.vocab();
        int[] per = new int[S];
        double sum = 0;
        for (int s = 0; s < S; s++) {
            sum += config.schedule().side(s);
        }
        int given = 0;
        for (int s = 0; s < S; s++) {
            per[s] = Math.max(1, (int) Math.round(V * config.schedule().side(s) / sum));
            given += per[s];
        }
        per[S - 1] += V - given;
        model.quantize.initCodebook(f, per, guardRng);
    }

    /** Latents f of images, computed in chunks without gradient. */
    static Tensor latentsOf(VqVae model, Tensor images, int chunk) {
        int N = images.size(0);
        List<Tensor> parts = new ArrayList<>();
        for (int i = 0; i < N; i += chunk) {
            parts.add(model.latent(images.slice(0, i, Math.min(N, i + chunk)).contiguous()));
        }
        Tensor f = Tensor.zeros(N, parts.get(0).size(1), parts.get(0).size(2), parts.get(0).size(3));
        int at = 0;
        for (Tensor p : parts) {
            f.backend().copy(f.slice(0, at, at + p.size(0)), p);
            at += p.size(0);
        }
        return f;
    }

    /** Every {@code reseedEvery} steps: codes hit less than deadShare × average are re-seeded; returns how many. */
    private int maybeReseed(ResidualQuantizer.Quantized q) {
        if (st.reseedEvery() <= 0 || step % st.reseedEvery() != 0) {
            return 0;
        }
        int count = 0;
        if (step <= st.reseedStop() * st.steps()) {
            long[] hits = window.total();
            double mean = java.util.Arrays.stream(hits).sum() / (double) hits.length;
            IntArrayList dead = new IntArrayList();
            for (int v = 0; v < hits.length; v++) {
                if (hits[v] < st.deadShare() * mean) {
                    dead.add(v);
                }
            }
            int[] d = dead.toArray();
            model.quantize.reseed(d, q, guardRng);
            resetMoments(d);
            count = d.length;
        }
        window.clear();
        return count;
    }

    /** Zeroes AdamW's moments of re-seeded codebook rows, so the old statistics do not push the new codes. */
    private void resetMoments(int[] rows) {
        int C = config.codeDim();
        for (ParameterStore.Entry e : store.entries()) {
            if (e.name().equals("quantize.embedding.weight")) {
                for (int v : rows) {
                    int from = e.offset() + v * C;
                    store.expAvg().backend().fill(store.expAvg().slice(0, from, from + C), 0f);
                    store.expAvgSq().backend().fill(store.expAvgSq().slice(0, from, from + C), 0f);
                }
            }
        }
    }

    // ==================================================================================== checkpoints

    /** Rank 0 writes the checkpoint; the others have the same state. */
    private void save(Path file) throws IOException {
        if (!dp.writes()) {
            return;
        }
        Map<String, String> state = new HashMap<>();
        state.put("trainer.step", Integer.toString(step));
        state.put("trainer.loader_position", Long.toString(loader.position()));
        state.put("trainer.guard_rng", Long.toString(guardRng.offset()));
        state.put("trainer.hit_window", window.encode());
        state.put("trainer.dataset", train.name());
        state.put("trainer.dataset.size", Integer.toString(train.size()));
        state.put("trainer.settings", GSON.toJson(st));
        model.save(file, optimizer, state);
    }

    private void load(Path file) throws IOException {
        checkResume(file, VqVae.readConfig(file), SafeTensors.read(file).metadata());
        Map<String, String> state = Checkpoint.load(file, model, optimizer);
        step = Integer.parseInt(state.get("trainer.step"));
        loader.seek(Long.parseLong(state.get("trainer.loader_position")));
        guardRng.seek(Long.parseLong(state.get("trainer.guard_rng")));
        window.decode(state.get("trainer.hit_window"));
    }

    /**
     * Refuses a resume whose model, data set or settings differ from the stored run's, except the number of steps
     * (announced; the warm-up follows it) and the evaluation, checkpoint and log intervals.
     */
    private void checkResume(Path file, VqVaeConfig stored, Map<String, String> meta) {
        ResumeCheck check = new ResumeCheck().compare(stored, config, CONFIG_NAMES, Set.of());
        if (meta.containsKey("trainer.dataset") && !meta.get("trainer.dataset").equals(train.name())) {
            check.add("data set " + train.name() + " (the run's is " + meta.get("trainer.dataset") + ")");
        }
        String size = meta.get("trainer.dataset.size");
        if (size != null && Integer.parseInt(size) != train.size()) {
            check.add("a training set of " + train.size() + " images (the run's has " + size + ")");
        }
        Settings was;
        try {
            was = GSON.fromJson(meta.get("trainer.settings"), Settings.class);
        } catch (JsonParseException e) {
            was = null;                                           // written before settings were stored as JSON
        }
        int at = Integer.parseInt(meta.get("trainer.step"));
        if (was != null) {
            check.compare(was, st, SETTING_NAMES, Set.of("steps", "warmup", "logEvery", "evalEvery", "evalImages",
                    "finalEvalImages", "checkpointEvery"));
            if (st.steps() < at) {
                check.add("--steps " + st.steps() + " (the checkpoint is at step " + at + ")");
            }
        }
        check.orRefuse(file);
        if (was != null && was.steps() != st.steps()) {
            log.printf(Locale.ROOT, "--steps %d: the run of %d steps continues to step %d; the learning-rate schedule"
                    + " (warm-up and cosine decay) now spans %d steps%n", st.steps(), was.steps(), st.steps(),
                    st.steps());
        }
    }

    private static final Gson GSON = new Gson();

    /** User-facing names of {@link VqVaeConfig} fields: the {@code tokenizer train} options, or their source. */
    private static final Map<String, String> CONFIG_NAMES = Map.of("ch", "--ch", "vocab", "--vocab", "codeDim",
            "--code-dim", "attnLowest", "--attn-lowest", "midAttn", "--mid-attn", "groups", "--groups",
            "imageChannels", "the data set's image channels", "imageSize", "the data set's image size");

    /** User-facing names of {@link Settings} fields: the {@code tokenizer train} options. */
    private static final Map<String, String> SETTING_NAMES = Map.of("batch", "--batch", "lr", "--lr", "seed",
            "--seed", "l1", "--l1");

    // ==================================================================================== evaluation

    /**
     * Test-set figures: PSNR = 10·log10(1 / MSE) with images mapped to [0, 1] and the reconstruction clamped, over the
     * whole set ({@code psnr}) and averaged per image ({@code psnrPerImage}); per-scale codebook usage, perplexity
     * and distinct codes; the mean squared latent error ||f − fhat_s||² after each scale.
     */
    public record Evaluation(int images, double mse, double psnr, double psnrPerImage, double[] usage,
                             double[] perplexity, int[] distinct, double[] latentError, double seconds) {

        public String summary() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "PSNR %.2f dB (per-image mean %.2f) on %d images; usage/perplexity per scale:", psnr,
                    psnrPerImage, images));
            for (int s = 0; s < usage.length; s++) {
                sb.append(String.format(Locale.ROOT, " %.0f%%/%.1f", 100 * usage[s], perplexity[s]));
            }
            return sb.toString();
        }

        Object[] record(int step, String prefix) {
            List<Object> kv = new ArrayList<>(List.of("step", step, prefix + "psnr", psnr, prefix + "psnr_per_image",
                    psnrPerImage, prefix + "mse", mse));
            for (int s = 0; s < usage.length; s++) {
                kv.addAll(List.of(prefix + "usage_s" + s, usage[s], prefix + "perplexity_s" + s, perplexity[s],
                        prefix + "latent_error_s" + s, latentError[s]));
            }
            return kv.toArray();
        }

        String json(int step, double trainSeconds) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("step", step);
            m.put("train_seconds", trainSeconds);
            m.put("images", images);
            m.put("psnr", psnr);
            m.put("psnr_per_image", psnrPerImage);
            m.put("mse_01", mse);
            m.put("usage", usage);
            m.put("perplexity", perplexity);
            m.put("distinct_codes", distinct);
            m.put("latent_error", latentError);
            return new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(m) + "\n";
        }
    }

    /** Evaluates the first {@code limit} images of {@code data} (0 = all) in batches, without gradient. */
    public static Evaluation evaluate(VqVae model, ImageDataset data, int limit, int batch) {
        long t0 = System.nanoTime();
        model.eval();
        int n = limit <= 0 ? data.size() : Math.min(limit, data.size());
        int S = model.config.schedule().count();
        CodebookStats stats = new CodebookStats(S, model.config.vocab());
        double sse = 0, psnrSum = 0;
        double[] latErr = new double[S];
        int per = data.imageSize();
        try (var ignored = GradMode.off()) {
            for (int i = 0; i < n; i += batch) {
                int b = Math.min(batch, n - i);
                int[] idx = new int[b];
                for (int j = 0; j < b; j++) {
                    idx[j] = i + j;
                }
                Tensor x = data.images(idx, null);
                Tensor f = model.latent(x);
                ResidualQuantizer.Quantized q = model.quantize.quantize(f);
                stats.add(q.indices());
                for (int s = 0; s < S; s++) {
                    Tensor d = f.sub(q.fhats()[s]);
                    latErr[s] += d.mul(d).sum().item() * b / d.numel();
                }
                float[] rec = model.decodeFhat(q.fhat()).toFloatArray(), px = x.toFloatArray();
                for (int j = 0; j < b; j++) {
                    double e = 0;
                    for (int k = 0; k < per; k++) {
                        double t = (rec[j * per + k] - px[j * per + k]) * 0.5;   // in [0, 1] units
                        e += t * t;
                    }
                    e /= per;
                    sse += e;
                    psnrSum += 10 * Math.log10(1 / Math.max(e, 1e-10));
                }
            }
        }
        double[] usage = new double[S], perplexity = new double[S];
        int[] distinct = new int[S];
        for (int s = 0; s < S; s++) {
            usage[s] = stats.usage(s);
            perplexity[s] = stats.perplexity(s);
            distinct[s] = stats.distinct(s);
            latErr[s] /= n;
        }
        double mse = sse / n;
        return new Evaluation(n, mse, 10 * Math.log10(1 / mse), psnrSum / n, usage, perplexity, distinct, latErr,
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * A reconstruction grid of the first {@code count} images of {@code data}: the inputs in the top row, their
     * reconstructions below, then the cumulative reconstruction after each scale 1..S (coarse to fine).
     */
    public static void writeGrid(Path file, VqVae model, ImageDataset data, int count) throws IOException {
        model.eval();
        int n = Math.min(count, data.size());
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        Tensor x = data.images(idx, null);
        Tensor[] perScale = model.reconstructPerScale(x);
        int per = data.imageSize(), S = perScale.length;
        float[] px = new float[(2 + S) * n * per];
        System.arraycopy(x.toFloatArray(), 0, px, 0, n * per);
        System.arraycopy(perScale[S - 1].toFloatArray(), 0, px, n * per, n * per);
        for (int s = 0; s < S; s++) {
            System.arraycopy(perScale[s].toFloatArray(), 0, px, (2 + s) * n * per, n * per);
        }
        Charts.imageGrid(file, px, (2 + S) * n, data.channels(), data.height(), data.width(), n, 3);
    }
}
