package dev.mvarj.bench;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The device check cannot rot: the bundle is built from this build's jars (tools/gpu-bundle.sh --prebuilt, after
 * the package phase, so this test runs at integration-test) and its script runs in QUICK mode on this machine's
 * OpenCL device (PoCL in CI), with a failing {@code nvidia-smi} on the PATH. Every phase must pass, the bundle must
 * stay under 64 MiB, and the results must hold each phase's figures.
 */
class DeviceCheckBundleTest {

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theBundledDeviceCheckRunsInQuickModeOnThisDevice() throws IOException, InterruptedException {
        boolean required = "1".equals(System.getenv("MVARJ_REQUIRE_OPENCL"));
        File[] icds = new File("/etc/OpenCL/vendors").listFiles((d, n) -> n.endsWith(".icd"));
        Assumptions.assumeTrue(required || icds != null && icds.length > 0, "no OpenCL driver registered here");
        Path bundle = ROOT.resolve("bench/target/gpu-bundle-quick"), results = ROOT.resolve("bench/target/gpu-quick");
        Path bin = ROOT.resolve("bench/target/fake-bin");
        Files.createDirectories(bin);
        GpuHostScriptTest.fake(bin, "nvidia-smi", "echo 'NVIDIA-SMI has failed: no driver'; exit 9");

        Run build = run(300, "JLINK_COMPRESS=zip-1 tools/gpu-bundle.sh --prebuilt " + bundle, bin);
        assertThat(build.exit()).as(build.out()).isZero();
        long bytes;
        try (var files = Files.walk(bundle)) {
            bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        assertThat(bytes).as("bundle size").isLessThan(64L << 20);

        Run check = run(300, "QUICK=1 " + bundle.resolve("run.sh") + " " + results, bin);
        String summary = Files.readString(results.resolve("summary.txt"));
        assertThat(check.exit()).as(check.out()).isZero();
        for (String phase : new String[]{"host", "info", "tests", "gemm", "var", "mvar"}) {
            assertThat(summary).as(summary).contains(phase + ": ok");
        }
        assertThat(Files.readString(results.resolve("host.txt"))).contains("glibc").contains("nvidia-smi exited 9");
        assertThat(Files.readString(results.resolve("info.txt"))).contains("opencl");
        assertThat(Files.readString(results.resolve("tests.txt"))).contains("tests successful")
                .contains("0 tests failed");
        assertThat(Files.readString(results.resolve("gemm.txt"))).contains("gemm nn").contains("gemm nt")
                .contains("gemm tn").contains("GFLOP/s");
        assertThat(Files.readString(results.resolve("var.txt"))).contains("step var fashion");
        assertThat(Files.readString(results.resolve("mvar.txt"))).contains("step mvar fashion");
    }

    record Run(int exit, String out) {
    }

    static Run run(int seconds, String command, Path bin) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", command).directory(ROOT.toFile())
                .redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return new Run(p.waitFor(), new String(out, StandardCharsets.UTF_8));
    }
}
