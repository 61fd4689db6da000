package dev.mvarj.mvar.vq;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;

import static dev.mvarj.mvar.vq.VqFixtures.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Quantizer parity with the float64 PyTorch reference of {@code tools/gen_vq_fixtures.py}
 * (docs/model.md#multi-scale-residual-quantization, docs/model.md#tokenizer-training,
 * docs/model.md#teacher-forcing-from-the-cumulative-reconstruction): same f, codebook and φ weights give identical indices, matching cumulative reconstructions, teacher-forcing
 * input and VQ loss, and matching gradients of the VQ loss w.r.t. the codebook, every φ and f.
 */
class QuantizerParityTest {

    static List<VqFixtures.Case> cases() {
        return VqFixtures.load("quantizer__");
    }

    /** A quantizer with the fixture's hyper-parameters and weights. */
    static ResidualQuantizer build(VqFixtures.Case c) {
        var p = c.params();
        int[] pn = new com.google.gson.Gson().fromJson(p.get("patch_nums"), int[].class);
        ResidualQuantizer q = new ResidualQuantizer(p.get("vocab").getAsInt(), p.get("code_dim").getAsInt(),
                new ScaleSchedule(pn), p.get("beta").getAsFloat(), p.get("quant_resi").getAsFloat(),
                p.get("share_quant_resi").getAsInt(), new Rng(3));
        for (Map.Entry<String, Variable> e : q.namedParameters().entrySet()) {
            Tensor w = c.get("input." + e.getKey());
            e.getValue().data().backend().copy(e.getValue().data(), w);
        }
        return q;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void phiMappingMatchesTheReference(VqFixtures.Case c) {
        int[] expected = new com.google.gson.Gson().fromJson(c.params().get("phi_mapping"), int[].class);
        assertThat(build(c).phiMapping()).containsExactly(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void encodeGivesIdenticalIndicesAndMatchingReconstruction(VqFixtures.Case c) {
        ResidualQuantizer q = build(c);
        ResidualQuantizer.Quantized r = q.quantize(c.get("input.f"));
        assertThat(q.concat(r.indices()).toIntArray()).as("indices").containsExactly(c.get("indices").toIntArray());
        Tensor fhats = c.get("fhats");
        for (int s = 0; s < r.fhats().length; s++) {
            assertClose("fhat after scale " + s, r.fhats()[s], fhats.select(0, s), 2e-5, 1e-5);
        }
        assertClose("decode(indices)", q.fhatFromIndices(q.split(c.get("indices"))), fhats.select(0, fhats.size(0) - 1),
                2e-5, 1e-5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void teacherForcingMatchesTheReference(VqFixtures.Case c) {
        ResidualQuantizer q = build(c);
        assertClose("teacher forcing", q.teacherForcing(q.split(c.get("indices"))), c.get("teacher_forcing"),
                2e-5, 1e-5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void trainingForwardLossAndGradientsMatchTheReference(VqFixtures.Case c) {
        ResidualQuantizer q = build(c);
        Variable f = Variable.leaf(c.get("input.f").copy());
        ResidualQuantizer.Forward fw = q.forward(f);
        assertThat(q.concat(fw.quantized().indices()).toIntArray()).containsExactly(c.get("indices").toIntArray());
        assertClose("vq loss", fw.vqLoss().data(), c.get("vq_loss"), 1e-6, 1e-5);
        assertClose("straight-through output", fw.output().data(), c.get("output"), 2e-5, 1e-5);
        Variable total = F.add(fw.vqLoss(), F.sum(F.mul(fw.output(), Variable.constant(c.get("grad_output")))));
        total.backward();
        assertClose("grad f", f.grad(), c.get("grad.f"), 1e-6, 1e-4);
        for (Map.Entry<String, Variable> e : q.namedParameters().entrySet()) {
            assertClose("grad " + e.getKey(), e.getValue().grad(), c.get("grad." + e.getKey()), 1e-6, 1e-4);
        }
    }
}
