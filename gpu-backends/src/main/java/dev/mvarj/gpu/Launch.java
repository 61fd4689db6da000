package dev.mvarj.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One kernel launch: its arguments in order, then {@link #run}. Argument memory lives in a confined arena for the
 * duration of the call (clSetKernelArg copies the values). Call under the backend's lock.
 */
final class Launch {

    private sealed interface Arg permits Mem, I32, F32, Ints {
    }

    private record Mem(MemorySegment mem) implements Arg {
    }

    private record I32(int v) implements Arg {
    }

    private record F32(float v) implements Arg {
    }

    private record Ints(int[] v) implements Arg {
    }

    /** Where a launch goes once its arguments are set: the backend checks the sizes, enqueues and records it. */
    @FunctionalInterface
    interface Enqueuer {
        void enqueue(MemorySegment kernel, String name, long[] global, long[] local);
    }

    private final OpenCl cl;
    private final Enqueuer enqueuer;
    private final MemorySegment kernel;
    private final String name;
    private final List<Arg> args = new ArrayList<>();

    Launch(OpenCl cl, Enqueuer enqueuer, MemorySegment kernel, String name) {
        this.cl = cl;
        this.enqueuer = enqueuer;
        this.kernel = kernel;
        this.name = name;
    }

    /** A buffer argument; {@code null} passes a NULL pointer (an absent optional input). */
    Launch mem(MemorySegment mem) {
        args.add(new Mem(mem == null ? MemorySegment.NULL : mem));
        return this;
    }

    Launch i(int v) {
        args.add(new I32(v));
        return this;
    }

    Launch f(float v) {
        args.add(new F32(v));
        return this;
    }

    /** A struct of ints passed by value (e.g. a {@link StridedLayout}). */
    Launch struct(int[] v) {
        args.add(new Ints(v));
        return this;
    }

    /** Sets the arguments and enqueues the kernel; {@code local} null lets the driver choose. */
    void run(long[] global, long[] local) {
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < args.size(); i++) {
                switch (args.get(i)) {
                    case Mem(MemorySegment m) -> {
                        MemorySegment slot = arena.allocate(ADDRESS);
                        slot.set(ADDRESS, 0, m);
                        cl.setKernelArg(kernel, i, ADDRESS.byteSize(), slot, name);
                    }
                    case I32(int v) -> cl.setKernelArg(kernel, i, 4, arena.allocateFrom(JAVA_INT, v), name);
                    case F32(float v) -> cl.setKernelArg(kernel, i, 4, arena.allocateFrom(JAVA_FLOAT, v), name);
                    case Ints(int[] v) -> cl.setKernelArg(kernel, i, 4L * v.length,
                            arena.allocateFrom(JAVA_INT, v), name);
                }
            }
        }
        enqueuer.enqueue(kernel, name, global, local);
    }
}
