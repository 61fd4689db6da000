package dev.mvarj.gpu;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Assumptions;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Opens {@code opencl:0} for the tests, or skips them when this machine has no OpenCL device. With
 * {@code MVARJ_REQUIRE_OPENCL=1} (CI sets it) a missing device fails instead, so CI cannot skip silently.
 */
final class OpenClTestSupport {

    static final Device GPU = new Device("opencl", 0);

    private OpenClTestSupport() {
    }

    static boolean required() {
        return "1".equals(System.getenv("MVARJ_REQUIRE_OPENCL"));
    }

    /** The backend of opencl:0; skips the test when no device exists (fails when one is required). */
    static OpenClBackend backend() {
        List<OpenClDevice> devices = OpenClDevice.discoverQuietly();
        if (!required()) {
            Assumptions.assumeFalse(devices.isEmpty(), "no OpenCL device on this machine");
        }
        assertThat(devices).as("MVARJ_REQUIRE_OPENCL=1 but no OpenCL device was found").isNotEmpty();
        return (OpenClBackend) Backends.forDevice(GPU);
    }

    static void assertClose(String what, Tensor got, Tensor want, DeviceTolerance.Tol tol) {
        assertClose(what, got, want, tol.atol(), tol.rtol());
    }

    static void assertClose(String what, Tensor got, Tensor want, double tol) {
        assertClose(what, got, want, tol, tol);
    }

    static void assertClose(String what, Tensor got, Tensor want, double atol, double rtol) {
        assertThat(got.shape()).as(what + " shape").isEqualTo(want.shape());
        AllClose r = AllClose.check(what, got.toFloatArray(), want.toFloatArray(), atol, rtol);
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    static Tensor ints(Rng rng, int bound, int... shape) {
        int n = Shape.numel(shape);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextInt(bound);
        }
        return Tensor.ofInts(v, shape);
    }

    /** A device tensor with the same values as a host one. */
    static Tensor dev(Tensor host) {
        return host.to(GPU);
    }
}
