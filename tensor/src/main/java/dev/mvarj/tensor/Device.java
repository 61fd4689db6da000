package dev.mvarj.tensor;

/**
 * Where a tensor's storage lives: {@code cpu}, or an accelerator such as {@code opencl:0}.
 *
 * @param kind  the backend family ("cpu", "opencl")
 * @param index the device's ordinal within its family
 */
public record Device(String kind, int index) {

    public static final Device CPU = new Device("cpu", 0);

    public Device {
        if (kind == null || kind.isBlank()) {
            throw new IllegalArgumentException("device kind must not be empty");
        }
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
    }

    /** Parses "cpu", "opencl" or "opencl:N". */
    public static Device parse(String spec) {
        int colon = spec.indexOf(':');
        if (colon < 0) {
            return spec.equals("cpu") ? CPU : new Device(spec, 0);
        }
        try {
            return new Device(spec.substring(0, colon), Integer.parseInt(spec.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad device '" + spec + "': expected KIND or KIND:INDEX", e);
        }
    }

    public boolean isCpu() {
        return kind.equals("cpu");
    }

    @Override
    public String toString() {
        return isCpu() ? "cpu" : kind + ":" + index;
    }
}
