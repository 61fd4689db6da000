package dev.mvarj.gpu;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.BackendProvider;
import dev.mvarj.tensor.Device;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link java.util.ServiceLoader} entry for {@code --device opencl[:N]}: N numbers the devices of all
 * platforms in discovery order ({@link OpenClDevice#discover()}). Registered in
 * {@code META-INF/services/dev.mvarj.tensor.BackendProvider}.
 */
public final class OpenClProvider implements BackendProvider {

    private static final Map<Integer, OpenClBackend> OPEN = new ConcurrentHashMap<>();

    @Override
    public String kind() {
        return "opencl";
    }

    /** One line per device; empty when there is no ICD loader, no platform or no device. Never throws. */
    @Override
    public List<String> describeDevices() {
        try {
            return OpenClDevice.discoverQuietly().stream().map(OpenClDevice::describe).toList();
        } catch (RuntimeException | LinkageError e) {
            return List.of();
        }
    }

    @Override
    public Backend open(Device device) {
        if (!device.kind().equals(kind())) {
            throw new IllegalArgumentException("the OpenCL provider cannot open device " + device);
        }
        return OPEN.computeIfAbsent(device.index(), index -> {
            List<OpenClDevice> devices = OpenClDevice.discover();
            if (index >= devices.size()) {
                throw new IllegalArgumentException("no OpenCL device " + device + ": found " + devices.size()
                        + (devices.isEmpty() ? " (is an OpenCL driver, e.g. pocl-opencl-icd, installed?)"
                        : ", use opencl:0 .. opencl:" + (devices.size() - 1)));
            }
            return new OpenClBackend(devices.get(index));
        });
    }
}
