package dev.mvarj.tensor;

import java.util.List;

/**
 * Service-provider interface through which device backends outside this module (OpenCL in {@code gpu-backends}) are
 * found with {@link java.util.ServiceLoader}, so that {@code nn} and {@code mvar} never name a device class.
 */
public interface BackendProvider {

    /** The device kind this provider serves, e.g. "opencl". */
    String kind();

    /** The devices it can open on this machine; empty when the driver is missing. Must not throw. */
    List<String> describeDevices();

    /** Opens (or returns the already open) backend for {@code device}; throws if the device does not exist. */
    Backend open(Device device);
}
