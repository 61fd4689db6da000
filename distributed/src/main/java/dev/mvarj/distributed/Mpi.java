package dev.mvarj.distributed;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written Foreign Function &amp; Memory bindings for the MPI calls data-parallel training uses, through Open
 * MPI's {@code libmpi.so.40} (no JNI, no binding library; docs/distributed.md).
 *
 * <p>Open MPI's C ABI: every handle ({@code MPI_Comm}, {@code MPI_Datatype}, {@code MPI_Op}, ...) is a pointer to a
 * global object the library exports, so {@code MPI_COMM_WORLD} is the address of {@code ompi_mpi_comm_world},
 * {@code MPI_FLOAT} that of {@code ompi_mpi_float}, {@code MPI_SUM} that of {@code ompi_mpi_op_sum}; they are looked
 * up as symbols and passed as {@code ADDRESS}. MPICH and its derivatives use integer handles instead: a library
 * without Open MPI's symbols is refused by name. {@code int} and {@code int*} are {@code JAVA_INT} and
 * {@code ADDRESS}. The communicator's error handler is set to {@code MPI_ERRORS_RETURN}, so every call's code is
 * checked and a failure throws {@link MpiException} naming the call and the error class.
 *
 * <p>Buffers travel through one off-heap staging segment (Java arrays cannot be handed to a blocking native call);
 * counts above {@value #CHUNK} elements are split into several calls, since MPI counts are {@code int}. Calls are
 * serialised on this object ({@code MPI_THREAD_SERIALIZED}).
 */
public final class Mpi implements Communicator {

    /** Open MPI's soname (4.x and 5.x); {@value #LIBRARY_ENV} names another file. */
    public static final String LIBRARY = "libmpi.so.40";
    /** The environment variable that names the libmpi to load instead of {@value #LIBRARY}. */
    public static final String LIBRARY_ENV = "MVARJ_MPI_LIBRARY";
    /** What to install where no libmpi is found. */
    public static final String INSTALL = "install Open MPI on every node (Debian and Ubuntu: apt-get install"
            + " openmpi-bin libopenmpi3), or set " + LIBRARY_ENV + " to the path of its libmpi.so";

    static final int MPI_THREAD_SERIALIZED = 2;
    static final int MPI_COMM_TYPE_SHARED = 0;
    static final int MPI_MAX_ERROR_STRING = 256;
    static final int MPI_MAX_LIBRARY_VERSION_STRING = 256;
    /** Elements per MPI call at most (counts are {@code int}). */
    static final int CHUNK = 1 << 28;
    /** {@code MPI_IN_PLACE} in Open MPI's mpi.h: {@code ((void *) 1)}. */
    private static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);
    private static final int RTLD_NOW = 2, RTLD_GLOBAL = 0x100;

    private final String library;
    private final MethodHandle initialized, initThread, finalizeCall, commRank, commSize, commSplitType, commFree;
    private final MethodHandle setErrhandler, barrierCall, bcast, allreduce, abortCall, errorString, libraryVersion;
    private final MemorySegment world, floatType, doubleType, longType, sum, errorsReturn, infoNull;
    private final int rank, size, localRank, localSize;
    private final String version;
    private MemorySegment staging = MemorySegment.NULL;
    private boolean closed;

    private Mpi(String library, SymbolLookup lib) {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        var h = new Object() {
            MemorySegment symbol(String name) {
                return lib.find(name).orElseThrow(() -> new MpiException(library + " has no symbol " + name
                        + ": not an Open MPI of the 4.x/5.x ABI", null));
            }

            MethodHandle of(String name, FunctionDescriptor fd) {
                return linker.downcallHandle(symbol(name), fd);
            }
        };
        if (lib.find("ompi_mpi_comm_world").isEmpty()) {
            throw new MpiException(library + " is not Open MPI (it has no symbol ompi_mpi_comm_world): mvarj binds"
                    + " Open MPI only, whose handles are pointers to global objects (MPICH, Intel MPI and MVAPICH use"
                    + " integer handles); " + INSTALL, null);
        }
        FunctionDescriptor intOfAddress = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        FunctionDescriptor intOfTwo = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        initialized = h.of("MPI_Initialized", intOfAddress);
        initThread = h.of("MPI_Init_thread", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        finalizeCall = h.of("MPI_Finalize", FunctionDescriptor.of(JAVA_INT));
        commRank = h.of("MPI_Comm_rank", intOfTwo);
        commSize = h.of("MPI_Comm_size", intOfTwo);
        commSplitType = h.of("MPI_Comm_split_type",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        commFree = h.of("MPI_Comm_free", intOfAddress);
        setErrhandler = h.of("MPI_Comm_set_errhandler", intOfTwo);
        barrierCall = h.of("MPI_Barrier", intOfAddress);
        bcast = h.of("MPI_Bcast", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        allreduce = h.of("MPI_Allreduce",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        abortCall = h.of("MPI_Abort", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        errorString = h.of("MPI_Error_string", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        libraryVersion = h.of("MPI_Get_library_version", intOfTwo);
        world = h.symbol("ompi_mpi_comm_world");
        floatType = h.symbol("ompi_mpi_float");
        doubleType = h.symbol("ompi_mpi_double");
        longType = h.symbol("ompi_mpi_int64_t");
        sum = h.symbol("ompi_mpi_op_sum");
        errorsReturn = h.symbol("ompi_mpi_errors_return");
        infoNull = h.symbol("ompi_mpi_info_null");

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(JAVA_INT);
            check("MPI_Initialized", (int) initialized.invokeExact(flag));
            if (flag.get(JAVA_INT, 0) == 0) {
                MemorySegment provided = arena.allocate(JAVA_INT);
                check("MPI_Init_thread", (int) initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL,
                        MPI_THREAD_SERIALIZED, provided));
            }
            check("MPI_Comm_set_errhandler", (int) setErrhandler.invokeExact(world, errorsReturn));
            rank = intOf("MPI_Comm_rank", commRank, world, arena);
            size = intOf("MPI_Comm_size", commSize, world, arena);
            MemorySegment local = arena.allocate(ADDRESS);
            check("MPI_Comm_split_type", (int) commSplitType.invokeExact(world, MPI_COMM_TYPE_SHARED, 0, infoNull,
                    local));
            MemorySegment node = local.get(ADDRESS, 0);
            localRank = intOf("MPI_Comm_rank", commRank, node, arena);
            localSize = intOf("MPI_Comm_size", commSize, node, arena);
            check("MPI_Comm_free", (int) commFree.invokeExact(local));
            MemorySegment text = arena.allocate(MPI_MAX_LIBRARY_VERSION_STRING * 4L);
            MemorySegment len = arena.allocate(JAVA_INT);
            check("MPI_Get_library_version", (int) libraryVersion.invokeExact(text, len));
            version = text.getString(0, StandardCharsets.UTF_8).lines().findFirst().orElse("").split(",")[0].strip();
        } catch (Throwable t) {
            throw failed(t);
        }
    }

    /**
     * Loads libmpi ({@value #LIBRARY_ENV}'s file when set, else {@value #LIBRARY}) and joins the job
     * ({@code MPI_Init_thread}); every rank of a job started by {@code mpirun} calls it once.
     *
     * @throws MpiException when no libmpi can be loaded (the message says what to install), when it is not Open
     *                      MPI, or when a call fails
     */
    public static Mpi init(String library) {
        return new Mpi(library, load(library));
    }

    /**
     * Opens {@code library} with {@code RTLD_GLOBAL}: Open MPI opens its components (transports, launchers) as
     * plug-ins that resolve libmpi's symbols from the global scope, which a plain {@code dlopen} does not provide.
     */
    static SymbolLookup load(String library) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle dlopen = linker.downcallHandle(libc.find("dlopen").orElseThrow(),
                    FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
            MethodHandle dlerror = linker.downcallHandle(libc.find("dlerror").orElseThrow(),
                    FunctionDescriptor.of(ADDRESS));
            MemorySegment handle = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(library),
                    RTLD_NOW | RTLD_GLOBAL);
            if (handle.equals(MemorySegment.NULL)) {
                MemorySegment why = (MemorySegment) dlerror.invokeExact();
                String reason = why.equals(MemorySegment.NULL) ? "" : ": " + why.reinterpret(4096).getString(0);
                throw new MpiException("MPI is not available: cannot load " + library + reason + "; " + INSTALL,
                        null);
            }
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI is not available: cannot load " + library + "; " + INSTALL, t);
        }
        return SymbolLookup.libraryLookup(library, Arena.global());
    }

    private static int intOf(String call, MethodHandle h, MemorySegment comm, Arena arena) throws Throwable {
        MemorySegment out = arena.allocate(JAVA_INT);
        check(call, (int) h.invokeExact(comm, out));
        return out.get(JAVA_INT, 0);
    }

    private static void check(String call, int code) {
        if (code != 0) {
            throw new MpiException(call, code, null);
        }
    }

    /** As {@link #check} with the library's text for the code (only once MPI is initialised). */
    private void checked(String call, int code) {
        if (code != 0) {
            String detail = null;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment text = arena.allocate(MPI_MAX_ERROR_STRING + 1);
                MemorySegment len = arena.allocate(JAVA_INT);
                if ((int) errorString.invokeExact(code, text, len) == 0) {
                    detail = text.getString(0, StandardCharsets.UTF_8);
                }
            } catch (Throwable ignored) {
                // the code's name alone
            }
            throw new MpiException(call + " (rank " + rank + " of " + size + ")", code, detail);
        }
    }

    /** What a downcall threw, as an {@link MpiException} (one thrown by this binding as it is). */
    private static MpiException failed(Throwable t) {
        return t instanceof MpiException m ? m : new MpiException("an MPI call failed: " + t, t);
    }


    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int localRank() {
        return localRank;
    }

    @Override
    public int localSize() {
        return localSize;
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%s, rank %d of %d (local %d of %d)", version, rank, size, localRank,
                localSize);
    }

    /** The library file this binding loaded. */
    public String library() {
        return library;
    }

    @Override
    public synchronized void barrier() {
        open();
        try {
            checked("MPI_Barrier", (int) barrierCall.invokeExact(world));
        } catch (Throwable t) {
            throw failed(t);
        }
    }

    @Override
    public synchronized void broadcast(float[] buffer, int root) {
        MemorySegment s = stage(MemorySegment.ofArray(buffer));
        collective("MPI_Bcast", s, JAVA_FLOAT, floatType, root);
        MemorySegment.copy(s, JAVA_FLOAT, 0, buffer, 0, buffer.length);
    }

    @Override
    public synchronized void broadcast(long[] buffer, int root) {
        MemorySegment s = stage(MemorySegment.ofArray(buffer));
        collective("MPI_Bcast", s, JAVA_LONG, longType, root);
        MemorySegment.copy(s, JAVA_LONG, 0, buffer, 0, buffer.length);
    }

    @Override
    public synchronized void allReduceSum(float[] buffer) {
        MemorySegment s = stage(MemorySegment.ofArray(buffer));
        collective("MPI_Allreduce", s, JAVA_FLOAT, floatType, -1);
        MemorySegment.copy(s, JAVA_FLOAT, 0, buffer, 0, buffer.length);
    }

    @Override
    public synchronized void allReduceSum(double[] buffer) {
        MemorySegment s = stage(MemorySegment.ofArray(buffer));
        collective("MPI_Allreduce", s, JAVA_DOUBLE, doubleType, -1);
        MemorySegment.copy(s, JAVA_DOUBLE, 0, buffer, 0, buffer.length);
    }

    /** Copies {@code heap} into the staging segment (grown when too small) and returns the part it fills. */
    private MemorySegment stage(MemorySegment heap) {
        open();
        if (staging.byteSize() < heap.byteSize()) {
            staging = Arena.ofAuto().allocate(Math.max(heap.byteSize(), 1), 64);
        }
        MemorySegment s = staging.asSlice(0, heap.byteSize());
        MemorySegment.copy(heap, 0, s, 0, heap.byteSize());
        return s;
    }

    /** MPI_Bcast from {@code root}, or an in-place MPI_Allreduce (sum) when root is −1, in chunks. */
    private void collective(String call, MemorySegment s, ValueLayout element, MemorySegment type, int root) {
        long n = s.byteSize() / element.byteSize();
        try {
            for (long from = 0; from < n; from += CHUNK) {
                int count = (int) Math.min(CHUNK, n - from);
                MemorySegment part = s.asSlice(from * element.byteSize(), count * element.byteSize());
                int rc = root >= 0 ? (int) bcast.invokeExact(part, count, type, root, world)
                        : (int) allreduce.invokeExact(IN_PLACE, part, count, type, sum, world);
                checked(call, rc);
            }
        } catch (Throwable t) {
            throw failed(t);
        }
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("MPI was finalised: no collective can follow");
        }
    }

    @Override
    public synchronized void abort(int status) {
        try {
            int ignored = (int) abortCall.invokeExact(world, status);
        } catch (Throwable t) {
            throw failed(t);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try {
                checked("MPI_Finalize", (int) finalizeCall.invokeExact());
            } catch (Throwable t) {
                throw failed(t);
            }
        }
    }
}
