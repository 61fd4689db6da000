package dev.mvarj.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One OpenCL device, as found by {@link #discover()}: devices of all platforms are numbered in platform order,
 * then device order, and {@code opencl:N} names the N-th.
 *
 * @param index            the ordinal N of {@code opencl:N}
 * @param platform         the {@code cl_platform_id}
 * @param id               the {@code cl_device_id}
 * @param platformName     e.g. "Portable Computing Language"
 * @param name             e.g. "pthread-skylake-avx512-AMD EPYC"
 * @param vendor           the device vendor
 * @param version          the device's OpenCL version string
 * @param type             {@code CL_DEVICE_TYPE_*} bits
 * @param computeUnits     compute units
 * @param maxWorkGroupSize the largest work-group the device runs
 * @param localMemBytes    local (shared) memory per work-group
 * @param globalMemBytes   global memory
 * @param maxAllocBytes    the largest single buffer
 * @param singleFpConfig   CL_DEVICE_SINGLE_FP_CONFIG bits (rounding modes, FMA, correctly rounded divide/sqrt)
 */
public record OpenClDevice(int index, MemorySegment platform, MemorySegment id, String platformName, String name,
                           String vendor, String version, long type, int computeUnits, long maxWorkGroupSize,
                           long localMemBytes, long globalMemBytes, long maxAllocBytes,
                           long singleFpConfig) {

    /** Every device of every platform; throws when the ICD loader is missing (see {@link #discoverQuietly()}). */
    public static List<OpenClDevice> discover() {
        OpenCl cl = OpenCl.get();
        List<OpenClDevice> out = new ArrayList<>();
        for (MemorySegment p : cl.platforms()) {
            String platformName = cl.platformString(p, OpenCl.CL_PLATFORM_NAME);
            for (MemorySegment d : cl.devices(p)) {
                out.add(new OpenClDevice(out.size(), p, d, platformName,
                        cl.deviceString(d, OpenCl.CL_DEVICE_NAME),
                        cl.deviceString(d, OpenCl.CL_DEVICE_VENDOR),
                        cl.deviceString(d, OpenCl.CL_DEVICE_VERSION),
                        cl.deviceLong(d, OpenCl.CL_DEVICE_TYPE),
                        cl.deviceInt(d, OpenCl.CL_DEVICE_MAX_COMPUTE_UNITS),
                        cl.deviceLong(d, OpenCl.CL_DEVICE_MAX_WORK_GROUP_SIZE),
                        cl.deviceLong(d, OpenCl.CL_DEVICE_LOCAL_MEM_SIZE),
                        cl.deviceLong(d, OpenCl.CL_DEVICE_GLOBAL_MEM_SIZE),
                        cl.deviceLong(d, OpenCl.CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                        cl.deviceLong(d, OpenCl.CL_DEVICE_SINGLE_FP_CONFIG)));
            }
        }
        return List.copyOf(out);
    }

    /** {@link #discover()}, or an empty list when there is no ICD loader, no platform or a driver error. */
    public static List<OpenClDevice> discoverQuietly() {
        try {
            return discover();
        } catch (RuntimeException | LinkageError e) {
            return List.of();
        }
    }

    /**
     * Whether the device can round float division and square root correctly (CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT);
     * the backend then builds its kernels with {@code -cl-fp32-correctly-rounded-divide-sqrt}. Without the option
     * OpenCL allows 2.5 ulp for {@code /} and 3 ulp for {@code sqrt}, and GPU compilers use that freedom.
     */
    public boolean correctlyRoundedDivideSqrt() {
        return (singleFpConfig & OpenCl.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    }

    public boolean isCpu() {
        return (type & OpenCl.CL_DEVICE_TYPE_CPU) != 0;
    }

    /** "GPU", "CPU", "accelerator" or "other". */
    public String typeName() {
        if ((type & OpenCl.CL_DEVICE_TYPE_GPU) != 0) {
            return "GPU";
        }
        if (isCpu()) {
            return "CPU";
        }
        return (type & OpenCl.CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "other";
    }

    /** One line for {@code mvarj info}. */
    public String describe() {
        return String.format("%s (%s, %s; %s; %d compute units, %.2f GiB, work-group <= %d, local %d KiB)", name,
                typeName(), platformName, version, computeUnits, globalMemBytes / (double) (1L << 30),
                maxWorkGroupSize, localMemBytes >> 10);
    }
}
