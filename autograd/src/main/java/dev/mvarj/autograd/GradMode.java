package dev.mvarj.autograd;

/**
 * Whether ops record the graph. On by default; {@code try (var g = GradMode.off()) { ... }} turns recording off for
 * the scope (inference, optimiser steps, backward itself), per thread.
 */
public final class GradMode {

    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> true);

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get();
    }

    /** A scope in which no graph is recorded; closing it restores the previous mode. */
    public static Scope off() {
        return set(false);
    }

    /** A scope in which the graph is recorded again (inside an {@link #off()} scope). */
    public static Scope on() {
        return set(true);
    }

    private static Scope set(boolean enabled) {
        boolean previous = ENABLED.get();
        ENABLED.set(enabled);
        return () -> ENABLED.set(previous);
    }

    /** An {@link AutoCloseable} that does not throw. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
