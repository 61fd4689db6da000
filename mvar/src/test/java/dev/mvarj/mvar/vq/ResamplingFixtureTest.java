package dev.mvarj.mvar.vq;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.mvarj.mvar.vq.VqFixtures.assertClose;

/**
 * AREA and BICUBIC forward and backward against PyTorch for the ratios the small schedule (1,2,3,4,6,8) on an 8×8
 * latent uses that autograd's fixtures (tools/gen_fixtures.py: area 8→3, 8→6, 8→4, 16→13, 16→10, 8→8; bicubic
 * 8→3, 8→6, 16→13, 13→16, 3→16, 1→8, 8→8) do not already cover: area 8→1, 8→2; bicubic 2→8, 3→8, 4→8, 6→8.
 */
class ResamplingFixtureTest {

    static List<VqFixtures.Case> cases() {
        return VqFixtures.load("resample__");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardAndBackwardMatchPyTorch(VqFixtures.Case c) {
        Variable x = Variable.leaf(c.get("input.x").copy());
        int o = c.params().getAsJsonArray("size").get(0).getAsInt();
        Variable y = c.params().get("mode").getAsString().equals("area") ? F.areaResample(x, o, o)
                : F.bicubicResample(x, o, o);
        assertClose(c.name() + " output", y.data(), c.get("output"), 1e-6, 1e-5);
        Tensor g = c.get("grad_output");
        y.backward(g);
        assertClose(c.name() + " grad", x.grad(), c.get("grad.x"), 1e-6, 1e-5);
    }
}
