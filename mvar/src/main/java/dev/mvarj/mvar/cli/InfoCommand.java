package dev.mvarj.mvar.cli;

import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code mvarj info}: the JVM, the CPU, the vector species and every backend this machine can run. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the JVM, CPU cores, preferred vector species and available backends.")
public final class InfoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        Runtime rt = Runtime.getRuntime();
        System.out.println("mvarj 0.1.0");
        System.out.println("JVM:       " + System.getProperty("java.vm.name") + " " + Runtime.version()
                + " (" + System.getProperty("java.vendor") + ")");
        System.out.println("OS/arch:   " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        System.out.println("CPU cores: " + rt.availableProcessors());
        System.out.println("vector:    " + SimdBackend.describeSpecies() + " (FloatVector.SPECIES_PREFERRED)");
        System.out.println("max heap:  " + rt.maxMemory() / (1 << 20) + " MiB");
        System.out.println("backends:");
        for (String line : Backends.describe()) {
            System.out.println("  " + line);
        }
        return 0;
    }
}
