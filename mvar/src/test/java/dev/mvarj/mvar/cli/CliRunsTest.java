package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.eval.FeatureNet;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.RunDirectory;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.mvarj.mvar.cli.CliFixture.mvarj;
import static dev.mvarj.mvar.cli.CliFixture.train;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs that cannot be lost or muddled, through the command line: a run directory is locked, is continued only with
 * --resume (under the run's own settings) and replaced only with --overwrite; metrics cover every step once after a
 * resume; a diverging run stops with the step and the quantity and keeps its last good checkpoint; a run killed with
 * SIGKILL resumes bit-exactly and its stale temporary files are removed; samples do not depend on --batch or on the
 * number of threads.
 */
class CliRunsTest {

    private static final Pattern STEP = Pattern.compile("\"step\":(\\d+)");

    @Test
    void aSecondRunIntoARunDirectoryNeedsResumeOrOverwrite(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        train(run, "--steps", "2").ok();
        byte[] ckpt = Files.readAllBytes(run.resolve("checkpoint.safetensors"));
        byte[] metrics = Files.readAllBytes(run.resolve("metrics.jsonl"));
        train(run, "--steps", "2").refused(2, run + " already holds a run (checkpoint.safetensors); add --resume to"
                + " continue it or --overwrite to replace it");
        assertThat(Files.readAllBytes(run.resolve("checkpoint.safetensors"))).as("checkpoint kept").isEqualTo(ckpt);
        assertThat(Files.readAllBytes(run.resolve("metrics.jsonl"))).as("metrics kept").isEqualTo(metrics);

        String out = train(run, "--steps", "3", "--overwrite").ok().out();
        assertThat(out).contains("--overwrite: deleted " + run.resolve("checkpoint.safetensors"));
        assertThat(steps(run)).containsExactly(1, 2, 3);
    }

    @Test
    void resumeRefusesAChangeThatAltersTheRunAndAllowsALongerOne(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        train(run, "--steps", "2").ok();
        byte[] ckpt = Files.readAllBytes(run.resolve("checkpoint.safetensors"));
        train(run, "--steps", "2", "--resume", "--model", "var").refused(2, "--resume: --model var (the run has mvar)");
        train(run, "--steps", "2", "--resume", "--lr", "2e-3").refused(2, "--lr 0.002 (the run has 0.006)");
        train(run, "--steps", "2", "--resume", "--depth", "2").refused(2, "--depth 2 (the run has 1)");
        train(run, "--steps", "2", "--resume", "--seed", "5", "--mode", "cycle")
                .refused(2, "--mode cycle (the run has all); --seed 5 (the run has 1)");
        train(run, "--steps", "1", "--resume").refused(2, "--steps 1 (the checkpoint is at step 2)");
        assertThat(Files.readAllBytes(run.resolve("checkpoint.safetensors"))).as("checkpoint kept").isEqualTo(ckpt);

        String out = train(run, "--steps", "4", "--resume").ok().out();
        assertThat(out).contains("--steps 4: the run of 2 steps continues to step 4");
        assertThat(steps(run)).containsExactly(1, 2, 3, 4);
    }

    @Test
    void theTokenizerRunIsProtectedTheSameWay(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("tok");
        CliFixture.tokenizerTrain(run, "--steps", "2", "--vocab", "32").ok();
        byte[] ckpt = Files.readAllBytes(run.resolve("tokenizer.safetensors"));
        CliFixture.tokenizerTrain(run, "--steps", "2", "--vocab", "32")
                .refused(2, "already holds a run (tokenizer.safetensors); add --resume");
        CliFixture.tokenizerTrain(run, "--steps", "3", "--vocab", "32", "--resume", "--lr", "1e-3")
                .refused(2, "--resume: --lr 0.001 (the run has 0.002)");
        CliFixture.tokenizerTrain(run, "--steps", "3", "--vocab", "16", "--resume")
                .refused(2, "--resume: --vocab 16 (the run has 32)");
        CliFixture.tokenizerTrain(run, "--steps", "3", "--vocab", "32", "--resume", "--shapes-train", "48")
                .refused(2, "a training set of 48 images (the run's has 40)");
        assertThat(Files.readAllBytes(run.resolve("tokenizer.safetensors"))).as("checkpoint kept").isEqualTo(ckpt);
        String out = CliFixture.tokenizerTrain(run, "--steps", "3", "--vocab", "32", "--resume").ok().out();
        assertThat(out).contains("--steps 3: the run of 2 steps continues to step 3");
        assertThat(steps(run)).as("the records of step 2 (train, final eval) once, then step 3's")
                .containsExactly(2, 2, 3, 3);
    }

    @Test
    void aLockedRunDirectoryIsRefusedNamingTheRunThatHoldsIt(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        try (RunDirectory held = RunDirectory.open(run, "checkpoint.safetensors", RunDirectory.Start.FRESH,
                new PrintStream(OutputStream.nullOutputStream()))) {
            train(run, "--steps", "1").refused(1, run + " is in use by another run (pid "
                    + ProcessHandle.current().pid() + " on ");
            CliFixture.tokenizerTrain(run, "--steps", "1", "--vocab", "32").refused(1, "is in use by another run");
        }
        train(run, "--steps", "1").ok();
    }

    @Test
    void aDivergingRunStopsNamingTheStepAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        CliFixture.Run r = train(run, "--steps", "8", "--lr", "1e30", "--checkpoint-every", "1")
                .refused(1, "training diverged at step ");
        Matcher m = Pattern.compile("diverged at step (\\d+): the (loss|gradient norm) is (NaN|Infinity|-Infinity);"
                + " stopped, the last good checkpoint \\(step (\\d+)\\) is kept in ").matcher(r.err());
        assertThat(m.find()).as(r.err()).isTrue();
        int bad = Integer.parseInt(m.group(1)), kept = Integer.parseInt(m.group(4));
        assertThat(kept).isEqualTo(bad - 1);
        assertThat(SafeTensors.read(run.resolve("checkpoint.safetensors")).metadata().get("step"))
                .isEqualTo(Integer.toString(kept));
        assertThat(steps(run)).as("every logged step is finite and before the bad one").hasSize(kept);

        Path tok = dir.resolve("tok");
        CliFixture.tokenizerTrain(tok, "--steps", "8", "--vocab", "32", "--lr", "1e30")
                .refused(1, "training diverged at step ");
    }

    @Test
    void aRunKilledWithSigkillResumesBitExactlyWithoutLeftovers(@TempDir Path dir) throws Exception {
        String[] opts = {"--steps", "60", "--checkpoint-every", "3"};
        Path straight = dir.resolve("straight"), killed = dir.resolve("killed");
        train(straight, opts).ok();

        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(CliFixture.concat(new String[]{"train", "--tokens", CliFixture.files().tokens.toString(),
                "--out", killed.toString(), "--batch", "8", "--depth", "1", "--width", "16", "--heads", "2"}, opts)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile())
                .start();
        Path ckpt = killed.resolve("checkpoint.safetensors");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!Files.exists(ckpt) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(p.isAlive()).as("the run is still going when killed; log: %s",
                Files.exists(dir.resolve("log")) ? Files.readString(dir.resolve("log")) : "").isTrue();
        p.destroyForcibly();                                                       // SIGKILL
        p.waitFor();
        // what a kill in the middle of a checkpoint write leaves: a hidden temporary file next to the checkpoint
        Path stale = killed.resolve(".checkpoint.safetensors.5eed1e55.tmp");
        Files.write(stale, new byte[3 << 20]);

        String out = train(killed, CliFixture.concat(opts, "--resume")).ok().out();
        assertThat(out).contains("removed " + stale).contains("resumed from " + ckpt);
        try (Stream<Path> files = Files.list(killed)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
        assertThat(steps(killed)).as("every step once").containsExactlyElementsOf(
                java.util.stream.IntStream.rangeClosed(1, 60).boxed().toList());
        assertThat(killed.resolve("loss.png")).exists();
        Map<String, Tensor> a = SafeTensors.read(straight.resolve("checkpoint.safetensors")).tensors(),
                b = SafeTensors.read(ckpt).tensors();
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((name, t) -> assertThat(b.get(name).toFloatArray()).as(name).containsExactly(t.toFloatArray()));
    }

    @Test
    void samplesOfASeedDoNotDependOnTheBatchOrTheThreads(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        train(run, "--steps", "2").ok();
        String ckpt = run.resolve("checkpoint.safetensors").toString();
        mvarj("sample", "--checkpoint", ckpt, "--per-class", "2", "--batch", "1", "--seed", "3",
                "--grid", dir.resolve("one.png").toString(), "--out", dir.resolve("one").toString()).ok();
        mvarj("sample", "--checkpoint", ckpt, "--per-class", "2", "--batch", "7", "--seed", "3",
                "--grid", dir.resolve("seven.png").toString(), "--out", dir.resolve("seven").toString()).ok();
        mvarj("sample", "--checkpoint", ckpt, "--per-class", "2", "--batch", "7", "--seed", "4",
                "--grid", dir.resolve("other.png").toString()).ok();
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElse("java"), "-Dmvarj.threads=1",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "sample", "--checkpoint", ckpt, "--per-class", "2", "--batch", "3", "--seed",
                "3", "--grid", dir.resolve("thread.png").toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile())
                .start();
        assertThat(p.waitFor()).as(Files.readString(dir.resolve("log"))).isZero();

        byte[] one = Files.readAllBytes(dir.resolve("one.png"));
        assertThat(Files.readAllBytes(dir.resolve("seven.png"))).as("batch 7 vs batch 1").isEqualTo(one);
        assertThat(Files.readAllBytes(dir.resolve("thread.png"))).as("one thread, batch 3").isEqualTo(one);
        assertThat(Files.readAllBytes(dir.resolve("other.png"))).as("another seed").isNotEqualTo(one);
        try (Stream<Path> files = Files.walk(dir.resolve("one"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readAllBytes(dir.resolve("seven").resolve(dir.resolve("one").relativize(f))))
                        .as(f.toString()).isEqualTo(Files.readAllBytes(f));
            }
        }
    }

    @Test
    void evalScoresSamplesBetweenRealImagesAndReconstructionsWithTheDataSetsClassifier(@TempDir Path dir)
            throws Exception {
        Path run = dir.resolve("run");
        train(run, "--steps", "2").ok();
        Path classifier = dir.resolve("classifier.safetensors");
        new FeatureNet(new FeatureNet.Config(3, 8, 16, 4, 10), 5).save(classifier, Map.of());
        String out = mvarj("eval", "--checkpoint", run.resolve("checkpoint.safetensors").toString(), "--classifier",
                classifier.toString(), "--per-class", "4", "--batch", "20").ok().out();
        assertThat(out).contains("| real training images (floor) | 40 |")
                .contains("| tokenizer reconstructions (ceiling) | 40 |")
                .contains("| MVAR samples (cfg 1.5, top-k off, top-p 0.95) | 40 |")
                .contains("horizontal bars").contains("10000 real");
        Matcher floor = Pattern.compile("\\| real training images \\(floor\\) \\| 40 \\| ([0-9.]+) \\|").matcher(out);
        Matcher samples = Pattern.compile("\\| MVAR samples [^|]+\\| 40 \\| ([0-9.]+) \\|").matcher(out);
        assertThat(floor.find() && samples.find()).as(out).isTrue();
        assertThat(Double.parseDouble(samples.group(1))).as("two training steps are far from real images")
                .isGreaterThan(Double.parseDouble(floor.group(1)));
    }

    @Test
    void theDemoRunsEveryPhaseAndWritesItsReport(@TempDir Path dir) throws Exception {
        Path classifier = dir.resolve("classifier.safetensors");
        new FeatureNet(new FeatureNet.Config(3, 8, 16, 4, 10), 5).save(classifier, Map.of());
        Path out = dir.resolve("demo");
        String log = mvarj("demo", "--quick", "--dataset", "shapes", "--tokenizer-steps", "2", "--images", "64",
                "--steps", "2", "--classifier", classifier.toString(), "--out", out.toString()).ok().out();
        assertThat(log).contains("== 1/5 tokenizer", "== 2/5 tokenise 64", "== 3/5 MVAR", "== 4/5 samples",
                "== 5/5 scores", "| real training images (floor) | 100 |", "== done in");
        String report = Files.readString(out.resolve("report.md"));
        assertThat(report).contains("Data: the built-in shapes", "![samples](samples.png)",
                "![progression](progression.png)", "| tokenizer reconstructions (ceiling) | 100 |",
                "| MVAR samples (cfg 1.5, top-k off, top-p 0.95) | 100 |", "horizontal bars", "2 steps of 8 on 64 images",
                "| tokenizer training |", "| **total** |");
        for (String file : new String[]{"samples.png", "progression.png", "tokenizer/loss.png", "mvar/loss.png",
                "tokens.safetensors", "mvar/checkpoint.safetensors"}) {
            assertThat(out.resolve(file)).as(file).isRegularFile();
        }
        java.awt.image.BufferedImage grid = javax.imageio.ImageIO.read(out.resolve("samples.png").toFile());
        assertThat(grid.getHeight()).as("ten rows of 96-pixel images under a header").isGreaterThan(10 * 96);
    }

    @Test
    void tokenizerGroupsAreCheckedTogetherWithTheChannels(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("tok");
        CliFixture.tokenizerTrain(run, "--steps", "1", "--vocab", "16", "--ch", "6", "--groups", "2").ok();
        assertThat(dev.mvarj.mvar.vq.VqVae.readConfig(run.resolve("tokenizer.safetensors")).groups()).isEqualTo(2);
        CliFixture.tokenizerTrain(run, "--steps", "2", "--vocab", "16", "--ch", "6", "--groups", "3", "--resume")
                .refused(2, "--groups 3 (the run has 2)");
    }

    @Test
    void theProgressionOfAClassEndsInThatClassesFirstSample(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        train(run, "--steps", "2").ok();
        Runs.Trained t = Runs.load(run.resolve("checkpoint.safetensors"));
        VqVae vae = VqVae.load(CliFixture.files().tokenizer);
        Sampler.Settings st = new Sampler.Settings(1.5f, 0, 0.95f, 3);
        int perClass = 3, scales = t.model().cfg.schedule().count(), per = 3 * 32 * 32;
        Generation.Samples s = Generation.generate(t.model(), vae, AttentionPattern.MVAR, perClass, 4, st);
        float[] steps = Generation.progression(t.model(), vae, AttentionPattern.MVAR, perClass, st);
        float[] samples = s.images().toFloatArray();
        for (int c = 0; c < 10; c++) {
            int last = (c * scales + scales - 1) * per, sample = c * perClass * per;
            assertThat(java.util.Arrays.copyOfRange(steps, last, last + per)).as("class %d", c)
                    .containsExactly(java.util.Arrays.copyOfRange(samples, sample, sample + per));
        }
        int first = 0, second = per;                  // the 1×1 and 2×2 pictures of class 0 differ
        assertThat(java.util.Arrays.copyOfRange(steps, first, first + per))
                .isNotEqualTo(java.util.Arrays.copyOfRange(steps, second, second + per));
    }

    /** The steps of the records in a run's metrics.jsonl, in file order. */
    private static List<Integer> steps(Path run) throws Exception {
        List<Integer> steps = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            Matcher m = STEP.matcher(line);
            assertThat(m.find()).as(line).isTrue();
            steps.add(Integer.parseInt(m.group(1)));
        }
        return steps;
    }
}
