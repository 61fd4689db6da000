package dev.mvarj.tensor;

import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.cpu.simd.SimdBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the backend for a device. The CPU backend is the Vector API one unless the system property
 * {@code mvarj.cpu.backend=reference} selects the scalar reference; other kinds come from {@link BackendProvider}s.
 */
public final class Backends {

    /** System property choosing the CPU backend: "simd" (default) or "reference". */
    public static final String CPU_BACKEND_PROPERTY = "mvarj.cpu.backend";

    private static final Map<Device, Backend> OPEN = new ConcurrentHashMap<>();
    private static final ThreadLocal<Backend> CPU_OVERRIDE = new ThreadLocal<>();

    private Backends() {
    }

    /** The CPU backend selected by {@value #CPU_BACKEND_PROPERTY}. */
    public static Backend cpu() {
        return forDevice(Device.CPU);
    }

    public static Backend forDevice(Device device) {
        if (device.isCpu()) {
            Backend override = CPU_OVERRIDE.get();
            if (override != null) {
                return override;
            }
        }
        return OPEN.computeIfAbsent(device, Backends::open);
    }

    /**
     * Runs the CPU ops of this thread on {@code backend} until the scope closes; gradient checks use it to run on
     * the {@code ReferenceBackend}, tests to compare backends op by op. Both CPU backends share one storage type.
     */
    public static Scope useCpu(Backend backend) {
        if (!backend.device().isCpu()) {
            throw new IllegalArgumentException("useCpu: " + backend.name() + " is not a CPU backend");
        }
        Backend previous = CPU_OVERRIDE.get();
        CPU_OVERRIDE.set(backend);
        return () -> CPU_OVERRIDE.set(previous);
    }

    /** An {@link AutoCloseable} that does not throw. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    private static Backend open(Device device) {
        if (device.isCpu()) {
            String choice = System.getProperty(CPU_BACKEND_PROPERTY, "simd");
            return switch (choice) {
                case "simd" -> new SimdBackend(WorkerPool.shared());
                case "reference" -> new ReferenceBackend();
                default -> throw new IllegalArgumentException(
                        "-D" + CPU_BACKEND_PROPERTY + "=" + choice + ": expected simd or reference");
            };
        }
        for (BackendProvider provider : providers()) {
            if (provider.kind().equals(device.kind())) {
                return provider.open(device);
            }
        }
        throw new IllegalArgumentException("no backend for device '" + device + "': known kinds are "
                + knownKinds() + " (is the gpu-backends jar on the class path?)");
    }

    private static List<String> knownKinds() {
        List<String> kinds = new ArrayList<>(List.of("cpu"));
        providers().forEach(p -> kinds.add(p.kind()));
        return kinds;
    }

    /** The providers found on the class path. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(list::add);
        return list;
    }

    /** One line per usable backend and device, for {@code mvarj info}. */
    public static List<String> describe() {
        List<String> lines = new ArrayList<>();
        lines.add("cpu: simd (Vector API, " + SimdBackend.describeSpecies() + ", " + WorkerPool.shared().threads()
                + " threads)" + (cpu().name().equals("simd") ? " [default]" : ""));
        lines.add("cpu: reference (scalar loops, the definition)"
                + (cpu().name().equals("reference") ? " [default]" : ""));
        for (BackendProvider provider : providers()) {
            List<String> devices = provider.describeDevices();
            if (devices.isEmpty()) {
                lines.add(provider.kind() + ": no device found");
            }
            for (int i = 0; i < devices.size(); i++) {
                lines.add(provider.kind() + ":" + i + ": " + devices.get(i));
            }
        }
        return lines;
    }
}
