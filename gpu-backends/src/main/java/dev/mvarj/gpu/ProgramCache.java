package dev.mvarj.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds each kernel source once per device and keeps its kernels. Sources are the resources
 * {@code dev/mvarj/gpu/NAME.cl}, each prefixed with {@code common.cl}; the build options carry the tile and
 * work-group sizes chosen for the device. A failed build throws {@link OpenClException} with the build log.
 *
 * <p>Not thread-safe on its own: the backend calls it under its lock (a {@code cl_kernel}'s arguments are state).
 */
final class ProgramCache {

    private final OpenCl cl;
    private final MemorySegment context;
    private final MemorySegment device;
    private final Map<String, MemorySegment> programs = new HashMap<>();
    private final Map<String, MemorySegment> kernels = new HashMap<>();
    private int builds;

    ProgramCache(OpenCl cl, MemorySegment context, MemorySegment device) {
        this.cl = cl;
        this.context = context;
        this.device = device;
    }

    /** Kernel {@code kernel} of resource {@code program}.cl built with {@code options}. */
    MemorySegment kernel(String program, String options, String kernel) {
        String key = program + '\u0000' + options + '\u0000' + kernel;
        MemorySegment k = kernels.get(key);
        if (k == null) {
            k = cl.createKernel(program(program, options), kernel);
            kernels.put(key, k);
        }
        return k;
    }

    private MemorySegment program(String name, String options) {
        String key = name + '\u0000' + options;
        MemorySegment p = programs.get(key);
        if (p == null) {
            p = build(name + ".cl", resource("common.cl") + "\n" + resource(name + ".cl"), options);
            programs.put(key, p);
        }
        return p;
    }

    /** Compiles {@code source} (not cached); the caller releases the program. */
    MemorySegment build(String name, String source, String options) {
        builds++;
        return cl.buildProgram(context, device, name, source, options);
    }

    /** How many programs were compiled: one per source and option set, however often its kernels run. */
    int builds() {
        return builds;
    }

    static String resource(String file) {
        try (InputStream in = ProgramCache.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("kernel source dev/mvarj/gpu/" + file + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void release() {
        kernels.values().forEach(cl::releaseKernel);
        programs.values().forEach(cl::releaseProgram);
        kernels.clear();
        programs.clear();
    }
}
