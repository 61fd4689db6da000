package dev.mvarj.mvar.cli;

import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/** {@code mvarj info}: the JVM, the CPU, the vector species and every backend this machine can run. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the JVM, CPU cores, preferred vector species and available backends.")
public final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintStream out = Main.out(spec);
        Runtime rt = Runtime.getRuntime();
        out.println("mvarj 0.1.0");
        out.println("JVM:       " + System.getProperty("java.vm.name") + " " + Runtime.version()
                + " (" + System.getProperty("java.vendor") + ")");
        out.println("OS/arch:   " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        out.println("CPU cores: " + rt.availableProcessors());
        out.println("vector:    " + SimdBackend.describeSpecies() + " (FloatVector.SPECIES_PREFERRED)");
        out.println("max heap:  " + rt.maxMemory() / (1 << 20) + " MiB");
        out.println("backends:");
        for (String line : Backends.describe()) {
            out.println("  " + line);
        }
        return 0;
    }
}
