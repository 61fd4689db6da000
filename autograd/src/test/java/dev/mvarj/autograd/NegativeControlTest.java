package dev.mvarj.autograd;

import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A deliberately wrong backward must fail the same comparisons that pass for the real ops. */
class NegativeControlTest {

    /**
     * mul with a backward that is off by 0.01 % for the first operand: a subtle bug, below the ≈ 1e-3 noise of a
     * float32 finite difference but far above the ≈ 1e-9 of the double-precision check.
     */
    private static Variable mulWithWrongBackward(Variable a, Variable b) {
        Tensor x = a.data(), y = b.data();
        return Engine.record("mul_wrong", x.mul(y), new Variable[]{a, b}, g -> new Tensor[]{
                Engine.sumTo(g.mul(y).mul(1.0001f), x.shape()), Engine.sumTo(g.mul(x), y.shape())});
    }

    private static final FixtureOps.Spec WRONG = new FixtureOps.Spec(
            (in, f) -> mulWithWrongBackward(in.get("a"), in.get("b")), 1e-5, 1e-5);

    @Test
    void aWrongBackwardFailsThePyTorchFixture() {
        Fixture mul = Fixture.all().stream().filter(f -> f.name().equals("mul__broadcast_row")).findFirst().orElseThrow();
        assertThatThrownBy(() -> OpFixtureTest.compareWithFixture(mul, WRONG))
                .isInstanceOf(AssertionError.class).hasMessageContaining("grad.a");
    }

    @Test
    void aWrongBackwardFailsTheFiniteDifferenceCheck() {
        Fixture mul = Fixture.all().stream().filter(f -> f.name().equals("mul__same")).findFirst().orElseThrow();
        GradCheck.Result r = GradCheck.check("mul_wrong", v -> mulWithWrongBackward(v[0], v[1]),
                new Tensor[]{mul.input("a"), mul.input("b")}, new boolean[]{true, true},
                OpFixtureTest.FD_EPS, OpFixtureTest.FD_ATOL, OpFixtureTest.FD_RTOL, 24, 99);
        org.assertj.core.api.Assertions.assertThat(r.ok()).as(r.message()).isFalse();
    }

    @Test
    void theCorrectOpPassesBoth() {
        Fixture mul = Fixture.all().stream().filter(f -> f.name().equals("mul__broadcast_row")).findFirst().orElseThrow();
        OpFixtureTest.compareWithFixture(mul, OpFixtureTest.OPS.get("mul"));
        GradCheck.Result r = GradCheck.check("mul", v -> F.mul(v[0], v[1]),
                new Tensor[]{mul.input("a"), mul.input("b")}, new boolean[]{true, true},
                OpFixtureTest.FD_EPS, OpFixtureTest.FD_ATOL, OpFixtureTest.FD_RTOL, 24, 99);
        org.assertj.core.api.Assertions.assertThat(r.ok()).as(r.message()).isTrue();
    }
}
