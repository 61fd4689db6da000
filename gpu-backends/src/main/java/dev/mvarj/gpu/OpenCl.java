package dev.mvarj.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written Foreign Function &amp; Memory bindings for the OpenCL 1.2 calls the backend uses, through the ICD
 * loader {@code libOpenCL.so.1} (no JNI, no binding library).
 *
 * <p>Type mapping: handles ({@code cl_platform_id}, {@code cl_mem}, ...) and pointers are {@code ADDRESS};
 * {@code cl_int}, {@code cl_uint} and {@code cl_bool} are {@code JAVA_INT}; {@code size_t}, {@code cl_ulong} and the
 * bitfields ({@code cl_device_type}, {@code cl_mem_flags}) are {@code JAVA_LONG}. Every wrapper checks the returned
 * code (or {@code errcode_ret}) and throws {@link OpenClException} with the code's name. Temporary argument memory
 * comes from a confined arena per call, so nothing accumulates in a long-lived arena.
 */
final class OpenCl {

    // clGetPlatformInfo / clGetDeviceInfo / clGetProgramBuildInfo parameter names (cl.h)
    static final int CL_PLATFORM_VERSION = 0x0901;
    static final int CL_PLATFORM_NAME = 0x0902;
    static final int CL_PLATFORM_VENDOR = 0x0903;
    static final int CL_DEVICE_TYPE = 0x1000;
    static final int CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    static final int CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    static final int CL_DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
    static final int CL_DEVICE_SINGLE_FP_CONFIG = 0x101B;
    static final int CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    static final int CL_DEVICE_LOCAL_MEM_SIZE = 0x1023;
    static final int CL_DEVICE_NAME = 0x102B;
    static final int CL_DEVICE_VENDOR = 0x102C;
    static final int CL_DRIVER_VERSION = 0x102D;
    static final int CL_DEVICE_VERSION = 0x102F;
    static final int CL_PROGRAM_BUILD_LOG = 0x1183;
    static final int CL_KERNEL_WORK_GROUP_SIZE = 0x11B0;
    static final int CL_KERNEL_LOCAL_MEM_SIZE = 0x11B2;
    static final int CL_PROFILING_COMMAND_START = 0x1282;
    static final int CL_PROFILING_COMMAND_END = 0x1283;

    /** CL_DEVICE_SINGLE_FP_CONFIG bit: the device can round float {@code /} and {@code sqrt} correctly. */
    static final long CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT = 1L << 7;
    /** Command-queue property: every command's event carries start and end times. */
    static final long CL_QUEUE_PROFILING_ENABLE = 1L << 1;

    static final long CL_DEVICE_TYPE_CPU = 1L << 1;
    static final long CL_DEVICE_TYPE_GPU = 1L << 2;
    static final long CL_DEVICE_TYPE_ACCELERATOR = 1L << 3;
    static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;

    static final long CL_MEM_READ_WRITE = 1L;
    static final long CL_MEM_COPY_HOST_PTR = 1L << 5;

    static final int CL_DEVICE_NOT_FOUND = -1;
    static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    /** The ICD loader's soname; the unversioned {@code libOpenCL.so} dev link is not needed. */
    static final String LIBRARY = "libOpenCL.so.1";

    private static volatile OpenCl instance;
    private static volatile Throwable loadFailure;

    private final MethodHandle getPlatformIDs, getPlatformInfo, getDeviceIDs, getDeviceInfo;
    private final MethodHandle createContext, createCommandQueue, createProgramWithSource, buildProgram;
    private final MethodHandle getProgramBuildInfo, createKernel, setKernelArg, enqueueNDRangeKernel;
    private final MethodHandle createBuffer, enqueueReadBuffer, enqueueWriteBuffer, enqueueCopyBuffer;
    private final MethodHandle enqueueFillBuffer, flush, finish, waitForEvents;
    private final MethodHandle releaseMemObject, releaseKernel, releaseProgram, releaseCommandQueue;
    private final MethodHandle releaseContext, releaseEvent;
    private final MethodHandle getKernelWorkGroupInfo, getEventProfilingInfo;

