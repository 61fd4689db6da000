package dev.mvarj.nn;

import dev.mvarj.tensor.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ResumeTest {

    @TempDir
    Path dir;

    /** A JVM like this one (same java, flags and class path) running {@code mainClass}. */
    private static ProcessBuilder jvm(Class<?> mainClass, String... args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(Arrays.asList(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true);
    }

    @Test
    void resumingInANewProcessIsBitExact() throws Exception {
        TinyTraining straight = new TinyTraining();
        float[] lossesStraight = straight.train(0, TinyTraining.TOTAL);

        TinyTraining firstHalf = new TinyTraining();
        float[] lossesFirst = firstHalf.train(0, TinyTraining.TOTAL / 2);
        Path ckpt = dir.resolve("half.safetensors"), result = dir.resolve("result.safetensors");
        firstHalf.save(ckpt, TinyTraining.TOTAL / 2);

        Process p = jvm(TinyTraining.class, ckpt.toString(), result.toString()).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();

        SafeTensors.Contents c = SafeTensors.read(result);
        float[] resumed = new float[TinyTraining.TOTAL];
        System.arraycopy(lossesFirst, 0, resumed, 0, lossesFirst.length);
        System.arraycopy(c.get("losses").toFloatArray(), 0, resumed, lossesFirst.length, TinyTraining.TOTAL / 2);
        assertThat(resumed).as("losses").containsExactly(lossesStraight);
        assertThat(c.get("weights").toFloatArray()).as("weights").containsExactly(straight.weights());
        assertThat(lossesStraight[TinyTraining.TOTAL - 1]).isLessThan(lossesStraight[0]);
    }

    @Test
    void aCheckpointKilledMidWriteLeavesThePreviousOneReadable() throws Exception {
        Path ckpt = dir.resolve("ckpt.safetensors");
        TinyTraining t = new TinyTraining();
        t.train(0, 2);
        t.save(ckpt, 2);
        byte[] before = Files.readAllBytes(ckpt);

        Process writer = jvm(CheckpointWriterProbe.class, ckpt.toString()).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream()))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("writing")) {
                // skip JVM warnings
            }
            Thread.sleep(150);
        }
        writer.destroyForcibly();
        assertThat(writer.waitFor(30, TimeUnit.SECONDS)).isTrue();

        // whatever moment the writer died at, the file is either the old checkpoint or a complete new one
        byte[] after = Files.readAllBytes(ckpt);
        if (Arrays.equals(before, after)) {
            assertThat(new TinyTraining().load(ckpt)).isEqualTo(2);
        } else {
            assertThat(SafeTensors.read(ckpt).tensors()).containsKey("big");
        }
    }
}
