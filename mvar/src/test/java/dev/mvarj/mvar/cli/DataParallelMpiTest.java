package dev.mvarj.mvar.cli;

import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.mvarj.mvar.cli.CliFixture.files;
import static dev.mvarj.mvar.cli.CliFixture.mvarj;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Data-parallel training under {@code mpirun} (docs/distributed.md): two ranks take the steps of one process with the
 * same global batch (every step's loss and the final weights within {@link #TOLERANCE}), rank 0 alone writes, a
 * rank killed with SIGKILL stops the whole job with a message, and the last checkpoint resumes to the weights of
 * the uninterrupted run, bit for bit, on the same number of ranks (and on one process within the tolerance).
 *
 * <p>The tolerance is not zero because float addition is not associative: one process sums each weight's gradient
 * over the whole batch inside its GEMM blocks, two ranks sum halves and then add the halves. Everything else is the
 * same computation (the same rows, the same random draws, the same clipping and AdamW), so the runs differ by
 * rounding only: over 50 steps of the default MVAR on Fashion-MNIST tokens, 7.2e-7 in the loss and 4.6e-6 in any
 * weight (docs/distributed.md#the-proof); 1e-4 leaves a margin of 20 for the growth of rounding over a run.
 *
 * <p>Skipped where {@code mpirun} is absent, unless {@code MVARJ_REQUIRE_MPI=1} (CI sets it), which makes that a
 * failure.
 */
class DataParallelMpiTest {

    /** Largest |difference| allowed between one process and two ranks, in the loss and in any weight. */
    static final double TOLERANCE = 1e-4;
    private static final Pattern STEP_LOSS = Pattern.compile("\"step\":(\\d+),\"loss\":([-0-9.eE]+)");

    private static String mpirun;

    @BeforeAll
    static void findMpirun() {
        mpirun = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .map(d -> Path.of(d, "mpirun")).filter(Files::isExecutable).map(Path::toString).findFirst()
                .orElse(null);
        if (mpirun == null && "1".equals(System.getenv("MVARJ_REQUIRE_MPI"))) {
            fail("MVARJ_REQUIRE_MPI=1 but mpirun is not on the PATH (apt-get install openmpi-bin)");
        }
        assumeTrue(mpirun != null, "mpirun is not installed (apt-get install openmpi-bin) and MVARJ_REQUIRE_MPI is"
                + " not 1");
    }

    /** {@code mpirun -np 2} of the mvarj command line, one thread per rank, as root where needed. */
    static ProcessBuilder twoRanks(Path log, String... args) {
        List<String> cmd = new ArrayList<>(List.of(mpirun, "-np", "2", "--oversubscribe"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("--allow-run-as-root");
        }
        cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "-Dmvarj.threads=1",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        // containers often forbid the cross-memory attach of Open MPI's shared-memory transport
        pb.environment().put("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        return pb;
    }

    static String run(ProcessBuilder pb, Path log) throws Exception {
        Process p = pb.start();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("mpirun did not finish in 240 s: " + Files.readString(log));
        }
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    static String[] train(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--tokens", files().tokens.toString(), "--out",
                out.toString(), "--batch", "8", "--depth", "2", "--width", "16", "--heads", "2", "--drop-path",
                "0.3", "--checkpoint-every", "4", "--steps", "16"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void twoRanksTakeTheStepsOfOneProcessAndAKilledRankStopsTheJobThatThenResumes(@TempDir Path dir)
            throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("two"), killed = dir.resolve("killed");
        mvarj(train(one)).ok();
        String out = run(twoRanks(dir.resolve("two.log"), train(two)), dir.resolve("two.log"));
        assertThat(count(out, "data-parallel: Open MPI")).as("rank 0 alone prints: " + out).isEqualTo(1);
        assertThat(count(out, "done: 16 steps")).as(out).isEqualTo(1);
        assertThat(out).contains("global batch 8, 4 per rank").contains("gradient all-reduce took");

        double[] lossOne = losses(one), lossTwo = losses(two);
        assertThat(lossTwo).hasSize(16).hasSameSizeAs(lossOne);
        for (int i = 0; i < lossOne.length; i++) {
            assertThat(Math.abs(lossTwo[i] - lossOne[i])).as("step %d: %s vs %s", i + 1, lossTwo[i], lossOne[i])
                    .isLessThanOrEqualTo(TOLERANCE);
        }
        double weights = maxWeightDifference(one, two), loss = 0;
        for (int i = 0; i < lossOne.length; i++) {
            loss = Math.max(loss, Math.abs(lossTwo[i] - lossOne[i]));
        }
        System.out.printf("one process vs two ranks, %d steps: max |loss diff| %.3g, max |weight diff| %.3g%n",
                lossOne.length, loss, weights);
        assertThat(weights).as("final weights").isLessThanOrEqualTo(TOLERANCE);
        assertThat(SafeTensors.read(checkpoint(two)).metadata()).containsEntry("train.ranks", "2");

        // kill rank 1 (SIGKILL) once rank 0 has passed the checkpoint of step 4: the whole job stops with a message
        Path log = dir.resolve("killed.log");
        Process job = twoRanks(log, train(killed)).start();
        ProcessHandle rank1 = awaitRank1AfterStep(job, killed, 5, log);
        rank1.destroyForcibly();
        assertThat(job.waitFor(120, TimeUnit.SECONDS)).as("the job stops").isTrue();
        String killedOut = Files.readString(log);
        assertThat(job.exitValue()).as(killedOut).isNotZero();
        assertThat(killedOut).contains("mvarj: the job of 2 ranks stopped before the end")
                .contains("run the same command with --resume");
        int at = Integer.parseInt(SafeTensors.read(checkpoint(killed)).metadata().get("step"));
        assertThat(at).as("the last checkpoint").isBetween(4, 12);

        // a copy resumed on one process continues the same run (announced), within the tolerance
        Path single = dir.resolve("single");
        copy(killed, single);
        String resumedAlone = mvarj(train(single, "--resume")).ok().out();
        assertThat(resumedAlone).contains("the run was trained on 2 rank(s), it continues on 1; the global batch"
                + " stays 8");
        assertThat(maxWeightDifference(two, single)).isLessThanOrEqualTo(TOLERANCE);

        // resumed on two ranks it ends at the uninterrupted run's weights exactly
        String resumed = run(twoRanks(dir.resolve("resumed.log"), train(killed, "--resume")),
                dir.resolve("resumed.log"));
        assertThat(resumed).contains("resumed from " + checkpoint(killed) + " at step " + at);
        assertThat(maxWeightDifference(two, killed)).as("resumed vs uninterrupted, two ranks").isZero();
        double[] lossResumed = losses(killed);
        assertThat(lossResumed).containsExactly(lossTwo);
    }

    @Test
    void twoRanksTrainTheTokenizerAsOneProcess(@TempDir Path dir) throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("two");
        String[] base = {"tokenizer", "train", "--dataset", "shapes", "--shapes-train", "40", "--shapes-test", "8",
                "--ch", "8", "--code-dim", "4", "--eval-every", "0", "--eval-images", "8", "--final-eval-images", "8",
                "--checkpoint-every", "2", "--no-mid-attn", "--steps", "2"};
        mvarj(concat(base, "--batch", "4", "--out", one.toString())).ok();
        String out = run(twoRanks(dir.resolve("log"), concat(base, "--batch", "4", "--out", two.toString())),
                dir.resolve("log"));
        assertThat(count(out, "trained 2 steps")).as(out).isEqualTo(1);
        assertThat(maxWeightDifference(one.resolve("tokenizer.safetensors"), two.resolve("tokenizer.safetensors")))
                .isLessThanOrEqualTo(TOLERANCE);

        String odd = refused(twoRanks(dir.resolve("odd.log"), concat(base, "--batch", "5", "--out",
                dir.resolve("odd").toString())), dir.resolve("odd.log"));
        assertThat(odd).contains("--batch 5 does not split over 2 ranks: give a multiple of 2");
    }

    static String refused(ProcessBuilder pb, Path log) throws Exception {
        Process p = pb.start();
        assertThat(p.waitFor(240, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isNotZero();
        return out;
    }

    /** Waits until rank 0's metrics pass {@code step}, then returns the process of rank 1 (from its environment). */
    static ProcessHandle awaitRank1AfterStep(Process job, Path run, int step, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                fail("the job ended before the kill: " + Files.readString(log));
            }
            Path metrics = run.resolve("metrics.jsonl");
            if (Files.exists(metrics) && Files.readAllLines(metrics).size() >= step) {
                Optional<ProcessHandle> r1 = job.descendants().filter(h -> environ(h).contains(
                        "OMPI_COMM_WORLD_RANK=1\0")).findFirst();
                if (r1.isPresent()) {
                    return r1.get();
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("rank 0 did not reach step " + step + ": " + Files.readString(log));
    }

    private static String environ(ProcessHandle h) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "environ")),
                    StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    static double[] losses(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().map(STEP_LOSS::matcher)
                .filter(Matcher::find).mapToDouble(m -> Double.parseDouble(m.group(2))).toArray();
    }

    static Path checkpoint(Path run) {
        return run.resolve("checkpoint.safetensors");
    }

    static double maxWeightDifference(Path a, Path b) throws IOException {
        Map<String, Tensor> x = SafeTensors.read(Files.isDirectory(a) ? checkpoint(a) : a).tensors(),
                y = SafeTensors.read(Files.isDirectory(b) ? checkpoint(b) : b).tensors();
        assertThat(y.keySet()).isEqualTo(x.keySet());
        double max = 0;
        for (String name : x.keySet()) {
            if (x.get(name).dtype() != dev.mvarj.tensor.DType.F32) {
                continue;
            }
            float[] p = x.get(name).toFloatArray(), q = y.get(name).toFloatArray();
            for (int i = 0; i < p.length; i++) {
                max = Math.max(max, Math.abs(p[i] - q[i]));
            }
        }
        return max;
    }

    private static int count(String text, String fragment) {
        return text.split(Pattern.quote(fragment), -1).length - 1;
    }

    private static String[] concat(String[] a, String... b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!f.getFileName().toString().equals(".lock")) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }
}
