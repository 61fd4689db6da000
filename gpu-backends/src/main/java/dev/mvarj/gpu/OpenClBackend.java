package dev.mvarj.gpu;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.ReduceOp;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Storage;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The {@link Backend} of one OpenCL device ({@code opencl:N}): storage is a pooled {@code cl_mem}, every kernel is an
 * OpenCL C kernel from the {@code dev/mvarj/gpu/*.cl} resources, built once per device, run on one in-order queue.
 *
 * <p>There is no host fallback: a tensor from another device is an error naming the op, and an op this backend
 * cannot run throws {@link UnsupportedOperationException} naming the op and the device. Synchronisation points are
 * the downloads, {@link #sumOfSquares} and the indexing kernels (which read back an index-error flag).
 *
 * <p>Diagnostics (docs/gpu.md#diagnostics): every launch is checked against its kernel's
 * {@code CL_KERNEL_WORK_GROUP_SIZE} and local memory before it is enqueued; the last {@value #RECENT_KERNELS}
 * launches are remembered, so an error reported at a synchronisation (a kernel's fault surfaces there) names them;
 * with {@value #PROFILE_PROPERTY} (or {@code MVARJ_OPENCL_PROFILE=1}) the queue records device times per kernel,
 * which {@link #drainDeviceNanos()} hands to the autograd {@code OpProfiler}.
 *
 * <p>Thread-safety: calls are serialised on the backend (kernel arguments are per-kernel state).
 */
public final class OpenClBackend implements Backend, AutoCloseable {

    /** System property: work-group size of the row kernels (softmax, norms, reductions); default from the device. */
    public static final String ROW_WORK_GROUP_PROPERTY = "mvarj.opencl.rowWorkGroup";
    /** System property: {@code true} creates the queue with CL_QUEUE_PROFILING_ENABLE (env MVARJ_OPENCL_PROFILE=1). */
    public static final String PROFILE_PROPERTY = "mvarj.opencl.profile";
    /** How many of the last launches an error at a synchronisation names. */
    static final int RECENT_KERNELS = 8;
    /** Profiled launches whose events are kept before the backend waits and reads their times. */
    private static final int PENDING_EVENTS = 1024;

    private final OpenCl cl;
    private final OpenClDevice info;
    private final Device device;
    private final MemorySegment context;
    private MemorySegment queue;
    private final ProgramCache programs;
    private final BufferPool pool;
    private final int rowWg;
    private final int ewLocal;
    private final GemmConfig gemm;
    private final AttentionConfig attention;
    private final String options;
    /** Two ints an indexing kernel sets on a bad index (flag, index); a raw pool buffer, not a tensor. */
    private final MemorySegment errorFlag;
    /** Key-range masks uploaded once: a model reuses a handful of them every step (bounded, oldest dropped). */
    private final Map<AttentionMask.KeyRanges, MemorySegment> rangeBuffers = new LinkedHashMap<>(16, 0.75f, true);
    private static final int RANGE_CACHE = 32;
    private boolean closed;
    /** Per kernel: {CL_KERNEL_WORK_GROUP_SIZE, CL_KERNEL_LOCAL_MEM_SIZE}, asked once per kernel object. */
    private final Map<MemorySegment, long[]> kernelLimits = new HashMap<>();
    /** The last launches, oldest first: "name global [..] local [..]". */
    private final ArrayDeque<String> recent = new ArrayDeque<>();
    private boolean profiling;
    private final List<Map.Entry<String, MemorySegment>> pendingEvents = new ArrayList<>();
    /** Per kernel name: {launches, device nanoseconds} while profiling. */
    private final Map<String, long[]> kernelTimes = new LinkedHashMap<>();
    private long undrainedNanos;

    /**
     * Tile sizes of the GEMM kernels (gemm.cl): a TM x TN tile of C per work-group of (TN/RN) x (TM/RM) items,
     * each computing RM x RN outputs; TK is the depth of the local-memory slices, two of each operand
     * (double-buffered) in {@link #localBytes()}. The largest configuration the device's work-group size and local
     * memory allow is taken.
     */
    record GemmConfig(int tm, int tn, int tk, int rm, int rn) {
        static final List<GemmConfig> CHOICES = List.of(new GemmConfig(128, 128, 16, 8, 8),
                new GemmConfig(64, 64, 16, 4, 4), new GemmConfig(32, 32, 16, 4, 4), new GemmConfig(16, 16, 8, 4, 4));

        static GemmConfig forDevice(OpenClDevice d) {
            for (GemmConfig c : CHOICES) {
                if (c.items() <= d.maxWorkGroupSize() && c.localBytes() <= d.localMemBytes()) {
                    return c;
                }
            }
            return CHOICES.getLast();
        }

        int lx() {
            return tn / rn;
        }

        int ly() {
            return tm / rm;
        }

        int items() {
            return lx() * ly();
        }

        /** Two slices of op(A) (TK x (TM + 4)) and of op(B) (TK x (TN + 4)), in bytes. */
        long localBytes() {
            return 2L * 4 * tk * (tm + 4 + tn + 4);
        }

        String options() {
            return " -DTM=" + tm + " -DTN=" + tn + " -DTK=" + tk + " -DRM=" + rm + " -DRN=" + rn;
        }
    }

    /**
     * Tiles of the attention kernels (attention.cl): a work-group of {@code rows} x {@code lanes} work-items owns
     * {@code rows} queries (or keys) and streams tiles of {@code cols} keys (or queries) through local memory;
     * {@code rows} is a square, the neighbourhood kernels' patch. Head dims are rounded up to a power of two
     * (DH), so a model builds the program once per distinct head dim; {@code cols} is the widest tile whose
     * backward footprint fits the device's local memory at that DH.
     */
    record AttentionConfig(int rows, int lanes, long localMemBytes) {
        static AttentionConfig forDevice(OpenClDevice d) {
            long wg = d.maxWorkGroupSize();
            if (wg >= 256) {
                return new AttentionConfig(16, 16, d.localMemBytes());
            }
            if (wg >= 64) {
                return new AttentionConfig(4, 16, d.localMemBytes());
            }
            return new AttentionConfig(1, (int) Math.max(1, Integer.highestOneBit((int) Math.min(16, wg))),
                    d.localMemBytes());
        }

        int items() {
            return rows * lanes;
        }

        /** The head-dim bucket: a power of two, at least {@code lanes}. */
        int dh(int d) {
            return Math.max(lanes, Integer.highestOneBit(Math.max(1, d - 1)) << 1);
        }

        /** Local bytes of the largest kernel (dk/dv: K, V rows, Q, dout tiles, P and dS, lse and D of a tile). */
        static long footprint(int rows, int cols, int dh) {
            return 4L * ((2L * rows + 2L * cols) * (dh + 1) + 2L * rows * (cols + 1) + 4L * cols + 2L * rows);
        }

        /** The tile width at head dim d; throws when no tile fits the device's local memory. */
        int cols(String op, int d) {
            for (int c : new int[]{64, 32, 16, 8, 4}) {
                if (footprint(rows, c, dh(d)) <= localMemBytes) {
                    return c;
                }
            }
            throw new UnsupportedOperationException(op + ": head dim " + d + " needs "
                    + footprint(rows, 4, dh(d)) + " bytes of local memory for the smallest attention tile; the"
                    + " device has " + localMemBytes);
        }

        int blocks(int L, int grid) {
            int patch = (int) Math.round(Math.sqrt(rows)), tiles = (grid + patch - 1) / patch;
            return grid == 0 ? (L + rows - 1) / rows : tiles * tiles;
        }

        String options(String op, int d) {
            return " -DAR=" + rows + " -DAT=" + lanes + " -DAC=" + cols(op, d) + " -DDH=" + dh(d);
        }
    }

    OpenClBackend(OpenClDevice info) {
        this.cl = OpenCl.get();
        this.info = info;
        this.device = new Device("opencl", info.index());
        this.context = cl.createContext(info.id());
        this.profiling = Boolean.getBoolean(PROFILE_PROPERTY) || "1".equals(System.getenv("MVARJ_OPENCL_PROFILE"));
        this.queue = cl.createQueue(context, info.id(), profiling);
        this.programs = new ProgramCache(cl, context, info.id());
        this.pool = new BufferPool(cl, context, BufferPool.budgetFor(info));
        int maxWg = (int) Math.min(1024, Math.max(1, info.maxWorkGroupSize()));
        this.rowWg = Integer.highestOneBit(Math.min(maxWg, Integer.getInteger(ROW_WORK_GROUP_PROPERTY, 256)));
        this.ewLocal = Math.min(64, Integer.highestOneBit(maxWg));
        this.gemm = GemmConfig.forDevice(info);
        this.attention = AttentionConfig.forDevice(info);
        this.options = buildOptions(info, rowWg);
        this.errorFlag = pool.take(8);
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public Device device() {
        return device;
    }

    /** The OpenCL device behind this backend. */
    public OpenClDevice deviceInfo() {
        return info;
    }

    /** The buffer pool's counters (driver-side bytes, idle bytes, reuse). */
    public synchronized BufferPool.Stats poolStats() {
        return pool.stats();
    }

    /** A separate pool on this device's context with its own budget (tests of the memory-pressure path). */
    BufferPool newPool(long budget) {
        return new BufferPool(cl, context, budget);
    }

    /** Gives idle pooled buffers back to the driver. */
    public synchronized void trimPool() {
        pool.trim();
    }

    /** Number of program builds so far (each source once per device). */
    public synchronized int programBuilds() {
        return programs.builds();
    }

    /**
     * The options every program is built with: OpenCL C 1.2, the row work-group size, and
     * {@code -cl-fp32-correctly-rounded-divide-sqrt} where the device supports it (docs/gpu.md#precision).
     */
    static String buildOptions(OpenClDevice info, int rowWg) {
        return "-cl-std=CL1.2 -DWG=" + rowWg
                + (info.correctlyRoundedDivideSqrt() ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
    }

    /** The build options of this device's programs (without the per-program tile sizes). */
    public String buildOptions() {
        return options;
    }

    /** Waits for every queued command (clFinish); with profiling on, reads the device times of what ran. */
    @Override
    public synchronized void synchronize() {
        atSync(() -> {
            cl.finish(queue);
            collectEvents();
            return null;
        });
    }

    /**
     * Device nanoseconds of the kernels finished since the last call (after {@link #synchronize()}), or −1 when
     * profiling is off. The autograd {@code OpProfiler} charges them to the op that queued the kernels.
     */
    @Override
    public synchronized long drainDeviceNanos() {
        if (!profiling) {
            return -1;
        }
        synchronize();
        long n = undrainedNanos;
        undrainedNanos = 0;
        return n;
    }

    /**
     * Turns the profiling queue on or off (the start value comes from {@value #PROFILE_PROPERTY} or
     * {@code MVARJ_OPENCL_PROFILE=1}): drains the current queue and replaces it.
     */
    public synchronized void setProfiling(boolean on) {
        if (on == profiling) {
            return;
        }
        synchronize();
        cl.releaseQueue(queue);
        queue = cl.createQueue(context, info.id(), on);
        profiling = on;
    }

    /** Per kernel, {launches, device nanoseconds} recorded while profiling, in first-launch order. */
    public synchronized Map<String, long[]> kernelTimes() {
        synchronize();
        Map<String, long[]> copy = new LinkedHashMap<>();
        kernelTimes.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /** The last launches, oldest first, as "kernel global [..] local [..]". */
    public synchronized List<String> recentKernels() {
        return List.copyOf(recent);
    }

    /** Runs a call that waits for the device; an OpenCL error there is rethrown naming the last launches. */
    private <T> T atSync(Supplier<T> call) {
        try {
            return call.get();
        } catch (OpenClException e) {
            throw withRecentKernels(e);
        }
    }

    /**
     * The error of a synchronisation with the launches that may have caused it: a kernel's fault (an
     * out-of-bounds access, say) is reported by the next call that waits, not by the launch.
     */
    OpenClException withRecentKernels(OpenClException e) {
        return new OpenClException(e.call(), e.code(), "the last kernels enqueued on " + device + " (oldest first):\n  " + String.join("\n  ", recent));
    }

    /** A blocking read: a synchronisation point, so an error names the last launches. */
    private void readSync(MemorySegment mem, long offset, MemorySegment host) {
        atSync(() -> {
            cl.read(queue, mem, offset, host);
            return null;
        });
    }

    private void collectEvents() {
        for (Map.Entry<String, MemorySegment> e : pendingEvents) {
            long ns = cl.eventNanos(e.getValue());
            long[] t = kernelTimes.computeIfAbsent(e.getKey(), k -> new long[2]);
            t[0]++;
            t[1] += ns;
            undrainedNanos += ns;
        }
        pendingEvents.clear();
    }

    /**
     * Compiles {@code source} for this device (with {@code common.cl} in front) and releases it: a build error
     * throws {@link OpenClException} carrying the build log. For tests and kernel development.
     */
    public synchronized void compileCheck(String name, String source) {
        cl.releaseProgram(programs.build(name, ProgramCache.resource("common.cl") + "\n" + source, options));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronize();
        pool.give(errorFlag, 8);
        rangeBuffers.forEach((r, mem) -> pool.give(mem, 8L * r.rows()));
        rangeBuffers.clear();
        programs.release();
        pool.trim();
        cl.releaseQueue(queue);
        cl.releaseContext(context);
    }

    // ---------------------------------------------------------------------------------------------- plumbing

    private Launch launch(String program, String kernel) {
        return launch(program, "", kernel);
    }

    /** A launch of {@code kernel} from {@code program}.cl built with the common options plus {@code extra}. */
    private Launch launch(String program, String extra, String kernel) {
        if (closed) {
            throw new IllegalStateException(device + " backend is closed");
        }
        return new Launch(cl, this::enqueue, programs.kernel(program, options + extra, kernel), kernel);
    }

    /** Checks a launch against its kernel's limits, enqueues it and remembers it (see the class comment). */
    void enqueue(MemorySegment kernel, String name, long[] global, long[] local) {
        checkLimits(kernel, name, local);
        String what = name + " global " + Arrays.toString(global) + " local "
                + (local == null ? "auto" : Arrays.toString(local));
        recent.addLast(what);
        if (recent.size() > RECENT_KERNELS) {
            recent.removeFirst();
        }
        MemorySegment event = cl.enqueueKernel(queue, kernel, global, local, name, profiling);
        if (profiling) {
            pendingEvents.add(Map.entry(name, event));
            if (pendingEvents.size() >= PENDING_EVENTS) {
                synchronize();
            }
        }
    }

    /**
     * A work-group larger than CL_KERNEL_WORK_GROUP_SIZE (what this kernel's registers and local memory allow on
     * this device, often less than the device's maximum), or a kernel needing more local memory than the device
     * has, is refused here with both numbers, rather than as CL_INVALID_WORK_GROUP_SIZE or
     * CL_OUT_OF_RESOURCES from the driver.
     */
    void checkLimits(MemorySegment kernel, String name, long[] local) {
        long[] lim = kernelLimits.computeIfAbsent(kernel, k -> new long[]{
                cl.kernelLong(k, info.id(), OpenCl.CL_KERNEL_WORK_GROUP_SIZE, name),
                cl.kernelLong(k, info.id(), OpenCl.CL_KERNEL_LOCAL_MEM_SIZE, name)});
        if (local != null) {
            long items = Arrays.stream(local).reduce(1, (a, b) -> a * b);
            if (items > lim[0]) {
                throw new IllegalStateException("kernel " + name + " on " + device + ": a work-group of " + items
                        + " work-items " + Arrays.toString(local) + " exceeds CL_KERNEL_WORK_GROUP_SIZE = " + lim[0]
                        + " for this kernel (device maximum " + info.maxWorkGroupSize() + ")");
            }
        }
        if (lim[1] > info.localMemBytes()) {
            throw new IllegalStateException("kernel " + name + " on " + device + ": needs " + lim[1]
                    + " bytes of local memory (CL_KERNEL_LOCAL_MEM_SIZE), the device has " + info.localMemBytes());
        }
    }

    /** The kernel object of {@code kernel} in {@code program}.cl with the common options (tests of the checks). */
    MemorySegment kernelObject(String program, String kernel) {
        return programs.kernel(program, options, kernel);
    }

    /** The buffer of a tensor of this device; a tensor from elsewhere is an error (no silent host copy). */
    private MemorySegment mem(String op, Tensor t) {
        if (t.storage() instanceof OpenClStorage s && s.backend() == this) {
            if (s.isReleased()) {
                throw new IllegalStateException(op + ": tensor storage on " + device + " was already released");
            }
            return s.mem();
        }
        throw new IllegalArgumentException(op + ": got a tensor on " + t.device() + ", but this is the " + device
                + " backend; move it with Tensor.to(" + device + ")");
    }

    private MemorySegment memOrNull(String op, Tensor t) {
        return t == null ? null : mem(op, t);
    }

    private static Tensor contiguous(String op, Tensor t) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(op + ": expected a contiguous tensor, got shape " + Shape.str(t.shape())
                    + " strides " + Shape.str(t.strides()));
        }
        return t;
    }

    private Tensor f32(String op, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new UnsupportedOperationException(op + " on " + t.dtype() + " tensors is not supported by the "
                    + device + " backend (F32 only)");
        }
        return t;
    }

    private static long roundUp(long n, long m) {
        return Math.max(m, (n + m - 1) / m * m);
    }

    /** 1-D launch over {@code n} items in groups of {@link #ewLocal}. */
    private void run1d(Launch l, long n) {
        l.run(new long[]{roundUp(n, ewLocal)}, new long[]{ewLocal});
    }

    /** One work-group of {@link #rowWg} items per row. */
    private void runRows(Launch l, int rows) {
        l.run(new long[]{(long) rows * rowWg}, new long[]{rowWg});
    }

    private void resetErrorFlag() {
        cl.fill(queue, errorFlag, 0, 0, 8);
    }

    /** Reads the index-error flag an indexing kernel set; throws as the reference does. A synchronisation point. */
    private void checkIndexError(String op, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_INT, 2);
            readSync(errorFlag, 0, host);
            if (host.getAtIndex(JAVA_INT, 0) != 0) {
                throw new IndexOutOfBoundsException(op + ": index " + host.getAtIndex(JAVA_INT, 1)
                        + " out of range [0, " + n + ")");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- memory

    @Override
    public synchronized Storage allocate(DType dtype, int length) {
        if (dtype == DType.F64) {
            throw noF64();
        }
        OpenClStorage s = new OpenClStorage(this, pool, dtype, length, device);
        if (length > 0) {
            cl.fill(queue, s.mem(), 0, 0, (long) length * dtype.bytes());
        }
        return s;
    }

    @Override
    public synchronized void upload(Tensor dst, float[] host) {
        write("upload", dst, DType.F32, MemorySegment.ofArray(host));
    }

    @Override
    public synchronized void upload(Tensor dst, int[] host) {
        write("upload", dst, DType.I32, MemorySegment.ofArray(host));
    }

    private void write(String op, Tensor dst, DType dtype, MemorySegment heap) {
        contiguous(op, dst);
        if (dst.dtype() != dtype) {
            throw new IllegalArgumentException(op + ": " + dtype + " data for a " + dst.dtype() + " tensor");
        }
        long bytes = (long) dst.numel() * 4;
        if (heap.byteSize() < bytes) {
            throw new IllegalArgumentException(op + ": " + heap.byteSize() / 4 + " values for " + dst.numel()
                    + " elements");
        }
        if (bytes == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(bytes, 64);
            staging.copyFrom(heap.asSlice(0, bytes));
            cl.write(queue, mem(op, dst), (long) dst.offset() * 4, staging);
        }
    }

    @Override
    public synchronized float[] downloadFloats(Tensor src) {
        float[] out = new float[src.numel()];
        read("downloadFloats", src, DType.F32, MemorySegment.ofArray(out));
        return out;
    }

    @Override
    public void upload(Tensor dst, double[] host) {
        throw noF64();
    }

    @Override
    public double[] downloadDoubles(Tensor src) {
        throw noF64();
    }

    /** F64 is the reference backend's dtype (double-precision gradient checks); device buffers are 4-byte. */
    private UnsupportedOperationException noF64() {
        return new UnsupportedOperationException("the " + device + " backend holds no F64 tensors (F32 and I32"
                + " only); F64 runs on the CPU reference backend");
    }

    @Override
    public synchronized int[] downloadInts(Tensor src) {
        int[] out = new int[src.numel()];
        read("downloadInts", src, DType.I32, MemorySegment.ofArray(out));
        return out;
    }

    /** Contiguous tensors are read in place; strided ones are first packed on the device by the copy kernel. */
    private void read(String op, Tensor src, DType dtype, MemorySegment heap) {
        if (src.dtype() != dtype) {
            throw new IllegalArgumentException(op + ": tensor is " + src.dtype() + ", not " + dtype);
        }
        long bytes = heap.byteSize();
        if (bytes == 0) {
            return;
        }
        Tensor packed = src;
        if (!src.isContiguous()) {
            packed = new Tensor(allocate(dtype, src.numel()), 0, src.shape(), Shape.contiguousStrides(src.shape()));
            copy(packed, src);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(bytes, 64);
            readSync(mem(op, packed), (long) packed.offset() * 4, staging);
            heap.copyFrom(staging);
        } finally {
            if (packed != src) {
                packed.storage().release();
            }
        }
    }

    @Override
    public synchronized void copy(Tensor dst, Tensor src) {
        if (dst.dtype() != src.dtype()) {
            throw new IllegalArgumentException("copy: " + src.dtype() + " into " + dst.dtype());
        }
        int n = dst.numel();
        if (n == 0) {
            return;
        }
        MemorySegment d = mem("copy", dst), s = mem("copy", src);
        if (dst.isContiguous() && src.isContiguous() && dst.storage() != src.storage()) {
            cl.copy(queue, s, (long) src.offset() * 4, d, (long) dst.offset() * 4, (long) n * 4);
            return;
        }
        run1d(launch("elementwise", "copy32").mem(d).mem(s).struct(StridedLayout.pack("copy", n, dst, src)), n);
    }

    @Override
    public synchronized void fill(Tensor dst, float value) {
        contiguous("fill", dst);
        int pattern = dst.dtype() == DType.F32 ? Float.floatToRawIntBits(value) : (int) value;
        if (dst.numel() > 0) {
            cl.fill(queue, mem("fill", dst), pattern, (long) dst.offset() * 4, (long) dst.numel() * 4);
        }
    }

    // ---------------------------------------------------------------------------------------------- GEMM

    // C[i] (M,N) = alpha · op(A[i]) (M,K) · op(B[i]) (K,N) + beta · C[i]
    @Override
    public synchronized void gemm(boolean transA, boolean transB, int batch, int M, int N, int K,
                                  float alpha, Tensor a, int lda, int strideA,
                                  Tensor b, int ldb, int strideB,
                                  float beta, Tensor c, int ldc, int strideC) {
        if (batch == 0 || M == 0 || N == 0) {
            return;
        }
        String kernel = "gemm_" + (transA ? "t" : "n") + (transB ? "t" : "n");
        launch("gemm", gemm.options(), kernel)
                .i(M).i(N).i(K).f(alpha)
                .mem(mem("gemm", f32("gemm", a))).i(a.offset()).i(lda).i(strideA)
                .mem(mem("gemm", f32("gemm", b))).i(b.offset()).i(ldb).i(strideB)
                .f(beta).mem(mem("gemm", f32("gemm", c))).i(c.offset()).i(ldc).i(strideC)
                .run(new long[]{(long) ((N + gemm.tn() - 1) / gemm.tn()) * gemm.lx(),
                                (long) ((M + gemm.tm() - 1) / gemm.tm()) * gemm.ly(), batch},
                        new long[]{gemm.lx(), gemm.ly(), 1});
    }

    // ---------------------------------------------------------------------------------------------- element-wise

    /** The kernel's code for each op (the {@code U_*} defines of elementwise.cl). */
    static int unaryCode(UnaryOp op) {
        return switch (op) {
            case NEG -> 0;
            case ABS -> 1;
            case SQUARE -> 2;
            case RECIPROCAL -> 3;
            case EXP -> 4;
            case LOG -> 5;
            case SQRT -> 6;
            case TANH -> 7;
            case SIGMOID -> 8;
            case RELU -> 9;
            case SILU -> 10;
            case GELU_TANH -> 11;
        };
    }

    /** The kernel's code for each op (the {@code B_*} defines of elementwise.cl). */
    static int binaryCode(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case POW -> 4;
            case MAX -> 5;
            case MIN -> 6;
            case GT -> 7;
            case GE -> 8;
            case EQ -> 9;
            case GELU_TANH_GRAD -> 10;
            case SILU_GRAD -> 11;
        };
    }

    @Override
    public synchronized void unary(UnaryOp op, Tensor out, Tensor x) {
        contiguous("unary", f32("unary " + op, out));
        f32("unary " + op, x);
        int n = out.numel();
        if (n > 0 && x.isContiguous() && x.numel() == n) {
            run1d(launch("elementwise", "unary_flat").mem(mem("unary", out)).i(out.offset()).mem(mem("unary", x))
                    .i(x.offset()).i(n).i(unaryCode(op)), n);
        } else if (n > 0) {
            run1d(launch("elementwise", "unary_f32").mem(mem("unary", out)).mem(mem("unary", x))
                    .struct(StridedLayout.pack("unary", n, out, x)).i(unaryCode(op)), n);
        }
    }

    @Override
    public synchronized void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        String name = "binary " + op;
        contiguous(name, f32(name, out));
        f32(name, a);
        f32(name, b);
        int n = out.numel();
        int as = flatStep(a, n), bs = flatStep(b, n);
        if (n > 0 && as >= 0 && bs >= 0) {
            run1d(launch("elementwise", "binary_flat").mem(mem(name, out)).i(out.offset()).mem(mem(name, a))
                    .i(a.offset()).i(as).mem(mem(name, b)).i(b.offset()).i(bs).i(n).i(binaryCode(op)), n);
        } else if (n > 0) {
            run1d(launch("elementwise", "binary_f32").mem(mem(name, out)).mem(mem(name, a)).mem(mem(name, b))
                    .struct(StridedLayout.pack(name, n, out, a, b)).i(binaryCode(op)), n);
        }
    }

    /**
     * The step of an operand of n elements on the element-wise fast path: 1 when it is contiguous with n elements,
     * 0 when it is one value broadcast (every stride 0), −1 when it needs the strided kernel.
     */
    private static int flatStep(Tensor t, int n) {
        if (t.isContiguous() && t.numel() == n) {
            return 1;
        }
        return Arrays.stream(t.strides()).allMatch(st -> st == 0) ? 0 : -1;
    }

    @Override
    public synchronized void where(Tensor out, Tensor cond, Tensor a, Tensor b) {
        contiguous("where", f32("where", out));
        if (cond.dtype() != DType.I32) {
            throw new IllegalArgumentException("where: cond must be I32, got " + cond.dtype());
        }
        int n = out.numel();
        if (n > 0) {
            run1d(launch("elementwise", "where_f32").mem(mem("where", out)).mem(mem("where", cond))
                    .mem(mem("where", f32("where", a))).mem(mem("where", f32("where", b)))
                    .struct(StridedLayout.pack("where", n, out, cond, a, b)), n);
        }
    }

    // ---------------------------------------------------------------------------------------------- reductions

    private static int reduceCode(ReduceOp op) {
        return switch (op) {
            case SUM -> 0;
            case MEAN -> 1;
            case MAX -> 2;
        };
    }

    // x (outer, n, inner) -> out (outer, inner)
    @Override
    public synchronized void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        contiguous("reduce", f32("reduce", x));
        contiguous("reduce", f32("reduce", out));
        if (outer * inner == 0) {
            return;
        }
        if (inner == 1) {
            runRows(launch("reduce", "reduce_rows").mem(mem("reduce", out)).i(out.offset()).mem(mem("reduce", x))
                    .i(x.offset()).i(n).i(reduceCode(op)), outer);
            return;
        }
        int chunks = reduceChunks(n);
        long bytes = 4L * outer * chunks * inner;
        MemorySegment part = pool.take(bytes);
        try {
            runColumns(launch("reduce", "reduce_cols_partial").mem(part).mem(mem("reduce", x)).i(x.offset()).i(n)
                    .i(inner).i(chunks).i(reduceCode(op)), inner, outer * chunks);
            reduceChunksInto(out, part, 0, outer, chunks, inner, reduceCode(op), n, false);
        } finally {
            pool.give(part, bytes);         // the in-order queue runs the final pass before any reuse
        }
    }

    /** Rows per chunk of a two-pass column reduction: each lane of a work-group sums at least this / RL rows. */
    static final int REDUCE_CHUNK_ROWS = 64;

    /**
     * The chunks of a column reduction over n rows: a function of n alone, so the order of additions, and with it
     * the result, is the same on every run.
     */
    static int reduceChunks(int n) {
        return Math.max(1, Math.min(1024, (n + REDUCE_CHUNK_ROWS - 1) / REDUCE_CHUNK_ROWS));
    }

    /** Pass 1 of a column reduction: groups of (RC columns, RL lanes) over (columns, 1, slabs). */
    private void runColumns(Launch l, int columns, int slabs) {
        int rc = Math.min(32, rowWg), rl = rowWg / rc;
        l.run(new long[]{roundUp(columns, rc), rl, slabs}, new long[]{rc, rl, 1});
    }

    /**
     * Pass 2: part (outer, chunks, inner) from float {@code partOffset} -> out (outer, inner), chunks in order;
     * {@code add} adds into out.
     */
    private void reduceChunksInto(Tensor out, MemorySegment part, int partOffset, int outer, int chunks, int inner,
                                  int op, int count, boolean add) {
        run1d(launch("reduce", "reduce_cols_final").mem(mem("reduce", out)).i(out.offset()).mem(part).i(partOffset)
                .i(outer).i(chunks).i(inner).i(op).i(count).i(add ? 1 : 0), (long) outer * inner);
    }

    // x (outer, n, inner) -> out (outer, inner) I32
    @Override
    public synchronized void argmax(Tensor out, Tensor x, int outer, int n, int inner) {
        contiguous("argmax", f32("argmax", x));
        contiguous("argmax", out);
        if (outer * inner == 0) {
            return;
        }
        run1d(launch("reduce", "argmax_cols").mem(mem("argmax", out)).i(out.offset()).mem(mem("argmax", x))
                .i(x.offset()).i(outer).i(n).i(inner), (long) outer * inner);
    }

    // x (rows, n) -> out (rows, n)
    @Override
    public synchronized void softmax(Tensor out, Tensor x, int rows, int n) {
        softmaxRows("softmax", out, x, rows, n, 0);
    }

    @Override
    public synchronized void logSoftmax(Tensor out, Tensor x, int rows, int n) {
        softmaxRows("logSoftmax", out, x, rows, n, 1);
    }

    private void softmaxRows(String op, Tensor out, Tensor x, int rows, int n, int logarithmic) {
        contiguous(op, f32(op, x));
        contiguous(op, f32(op, out));
        if (rows > 0) {
            runRows(launch("reduce", "softmax_rows").mem(mem(op, out)).i(out.offset()).mem(mem(op, x)).i(x.offset())
                    .i(n).i(logarithmic), rows);
        }
    }

    @Override
    public synchronized void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        softmaxBackwardRows("softmaxBackward", dx, y, dy, rows, n, 0);
    }

    @Override
    public synchronized void logSoftmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        softmaxBackwardRows("logSoftmaxBackward", dx, y, dy, rows, n, 1);
    }

    private void softmaxBackwardRows(String op, Tensor dx, Tensor y, Tensor dy, int rows, int n, int logarithmic) {
        if (rows > 0) {
            runRows(launch("reduce", "softmax_backward_rows").mem(mem(op, dx)).i(dx.offset()).mem(mem(op, y))
                    .i(y.offset()).mem(mem(op, dy)).i(dy.offset()).i(n).i(logarithmic), rows);
        }
    }

    // ---------------------------------------------------------------------------------------------- optimiser

    /** Work-groups of the sum of squares: up to 1024, each item summing at least 4 elements; a function of n. */
    int sumOfSquaresGroups(int n) {
        return (int) Math.max(1, Math.min(1024, ((long) n + 4L * rowWg - 1) / (4L * rowWg)));
    }

    /**
     * Two passes: the device's work-groups each sum a fixed stride of the elements (a tree within the group), the
     * host adds the partial sums in order in double. The result does not depend on timing.
     */
    @Override
    public synchronized double sumOfSquares(Tensor x, int n) {
        if (n == 0) {
            return 0;
        }
        int groups = sumOfSquaresGroups(n);
        long bytes = 4L * groups;
        MemorySegment partials = pool.take(bytes);
        try (Arena arena = Arena.ofConfined()) {
            launch("reduce", "sum_squares").mem(partials).mem(mem("sumOfSquares", x)).i(x.offset()).i(n)
                    .run(new long[]{(long) groups * rowWg}, new long[]{rowWg});
            MemorySegment host = arena.allocate(JAVA_FLOAT, groups);
            readSync(partials, 0, host);
            double s = 0;
            for (int g = 0; g < groups; g++) {
                s += host.getAtIndex(JAVA_FLOAT, g);
            }
            return s;
        } finally {
            pool.give(partials, bytes);
        }
    }

    @Override
    public synchronized void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, int n, float lr, float beta1,
                                       float beta2, float eps, float weightDecay, int step, float gradScale) {
        if (n == 0) {
            return;
        }
        // bias corrections on the host, in float, exactly as the reference
        float bc1 = 1f - (float) Math.pow(beta1, step), bc2 = 1f - (float) Math.pow(beta2, step);
        float stepSize = lr / bc1, bc2Sqrt = (float) Math.sqrt(bc2);
        String op = "adamwStep";
        run1d(launch("elementwise", "adamw_step").mem(mem(op, p)).i(p.offset()).mem(mem(op, g)).i(g.offset())
                .mem(mem(op, m)).i(m.offset()).mem(mem(op, v)).i(v.offset()).i(n).f(lr).f(beta1).f(beta2).f(eps)
                .f(weightDecay).f(stepSize).f(bc2Sqrt).f(gradScale), n);
    }

    // ---------------------------------------------------------------------------------------------- indexing

    // x (outer, n, inner), index (m) -> out (outer, m, inner)
    @Override
    public synchronized void indexSelect(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m) {
        indexKernel("indexSelect", "index_select", out, x, index, outer, n, inner, m, (long) outer * m * inner);
    }

    // dout (outer, m, inner), index (m) -> dx (outer, n, inner) +=
    @Override
    public synchronized void indexAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        accumulateKernel("indexAdd", "index_add", dx, dout, index, outer, n, inner, m);
    }

    // x (outer, n, inner), index (outer, m, inner) -> out (outer, m, inner)
    @Override
    public synchronized void gather(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m) {
        indexKernel("gather", "gather", out, x, index, outer, n, inner, m, (long) outer * m * inner);
    }

    // dout (outer, m, inner), index (outer, m, inner) -> dx (outer, n, inner) +=
    @Override
    public synchronized void scatterAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        accumulateKernel("scatterAdd", "scatter_add", dx, dout, index, outer, n, inner, m);
    }

    private void indexKernel(String op, String kernel, Tensor dst, Tensor src, Tensor index, int outer, int n,
                             int inner, int m, long items) {
        if (items == 0 || m == 0) {
            return;
        }
        resetErrorFlag();
        run1d(launch("index", kernel).mem(mem(op, dst)).i(dst.offset()).mem(mem(op, src)).i(src.offset())
                .mem(mem(op, index)).i(index.offset()).i(outer).i(n).i(inner).i(m).mem(errorFlag), items);
        checkIndexError(op, n);
    }

    /** Indices per chunk of index_add / scatter_add, and the most bytes their per-chunk partial sums may take. */
    static final int INDEX_CHUNK = 64;
    static final long INDEX_PARTIAL_BYTES = 64L << 20;

    /** Chunks of an index accumulation of m indices into (outer, n, inner): a function of the sizes alone. */
    static int indexChunks(int outer, int n, int inner, int m) {
        long slice = 4L * outer * n * inner;
        return (int) Math.max(1, Math.min((m + INDEX_CHUNK - 1) / INDEX_CHUNK, INDEX_PARTIAL_BYTES / slice));
    }

    /**
     * index_add / scatter_add: one chunk adds into dx directly, in the reference's order; several chunks add into
     * zeroed slices of a partial buffer that pass 2 adds into dx in chunk order (see index.cl).
     */
    private void accumulateKernel(String op, String kernel, Tensor dx, Tensor dout, Tensor index, int outer, int n,
                                  int inner, int m) {
        if (outer * inner == 0 || m == 0) {
            return;
        }
        int chunks = indexChunks(outer, n, inner, m);
        resetErrorFlag();
        long bytes = 4L * chunks * outer * n * inner;
        MemorySegment part = chunks == 1 ? null : pool.take(bytes);
        try {
            if (part != null) {
                cl.fill(queue, part, 0, 0, bytes);
            }
            run1d(launch("index", kernel).mem(part == null ? mem(op, dx) : part).i(part == null ? dx.offset() : 0)
                    .mem(mem(op, dout)).i(dout.offset()).mem(mem(op, index)).i(index.offset()).i(outer).i(n)
                    .i(inner).i(m).mem(errorFlag).i(chunks), (long) outer * inner * chunks);
            if (part != null) {
                reduceChunksInto(dx, part, 0, 1, chunks, outer * n * inner, 0, 1, true);
            }
            checkIndexError(op, n);
        } finally {
            if (part != null) {
                pool.give(part, bytes);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- norms, loss

    // x (rows, C) -> out (rows, C), mean (rows), rstd (rows)
    @Override
    public synchronized void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                              int rows, int C, float eps) {
        if (rows == 0) {
            return;
        }
        String op = "layerNormForward";
        runRows(launch("norm", "layer_norm_forward").mem(mem(op, out)).i(out.offset()).mem(mem(op, mean))
                .i(mean.offset()).mem(mem(op, rstd)).i(rstd.offset()).mem(mem(op, x)).i(x.offset())
                .mem(memOrNull(op, w)).i(w == null ? 0 : w.offset()).mem(memOrNull(op, b)).i(b == null ? 0 : b.offset())
                .i(C).f(eps), rows);
    }

    // dout, x (rows, C), mean, rstd (rows) -> dx (rows, C); dw, db (C) when w is not null
    @Override
    public synchronized void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean,
                                               Tensor rstd, Tensor w, int rows, int C) {
        if (rows == 0) {
            return;
        }
        String op = "layerNormBackward";
        runRows(launch("norm", "layer_norm_backward_dx").mem(mem(op, dx)).i(dx.offset()).mem(mem(op, dout))
                .i(dout.offset()).mem(mem(op, x)).i(x.offset()).mem(mem(op, mean)).i(mean.offset())
                .mem(mem(op, rstd)).i(rstd.offset()).mem(memOrNull(op, w)).i(w == null ? 0 : w.offset()).i(C), rows);
        if (w != null) {
            int chunks = reduceChunks(rows);
            long bytes = 8L * chunks * C;
            MemorySegment part = pool.take(bytes);                // dw chunks, then db chunks
            try {
                runColumns(launch("norm", "layer_norm_backward_dwdb_partial").mem(part).mem(mem(op, dout))
                        .i(dout.offset()).mem(mem(op, x)).i(x.offset()).mem(mem(op, mean)).i(mean.offset())
                        .mem(mem(op, rstd)).i(rstd.offset()).i(rows).i(C).i(chunks), C, chunks);
                reduceChunksInto(dw, part, 0, 1, chunks, C, 0, rows, false);
                reduceChunksInto(db, part, chunks * C, 1, chunks, C, 0, rows, false);
            } finally {
                pool.give(part, bytes);
            }
        }
    }

    // logits (N, V), target (N), weight (N) -> loss (N), lse (N)
    @Override
    public synchronized void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor target,
                                                 Tensor weight, int N, int V, float smoothing) {
        if (N == 0) {
            return;
        }
        String op = "crossEntropy";
        resetErrorFlag();
        runRows(launch("norm", "cross_entropy_forward").mem(mem(op, loss)).i(loss.offset()).mem(mem(op, lse))
                .i(lse.offset()).mem(mem(op, logits)).i(logits.offset()).mem(mem(op, target)).i(target.offset())
                .mem(mem(op, weight)).i(weight.offset()).i(V).f(smoothing).mem(errorFlag), N);
        checkIndexError(op, V);
    }

    // dloss (N) -> dlogits (N, V)
    @Override
    public synchronized void crossEntropyBackward(Tensor dlogits, Tensor dloss, Tensor logits, Tensor lse,
                                                  Tensor target, Tensor weight, int N, int V, float smoothing) {
        if (N == 0 || V == 0) {
            return;
        }
        String op = "crossEntropyBackward";
        launch("norm", "cross_entropy_backward").mem(mem(op, dlogits)).i(dlogits.offset()).mem(mem(op, dloss))
                .i(dloss.offset()).mem(mem(op, logits)).i(logits.offset()).mem(mem(op, lse)).i(lse.offset())
                .mem(mem(op, target)).i(target.offset()).mem(mem(op, weight)).i(weight.offset()).i(N).i(V)
                .f(smoothing)
                .run(new long[]{roundUp(V, ewLocal), N}, new long[]{ewLocal, 1});
    }

    // ---------------------------------------------------------------------------------------------- attention

    /** A mask as kernel arguments: an additive bias buffer and/or key ranges (start (Lq) then end (Lq)). */
    private record MaskArgs(MemorySegment bias, int biasOffset, MemorySegment ranges, Tensor uploadedBias) {
    }

    private MaskArgs maskArgs(String op, AttentionMask mask, int Lq, int Lk) {
        mask.check(Lq, Lk);
        return switch (mask) {
            case AttentionMask.None n -> new MaskArgs(null, 0, null, null);
            case AttentionMask.Additive a -> {
                // a mask built on the host is uploaded for the call (a transfer of constants, not a fallback)
                Tensor bias = a.bias().device().equals(device) ? a.bias() : a.bias().to(device);
                yield new MaskArgs(mem(op, bias), bias.offset(), null, bias == a.bias() ? null : bias);
            }
            case AttentionMask.KeyRanges r -> new MaskArgs(null, 0, rangeBuffer(r), null);
        };
    }

    private MemorySegment rangeBuffer(AttentionMask.KeyRanges r) {
        MemorySegment mem = rangeBuffers.get(r);
        if (mem == null) {
            int L = r.rows();
            int[] both = new int[2 * L];
            System.arraycopy(r.start(), 0, both, 0, L);
            System.arraycopy(r.end(), 0, both, L, L);
            mem = pool.take(8L * L);
            try (Arena arena = Arena.ofConfined()) {
                cl.write(queue, mem, 0, arena.allocateFrom(JAVA_INT, both));
            }
            rangeBuffers.put(r, mem);
            if (rangeBuffers.size() > RANGE_CACHE) {
                var eldest = rangeBuffers.entrySet().iterator().next();
                pool.give(eldest.getValue(), 8L * eldest.getKey().rows());
                rangeBuffers.remove(eldest.getKey());
            }
        }
        return mem;
    }

    private static void releaseUpload(MaskArgs m) {
        if (m.uploadedBias() != null) {
            m.uploadedBias().storage().release();
        }
    }

    // q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq)
    @Override
    public synchronized void attentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v,
                                              AttentionMask mask, int B, int H, int Lq, int Lk, int d, float scale) {
        MaskArgs m = maskArgs("attentionForward", mask, Lq, Lk);
        try {
            attentionForward("attentionForward", out, lse, q, k, v, m, B, H, Lq, Lk, d, scale, 0, 0);
        } finally {
            releaseUpload(m);
        }
    }

    @Override
    public synchronized void neighborhoodAttentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v,
                                                          int B, int H, int grid, int kernel, int d, float scale) {
        dev.mvarj.tensor.Neighborhood.check(grid, kernel);
        int N = grid * grid;
        attentionForward("neighborhoodAttentionForward", out, lse, q, k, v, new MaskArgs(null, 0, null, null),
                B, H, N, N, d, scale, grid, kernel);
    }

    // q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq)
    private void attentionForward(String op, Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, MaskArgs m,
                                  int B, int H, int Lq, int Lk, int d, float scale, int grid, int kernel) {
        for (Tensor t : new Tensor[]{out, lse, q, k, v}) {
            contiguous(op, f32(op, t));
        }
        if (B * H * Lq == 0) {
            return;
        }
        AttentionConfig ac = attention;
        launch("attention", ac.options(op, d), "attention_forward").mem(mem(op, out)).i(out.offset()).mem(mem(op, lse))
                .i(lse.offset()).mem(mem(op, q)).i(q.offset()).mem(mem(op, k)).i(k.offset()).mem(mem(op, v))
                .i(v.offset()).mem(m.bias()).i(m.biasOffset()).mem(m.ranges()).i(0).i(Lq).i(Lk).i(d).f(scale)
                .i(grid).i(kernel)
                .run(new long[]{(long) ac.blocks(Lq, grid) * ac.items(), (long) B * H}, new long[]{ac.items(), 1});
    }

    // dout, q, out (B,H,Lq,d), k, v (B,H,Lk,d), lse (B,H,Lq) -> dq (B,H,Lq,d), dk, dv (B,H,Lk,d)
    @Override
    public synchronized void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k,
                                               Tensor v, Tensor out, Tensor lse, AttentionMask mask,
                                               int B, int H, int Lq, int Lk, int d, float scale) {
        MaskArgs m = maskArgs("attentionBackward", mask, Lq, Lk);
        try {
            attentionBackward("attentionBackward", dq, dk, dv, dout, q, k, v, out, lse, m, B, H, Lq, Lk, d, scale,
                    0, 0);
        } finally {
            releaseUpload(m);
        }
    }

    @Override
    public synchronized void neighborhoodAttentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q,
                                                           Tensor k, Tensor v, Tensor out, Tensor lse, int B, int H,
                                                           int grid, int kernel, int d, float scale) {
        dev.mvarj.tensor.Neighborhood.check(grid, kernel);
        int N = grid * grid;
        attentionBackward("neighborhoodAttentionBackward", dq, dk, dv, dout, q, k, v, out, lse,
                new MaskArgs(null, 0, null, null), B, H, N, N, d, scale, grid, kernel);
    }

    private void attentionBackward(String op, Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k,
                                   Tensor v, Tensor out, Tensor lse, MaskArgs m, int B, int H, int Lq, int Lk, int d,
                                   float scale, int grid, int kernel) {
        for (Tensor t : new Tensor[]{dq, dk, dv, dout, q, k, v, out, lse}) {
            contiguous(op, f32(op, t));
        }
        if (B * H == 0) {
            return;
        }
        long dBytes = 4L * Math.max(1, B * H * Lq);
        MemorySegment D = pool.take(dBytes);
        AttentionConfig ac = attention;
        String opts = ac.options(op, d);
        try {
            if (Lq > 0) {
                launch("attention", opts, "attention_backward_dq").mem(mem(op, dq)).i(dq.offset()).mem(D)
                        .mem(mem(op, dout)).i(dout.offset()).mem(mem(op, q)).i(q.offset()).mem(mem(op, k))
                        .i(k.offset()).mem(mem(op, v)).i(v.offset()).mem(mem(op, out)).i(out.offset())
                        .mem(mem(op, lse)).i(lse.offset()).mem(m.bias()).i(m.biasOffset()).mem(m.ranges()).i(0)
                        .i(Lq).i(Lk).i(d).f(scale).i(grid).i(kernel)
                        .run(new long[]{(long) ac.blocks(Lq, grid) * ac.items(), (long) B * H},
                                new long[]{ac.items(), 1});
            }
            if (Lk > 0) {
                launch("attention", opts, "attention_backward_dkdv").mem(mem(op, dk)).i(dk.offset())
                        .mem(mem(op, dv)).i(dv.offset()).mem(D).mem(mem(op, dout)).i(dout.offset())
                        .mem(mem(op, q)).i(q.offset()).mem(mem(op, k)).i(k.offset()).mem(mem(op, v)).i(v.offset())
                        .mem(mem(op, lse)).i(lse.offset()).mem(m.bias()).i(m.biasOffset()).mem(m.ranges()).i(0)
                        .i(Lq).i(Lk).i(d).f(scale).i(grid).i(kernel)
                        .run(new long[]{(long) ac.blocks(Lk, grid) * ac.items(), (long) B * H},
                                new long[]{ac.items(), 1});
            }
        } finally {
            pool.give(D, dBytes);       // safe: the in-order queue runs both kernels before any later user
        }
    }

    // ---------------------------------------------------------------------------------------------- vision

    // x (B, C, H, W) -> cols (B, C·kh·kw, OH·OW)
    @Override
    public synchronized void im2col(Tensor cols, Tensor x, int B, int C, int H, int W, int kh, int kw, int stride,
                                    int padTop, int padLeft, int OH, int OW) {
        long n = (long) B * C * kh * kw * OH * OW;
        if (n == 0) {
            return;
        }
        run1d(launch("vision", "im2col").mem(mem("im2col", contiguous("im2col", cols))).i(cols.offset())
                .mem(mem("im2col", contiguous("im2col", x))).i(x.offset()).i(B).i(C).i(H).i(W).i(kh).i(kw)
                .i(stride).i(padTop).i(padLeft).i(OH).i(OW), n);
    }

    // cols (B, C·kh·kw, OH·OW) -> dx (B, C, H, W) +=
    @Override
    public synchronized void col2im(Tensor dx, Tensor cols, int B, int C, int H, int W, int kh, int kw, int stride,
                                    int padTop, int padLeft, int OH, int OW) {
        long n = (long) B * C * H * W;
        if (n == 0) {
            return;
        }
        run1d(launch("vision", "col2im").mem(mem("col2im", contiguous("col2im", dx))).i(dx.offset())
                .mem(mem("col2im", contiguous("col2im", cols))).i(cols.offset()).i(B).i(C).i(H).i(W).i(kh).i(kw)
                .i(stride).i(padTop).i(padLeft).i(OH).i(OW), n);
    }

    // x (B, C, HW) -> out (B, C, HW), mean, rstd (B, G)
    @Override
    public synchronized void groupNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                              int B, int C, int HW, int G, float eps) {
        if (B * G == 0) {
            return;
        }
        String op = "groupNormForward";
        runRows(launch("vision", "group_norm_forward").mem(mem(op, out)).i(out.offset()).mem(mem(op, mean))
                .i(mean.offset()).mem(mem(op, rstd)).i(rstd.offset()).mem(mem(op, x)).i(x.offset())
                .mem(memOrNull(op, w)).i(w == null ? 0 : w.offset()).mem(memOrNull(op, b)).i(b == null ? 0 : b.offset())
                .i(C).i(HW).i(G).f(eps), B * G);
    }

    // dout, x (B, C, HW), mean, rstd (B, G) -> dx (B, C, HW); dw, db (C) when w is not null
    @Override
    public synchronized void groupNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean,
                                               Tensor rstd, Tensor w, int B, int C, int HW, int G) {
        if (B * G == 0) {
            return;
        }
        String op = "groupNormBackward";
        runRows(launch("vision", "group_norm_backward_dx").mem(mem(op, dx)).i(dx.offset()).mem(mem(op, dout))
                .i(dout.offset()).mem(mem(op, x)).i(x.offset()).mem(mem(op, mean)).i(mean.offset())
                .mem(mem(op, rstd)).i(rstd.offset()).mem(memOrNull(op, w)).i(w == null ? 0 : w.offset()).i(C).i(HW)
                .i(G), B * G);
        if (w != null) {
            runRows(launch("vision", "group_norm_backward_dwdb").mem(mem(op, dw)).i(dw.offset())
                    .mem(memOrNull(op, db)).i(db == null ? 0 : db.offset()).mem(mem(op, dout)).i(dout.offset())
                    .mem(mem(op, x)).i(x.offset()).mem(mem(op, mean)).i(mean.offset()).mem(mem(op, rstd))
                    .i(rstd.offset()).i(B).i(C).i(HW).i(G), C);
        }
    }

    @Override
    public String toString() {
        return "opencl backend on " + device + ": " + info.describe();
    }
}
