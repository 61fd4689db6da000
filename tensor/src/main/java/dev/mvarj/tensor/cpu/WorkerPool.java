package dev.mvarj.tensor.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One fixed pool of persistent worker threads and one primitive, {@link #parallelFor}.
 *
 * <p>Determinism: the range is cut into chunks of {@code grain} indices whose boundaries do not depend on the number
 * of threads; each chunk is run by exactly one thread, and kernels write disjoint outputs per chunk (partial sums
 * go to per-chunk slots that are combined in chunk order). So results are bit-identical for any pool size.
 *
 * <p>Latency: transformer ops at width 128-256 are small, so hand-off must be cheap. Idle workers spin
 * ({@link Thread#onSpinWait}) for {@value #SPIN_NANOS} ns after their last job before they park; the caller runs
 * chunks too. A {@code parallelFor} issued from inside a chunk runs inline on the calling thread.
 */
public final class WorkerPool {

    /** System property: number of threads of the shared pool (default: available processors). */
    public static final String THREADS_PROPERTY = "mvarj.threads";

    private static final long SPIN_NANOS = 200_000;

    private static volatile WorkerPool shared;

    /** The body of a parallel loop: processes indices {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(int start, int end);
    }

    private static final class Job {
        final Range body;
        final int n, grain, chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();

        Job(Range body, int n, int grain) {
            this.body = body;
            this.n = n;
            this.grain = grain;
            this.chunks = (n + grain - 1) / grain;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    if (error.get() == null) {
                        int start = c * grain;
                        body.run(start, Math.min(n, start + grain));
                    }
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                } finally {
                    finished.incrementAndGet();
                }
            }
        }
    }

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock submit = new ReentrantLock();
    private final ThreadLocal<Boolean> inChunk = ThreadLocal.withInitial(() -> false);
    private volatile Job current;
    private volatile long generation;
    private volatile boolean shutdown;

    /** A pool of {@code threads} threads in total: the caller plus {@code threads - 1} workers. */
    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a worker pool needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = Thread.ofPlatform().daemon().name("mvarj-worker-" + w).start(this::workerLoop);
        }
    }

    /** The process-wide pool, sized by {@value #THREADS_PROPERTY} or the number of cores. */
    public static WorkerPool shared() {
        WorkerPool p = shared;
        if (p == null) {
            synchronized (WorkerPool.class) {
                if (shared == null) {
                    shared = new WorkerPool(Integer.getInteger(THREADS_PROPERTY,
                            Runtime.getRuntime().availableProcessors()));
                }
                p = shared;
            }
        }
        return p;
    }

    public int threads() {
        return threads;
    }

    /** The number of chunks {@link #parallelFor} cuts {@code n} into; kernels size per-chunk partials with it. */
    public static int chunks(int n, int grain) {
        return (n + grain - 1) / grain;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks {@code [k·grain, min(n, (k+1)·grain))}, in parallel, and
     * returns when all have finished. The first exception thrown by a chunk is rethrown here.
     */
    public void parallelFor(int n, int grain, Range body) {
        if (n <= 0) {
            return;
        }
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        }
        if (workers.length == 0 || n <= grain || inChunk.get()) {
            for (int start = 0; start < n; start += grain) {
                body.run(start, Math.min(n, start + grain));
            }
            return;
        }
        submit.lock();
        try {
            Job job = new Job(body, n, grain);
            current = job;
            generation++;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            inChunk.set(true);
            try {
                job.work();
            } finally {
                inChunk.set(false);
            }
            while (job.finished.get() < job.chunks) {
                Thread.onSpinWait();
            }
            current = null;
            Throwable t = job.error.get();
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new RuntimeException(t);
            }
        } finally {
            submit.unlock();
        }
    }

    private void workerLoop() {
        inChunk.set(true);
        long seen = 0;
        long idleSince = System.nanoTime();
        while (!shutdown) {
            long g = generation;
            Job job = current;
            if (g != seen && job != null) {
                seen = g;
                job.work();
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 1_000_000);
            }
        }
    }

    /** Stops the workers (pools made for tests); the shared pool lives as long as the process. */
    public void shutdown() {
        shutdown = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
