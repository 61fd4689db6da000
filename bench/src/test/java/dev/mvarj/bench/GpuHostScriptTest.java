package dev.mvarj.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The host checks of the device check (tools/gpu-host.sh) against fake {@code ldconfig} and {@code nvidia-smi}
 * programs: a library is found however long the linker's cache is, under {@code set -o pipefail} (a pipe into
 * {@code grep -q} failed there by SIGPIPE), and a failing {@code nvidia-smi} is reported, not fatal.
 */
class GpuHostScriptTest {

    static final Path HOST = Path.of("..", "tools", "gpu-host.sh").toAbsolutePath().normalize();

    /** Writes an executable script {@code name} into {@code dir}. */
    static void fake(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs {@code script} in bash with gpu-host.sh sourced, strict mode on and {@code bin} first on PATH. */
    static Result bash(Path bin, String script) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                "set -euo pipefail; . '" + HOST + "'; " + script).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    record Result(int exit, String out) {
    }

    @Test
    void aLibraryEarlyInALongLinkerCacheIsFoundEveryTimeUnderPipefail(@TempDir Path bin) throws Exception {
        // the match comes first and 3 MB follow: a `ldconfig -p | grep -q` pipeline loses its writer to SIGPIPE
        // here and fails under pipefail
        StringBuilder cache = new StringBuilder("50001 libs found in cache\n"
                + "\tlibnvidia-opencl.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1\n");
        for (int i = 0; i < 50_000; i++) {
            cache.append("\tlibfiller").append(i).append(".so (libc6,x86-64) => /usr/lib/libfiller").append(i)
                    .append(".so\n");
        }
        Files.writeString(bin.resolve("cache.txt"), cache);
        fake(bin, "ldconfig", "cat '" + bin.resolve("cache.txt") + "'");
        Result r = bash(bin, """
                for i in 1 2 3 4 5 6 7 8 9 10; do has_lib 'libnvidia-opencl\\.so\\.1' || { echo "missed on try $i"; exit 1; }; done
                lib_path 'libnvidia-opencl\\.so\\.1'
                has_lib 'libOpenCL\\.so\\.1 ' && echo "found a loader that is not there" || echo "no loader, as it should be\"""");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("/usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1")
                .contains("no loader, as it should be").doesNotContain("missed");
    }

    @Test
    void aFailingNvidiaSmiIsReportedAndTheChecksGoOn(@TempDir Path bin) throws Exception {
        fake(bin, "nvidia-smi", "echo 'NVIDIA-SMI has failed because it could not communicate with the driver'; exit 9");
        fake(bin, "ldconfig", "echo '1 libs found in cache'");
        Result r = bash(bin, "host_facts; echo after-host-facts");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("gpu: nvidia-smi exited 9: NVIDIA-SMI has failed")
                .contains("loader: none in the linker cache").contains("after-host-facts");
    }

    @Test
    void versionsCompareNumerically(@TempDir Path bin) throws Exception {
        Result r = bash(bin, "version_ge 2.36 2.34 && version_ge 2.34 2.34 && ! version_ge 2.9 2.34 && echo ok;"
                + " glibc_version");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).startsWith("ok").containsPattern("\\n2\\.\\d+");
    }
}