    private OpenCl(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        var h = new Object() {
            MethodHandle of(String name, FunctionDescriptor fd) {
                return linker.downcallHandle(lib.find(name).orElseThrow(
                        () -> new UnsatisfiedLinkError(LIBRARY + " has no symbol " + name)), fd);
            }
        };
        getPlatformIDs = h.of("clGetPlatformIDs", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        getPlatformInfo = h.of("clGetPlatformInfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        getDeviceIDs = h.of("clGetDeviceIDs",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
        getDeviceInfo = h.of("clGetDeviceInfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        createContext = h.of("clCreateContext",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // the 1.x entry point: every driver exports it, while ...WithProperties needs a 2.0 platform
        createCommandQueue = h.of("clCreateCommandQueue",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        createProgramWithSource = h.of("clCreateProgramWithSource",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        buildProgram = h.of("clBuildProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        getProgramBuildInfo = h.of("clGetProgramBuildInfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        createKernel = h.of("clCreateKernel", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        setKernelArg = h.of("clSetKernelArg", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        enqueueNDRangeKernel = h.of("clEnqueueNDRangeKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        createBuffer = h.of("clCreateBuffer",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS));
        FunctionDescriptor readWrite = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG,
                JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueReadBuffer = h.of("clEnqueueReadBuffer", readWrite);
        enqueueWriteBuffer = h.of("clEnqueueWriteBuffer", readWrite);
        enqueueCopyBuffer = h.of("clEnqueueCopyBuffer", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
        enqueueFillBuffer = h.of("clEnqueueFillBuffer", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
        flush = h.of("clFlush", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        finish = h.of("clFinish", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        waitForEvents = h.of("clWaitForEvents", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        FunctionDescriptor release = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        releaseMemObject = h.of("clReleaseMemObject", release);
        releaseKernel = h.of("clReleaseKernel", release);
        releaseProgram = h.of("clReleaseProgram", release);
        releaseCommandQueue = h.of("clReleaseCommandQueue", release);
        releaseContext = h.of("clReleaseContext", release);
        releaseEvent = h.of("clReleaseEvent", release);
        getKernelWorkGroupInfo = h.of("clGetKernelWorkGroupInfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        getEventProfilingInfo = h.of("clGetEventProfilingInfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    }

    /** The bindings; throws {@link IllegalStateException} (with the cause) when the ICD loader cannot be loaded. */
    static OpenCl get() {
        OpenCl cl = instance;
        if (cl != null) {
            return cl;
        }
        synchronized (OpenCl.class) {
            if (instance == null && loadFailure == null) {
                try {
                    instance = new OpenCl(SymbolLookup.libraryLookup(LIBRARY, Arena.global()));
                } catch (Throwable t) {
                    loadFailure = t;
                }
            }
            if (instance == null) {
                throw new IllegalStateException("OpenCL is not available: cannot load " + LIBRARY
                        + " (install an ICD loader such as ocl-icd-libopencl1 and a driver)", loadFailure);
            }
            return instance;
        }
    }

    static void check(String call, int code) {
        if (code != 0) {
            throw new OpenClException(call, code);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    // ---------------------------------------------------------------------------------------------- platforms, devices

    /** All platforms; empty when the ICD loader finds none (CL_PLATFORM_NOT_FOUND_KHR). */
    MemorySegment[] platforms() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            int rc = (int) getPlatformIDs.invokeExact(0, MemorySegment.NULL, count);
            if (rc == CL_PLATFORM_NOT_FOUND_KHR || rc == 0 && count.get(JAVA_INT, 0) == 0) {
                return new MemorySegment[0];
            }
            check("clGetPlatformIDs", rc);
            int n = count.get(JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ADDRESS, n);
            check("clGetPlatformIDs", (int) getPlatformIDs.invokeExact(n, ids, MemorySegment.NULL));
            return handles(ids, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The devices of a platform (all types); empty on CL_DEVICE_NOT_FOUND. */
    MemorySegment[] devices(MemorySegment platform) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            int rc = (int) getDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, 0, MemorySegment.NULL, count);
            if (rc == CL_DEVICE_NOT_FOUND) {
                return new MemorySegment[0];
            }
            check("clGetDeviceIDs", rc);
            int n = count.get(JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ADDRESS, n);
            check("clGetDeviceIDs", (int) getDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, n, ids,
                    MemorySegment.NULL));
            return handles(ids, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MemorySegment[] handles(MemorySegment ids, int n) {
        MemorySegment[] out = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            out[i] = ids.getAtIndex(ADDRESS, i);
        }
        return out;
    }

    String platformString(MemorySegment platform, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            check("clGetPlatformInfo", (int) getPlatformInfo.invokeExact(platform, param, 0L, MemorySegment.NULL,
                    size));
            MemorySegment buf = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check("clGetPlatformInfo", (int) getPlatformInfo.invokeExact(platform, param, buf.byteSize(), buf,
                    MemorySegment.NULL));
            return buf.getString(0, StandardCharsets.UTF_8).strip();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    String deviceString(MemorySegment device, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(device, param, 0L, MemorySegment.NULL, size));
            MemorySegment buf = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(device, param, buf.byteSize(), buf,
                    MemorySegment.NULL));
            return buf.getString(0, StandardCharsets.UTF_8).strip();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A {@code cl_ulong}, {@code size_t} or bitfield device property (all 8 bytes here). */
    long deviceLong(MemorySegment device, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_LONG);
            check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(device, param, 8L, v, MemorySegment.NULL));
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A {@code cl_uint} device property. */
    int deviceInt(MemorySegment device, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(device, param, 4L, v, MemorySegment.NULL));
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------------------------------------- context, queue

    MemorySegment createContext(MemorySegment device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dev = arena.allocate(ADDRESS);
            dev.set(ADDRESS, 0, device);
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment ctx = (MemorySegment) createContext.invokeExact(MemorySegment.NULL, 1, dev,
                    MemorySegment.NULL, MemorySegment.NULL, err);
            check("clCreateContext", err.get(JAVA_INT, 0));
            return ctx;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An in-order queue; {@code profiling} sets CL_QUEUE_PROFILING_ENABLE (events carry device times). */
    MemorySegment createQueue(MemorySegment context, MemorySegment device, boolean profiling) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment q = (MemorySegment) createCommandQueue.invokeExact(context, device,
                    profiling ? CL_QUEUE_PROFILING_ENABLE : 0L, err);
            check("clCreateCommandQueue", err.get(JAVA_INT, 0));
            return q;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------------------------------------- programs, kernels

    /**
     * Compiles {@code source} for {@code device}; a failed build throws an {@link OpenClException} whose message
     * holds the compiler's build log.
     */
    MemorySegment buildProgram(MemorySegment context, MemorySegment device, String name, String source,
                               String options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(source);
            MemorySegment strings = arena.allocate(ADDRESS);
            strings.set(ADDRESS, 0, src);
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment program = (MemorySegment) createProgramWithSource.invokeExact(context, 1, strings,
                    MemorySegment.NULL, err);
            check("clCreateProgramWithSource(" + name + ")", err.get(JAVA_INT, 0));
            MemorySegment dev = arena.allocate(ADDRESS);
            dev.set(ADDRESS, 0, device);
            int rc = (int) buildProgram.invokeExact(program, 1, dev, arena.allocateFrom(options),
                    MemorySegment.NULL, MemorySegment.NULL);
            if (rc != 0) {
                String log = buildLog(program, device);
                release(program, releaseProgram);
                throw new OpenClException("clBuildProgram(" + name + ")", rc, "build log:\n" + log);
            }
            return program;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    String buildLog(MemorySegment program, MemorySegment device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            int rc = (int) getProgramBuildInfo.invokeExact(program, device, CL_PROGRAM_BUILD_LOG, 0L,
                    MemorySegment.NULL, size);
            if (rc != 0) {
                return "(no build log: clGetProgramBuildInfo returned " + OpenClException.name(rc) + ")";
            }
            MemorySegment buf = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            rc = (int) getProgramBuildInfo.invokeExact(program, device, CL_PROGRAM_BUILD_LOG, buf.byteSize(), buf,
                    MemorySegment.NULL);
            return rc != 0 ? "(no build log)" : buf.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment createKernel(MemorySegment program, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment k = (MemorySegment) createKernel.invokeExact(program, arena.allocateFrom(name), err);
            check("clCreateKernel(" + name + ")", err.get(JAVA_INT, 0));
            return k;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets argument {@code index} to the {@code size} bytes at {@code value} (NULL with a size: local memory). */
    void setKernelArg(MemorySegment kernel, int index, long size, MemorySegment value, String kernelName) {
        try {
            int rc = (int) setKernelArg.invokeExact(kernel, index, size, value);
            if (rc != 0) {
                throw new OpenClException("clSetKernelArg(" + kernelName + ", arg " + index + ")", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * A {@code size_t} or {@code cl_ulong} property of a kernel on a device (CL_KERNEL_WORK_GROUP_SIZE: the largest
     * work-group this kernel can run with, given its registers and local memory; CL_KERNEL_LOCAL_MEM_SIZE).
     */
    long kernelLong(MemorySegment kernel, MemorySegment device, int param, String kernelName) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_LONG);
            int rc = (int) getKernelWorkGroupInfo.invokeExact(kernel, device, param, 8L, v, MemorySegment.NULL);
            if (rc != 0) {
                throw new OpenClException("clGetKernelWorkGroupInfo(" + kernelName + ")", rc);
            }
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Enqueues an ND-range; {@code local} may be null (the driver chooses). With {@code event} true the command's
     * event is returned (the caller releases it, see {@link #eventNanos}); otherwise NULL.
     */
    MemorySegment enqueueKernel(MemorySegment queue, MemorySegment kernel, long[] global, long[] local,
                                String kernelName, boolean event) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = arena.allocateFrom(JAVA_LONG, global);
            MemorySegment l = local == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, local);
            MemorySegment slot = event ? arena.allocate(ADDRESS) : MemorySegment.NULL;
            int rc = (int) enqueueNDRangeKernel.invokeExact(queue, kernel, global.length, MemorySegment.NULL, g, l,
                    0, MemorySegment.NULL, slot);
            if (rc != 0) {
                throw new OpenClException("clEnqueueNDRangeKernel(" + kernelName + ", global "
                        + java.util.Arrays.toString(global) + ", local "
                        + (local == null ? "auto" : java.util.Arrays.toString(local)) + ")", rc);
            }
            return event ? slot.get(ADDRESS, 0) : MemorySegment.NULL;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The device time of a finished command (CL_PROFILING_COMMAND_END − START, ns); releases its event. */
    long eventNanos(MemorySegment event) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment start = arena.allocate(JAVA_LONG), end = arena.allocate(JAVA_LONG);
            check("clGetEventProfilingInfo", (int) getEventProfilingInfo.invokeExact(event,
                    CL_PROFILING_COMMAND_START, 8L, start, MemorySegment.NULL));
            check("clGetEventProfilingInfo", (int) getEventProfilingInfo.invokeExact(event,
                    CL_PROFILING_COMMAND_END, 8L, end, MemorySegment.NULL));
            return end.get(JAVA_LONG, 0) - start.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            release(event, releaseEvent);
        }
    }

    // ---------------------------------------------------------------------------------------------- buffers

    /** A device buffer of {@code bytes}, initialised from {@code host} when it is not NULL. */
    MemorySegment createBuffer(MemorySegment context, long bytes, MemorySegment host) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            long flags = CL_MEM_READ_WRITE | (host.equals(MemorySegment.NULL) ? 0 : CL_MEM_COPY_HOST_PTR);
            MemorySegment mem = (MemorySegment) createBuffer.invokeExact(context, flags, bytes, host, err);
            int rc = err.get(JAVA_INT, 0);
            if (rc != 0) {
                throw new OpenClException("clCreateBuffer(" + bytes + " bytes)", rc);
            }
            return mem;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Reads {@code host.byteSize()} bytes from {@code mem} at {@code offset}, waiting for the copy's event. */
    void read(MemorySegment queue, MemorySegment mem, long offset, MemorySegment host) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(ADDRESS);
            check("clEnqueueReadBuffer", (int) enqueueReadBuffer.invokeExact(queue, mem, 0, offset, host.byteSize(),
                    host, 0, MemorySegment.NULL, event));
            waitAndRelease(event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Writes {@code host} into {@code mem} at {@code offset}; blocking, so {@code host} may be freed afterwards. */
    void write(MemorySegment queue, MemorySegment mem, long offset, MemorySegment host) {
        try {
            check("clEnqueueWriteBuffer", (int) enqueueWriteBuffer.invokeExact(queue, mem, 1, offset,
                    host.byteSize(), host, 0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void copy(MemorySegment queue, MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset,
              long bytes) {
        try {
            check("clEnqueueCopyBuffer", (int) enqueueCopyBuffer.invokeExact(queue, src, dst, srcOffset, dstOffset,
                    bytes, 0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Fills {@code bytes} at {@code offset} with a repeated 4-byte {@code pattern} (int bits of a float, say). */
    void fill(MemorySegment queue, MemorySegment mem, int pattern, long offset, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(JAVA_INT, pattern);
            check("clEnqueueFillBuffer", (int) enqueueFillBuffer.invokeExact(queue, mem, p, 4L, offset, bytes, 0,
                    MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------------------------------------- sync, release

    void flush(MemorySegment queue) {
        try {
            check("clFlush", (int) flush.invokeExact(queue));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void finish(MemorySegment queue) {
        try {
            check("clFinish", (int) finish.invokeExact(queue));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void waitAndRelease(MemorySegment eventSlot) throws Throwable {
        MemorySegment event = eventSlot.get(ADDRESS, 0);
        try {
            check("clWaitForEvents", (int) waitForEvents.invokeExact(1, eventSlot));
        } finally {
            int rc = (int) releaseEvent.invokeExact(event);
            check("clReleaseEvent", rc);
        }
    }

    void releaseMem(MemorySegment mem) {
        release(mem, releaseMemObject);
    }

    void releaseKernel(MemorySegment kernel) {
        release(kernel, releaseKernel);
    }

    void releaseProgram(MemorySegment program) {
        release(program, releaseProgram);
    }

    void releaseQueue(MemorySegment queue) {
        release(queue, releaseCommandQueue);
    }

    void releaseContext(MemorySegment context) {
        release(context, releaseContext);
    }

    private static void release(MemorySegment handle, MethodHandle fn) {
        try {
            check("clRelease", (int) fn.invokeExact(handle));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static {
        if (ADDRESS.byteSize() != 8) {
            throw new ExceptionInInitializerError("the OpenCL bindings assume a 64-bit platform (size_t = 8 bytes)");
        }
    }
}
