package dev.mvarj.autograd;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every op against its PyTorch fixtures (forward and backward with the fixture's random upstream gradient), on the
 * reference and on the SIMD backend, plus a finite-difference gradient check of every case in double precision
 * (F64) on the reference backend. System property {@code fixture.ops=a,b} restricts the run to some ops.
 */
class OpFixtureTest {

    static final Map<String, FixtureOps.Spec> OPS = new HashMap<>();

    static {
        for (FixtureOps family : List.of(new CoreFixtureOps(), new AttentionFixtureOps(), new VisionFixtureOps())) {
            family.register(OPS);
        }
    }

    private static final Backend REFERENCE = new ReferenceBackend();
    private static final Backend SIMD = new SimdBackend(WorkerPool.shared());

    private static Stream<Fixture> selected() {
        String only = System.getProperty("fixture.ops", "");
        List<String> ops = only.isBlank() ? List.of() : List.of(only.split(","));
        return Fixture.all().stream().filter(f -> ops.isEmpty() || ops.contains(f.op()));
    }

    /** Runs the op on the fixture's inputs; returns the inputs (leaves or constants) and the output. */
    static Variable run(FixtureOps.Spec spec, Fixture f, Map<String, Variable> inputs) {
        for (String name : f.inputNames()) {
            Tensor t = f.input(name);
            inputs.put(name, f.hasGrad(name) ? Variable.leaf(t) : Variable.constant(t));
        }
        return spec.fn().apply(inputs, f);
    }

    static void compareWithFixture(Fixture f, FixtureOps.Spec spec) {
        Map<String, Variable> inputs = new LinkedHashMap<>();
        Variable out = run(spec, f, inputs);
        check(f.name() + " output", out.data(), f.output(), spec);
        if (out.requiresGrad()) {
            out.backward(f.gradOutput());
        }
        for (String name : f.inputNames()) {
            if (!f.hasGrad(name)) {
                continue;
            }
            Tensor got = inputs.get(name).grad();
            Tensor want = f.grad(name);
            check(f.name() + " grad." + name, got == null ? Tensor.zeros(want.shape()) : got, want, spec);
        }
    }

    private static void check(String what, Tensor got, Tensor want, FixtureOps.Spec spec) {
        AllClose r = AllClose.check(what, got, want, Math.max(spec.atol(), 1e-7), spec.rtol());
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureOpIsImplemented() {
        return selected().map(Fixture::op).distinct().map(op -> DynamicTest.dynamicTest(op,
                () -> assertThat(OPS).as("no Java op registered for fixture op '%s'", op).containsKey(op)));
    }

    @TestFactory
    Stream<DynamicTest> matchesPyTorchOnTheReferenceBackend() {
        return selected().filter(f -> OPS.containsKey(f.op())).map(f -> DynamicTest.dynamicTest(f.name(), () -> {
            try (var ignored = Backends.useCpu(REFERENCE)) {
                compareWithFixture(f, OPS.get(f.op()));
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> matchesPyTorchOnTheSimdBackend() {
        return selected().filter(f -> OPS.containsKey(f.op())).map(f -> DynamicTest.dynamicTest(f.name(), () -> {
            try (var ignored = Backends.useCpu(SIMD)) {
                compareWithFixture(f, OPS.get(f.op()));
            }
        }));
    }

    /**
     * The double-precision finite-difference check: step and tolerances. Every case agrees to ≤ 1.2e-8 (measured);
     * the tolerances leave a factor ≈ 10 of margin and stay far below any wrong gradient.
     */
    static final double FD_EPS = 1e-6, FD_ATOL = 1e-7, FD_RTOL = 1e-6;

    /** Ops whose gradient is deliberately not the derivative of their value; their fixtures pin the gradient. */
    private static final List<String> GRADIENT_ROUTING = List.of("straight_through", "stop_gradient");

    @TestFactory
    Stream<DynamicTest> finiteDifferencesAgreeWithBackward() {
        return selected().filter(f -> OPS.containsKey(f.op()) && !GRADIENT_ROUTING.contains(f.op())).map(f -> DynamicTest.dynamicTest(f.name(), () -> {
            FixtureOps.Spec spec = OPS.get(f.op());
            List<String> names = f.inputNames();
            Tensor[] inputs = new Tensor[names.size()];
            boolean[] diff = new boolean[names.size()];
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = f.input(names.get(i));
                diff[i] = f.hasGrad(names.get(i)) && inputs[i].dtype() == DType.F32;
            }
            GradCheck.Result r = GradCheck.check(f.name(), vars -> {
                Map<String, Variable> byName = new LinkedHashMap<>();
                for (int i = 0; i < vars.length; i++) {
                    byName.put(names.get(i), vars[i]);
                }
                return spec.fn().apply(byName, f);
            }, inputs, diff, FD_EPS, FD_ATOL, FD_RTOL, 24, 99);
            assertThat(r.ok()).as(r.message()).isTrue();
        }));
    }
}
