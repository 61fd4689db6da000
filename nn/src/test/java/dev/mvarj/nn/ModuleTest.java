package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModuleTest {

    private static Sequential mlp() {
        Rng rng = new Rng(3);
        return new Sequential(new Linear(4, 8, true, rng), new LayerNorm(8, 1e-6f, true), new Linear(8, 2, false, rng));
    }

    @Test
    void parametersHavePyTorchDottedNamesInDeclarationOrder() {
        Sequential m = mlp();
        assertThat(m.namedParameters().keySet())
                .containsExactly("0.weight", "0.bias", "1.weight", "1.bias", "2.weight");
        assertThat(m.parameterCount()).isEqualTo(4 * 8 + 8 + 8 + 8 + 8 * 2);
    }

    @Test
    void trainAndEvalReachEveryDescendant() {
        Sequential m = mlp();
        m.eval();
        assertThat(m.children().values()).allMatch(c -> !c.isTraining());
        m.train();
        assertThat(m.children().values()).allMatch(Module::isTraining);
    }

    @Test
    void parameterStoreMakesEveryParameterAViewOfOneFlatStorage() {
        Sequential m = mlp();
        float[] before = m.namedParameters().get("0.weight").data().toFloatArray();
        ParameterStore store = new ParameterStore(m, ParameterStore.varNoDecay(m), Device.CPU);
        assertThat(m.namedParameters().values()).allMatch(v -> v.data().storage() == store.params().storage())
                .allMatch(v -> v.grad().storage() == store.grads().storage());
        assertThat(m.namedParameters().get("0.weight").data().toFloatArray()).containsExactly(before);
        // weights with decay first, then the no-decay ones (biases, norm weights)
        assertThat(store.entries()).extracting(ParameterStore.Entry::name)
                .containsExactly("0.weight", "2.weight", "0.bias", "1.weight", "1.bias");
        assertThat(store.decaySize()).isEqualTo(4 * 8 + 8 * 2);
    }

    @Test
    void backwardAccumulatesIntoTheFlatGradientsAndZeroGradClearsThem() {
        Sequential m = mlp();
        ParameterStore store = new ParameterStore(m, ParameterStore.varNoDecay(m), Device.CPU);
        Variable x = Variable.constant(new Rng(9).normal(0, 1, 5, 4));
        F.sum(m.forward(x)).backward();
        double norm = store.gradNorm();
        assertThat(norm).isPositive();
        F.sum(m.forward(x)).backward();
        assertThat(store.gradNorm()).isCloseTo(2 * norm, org.assertj.core.data.Offset.offset(1e-4 * norm));
        store.zeroGrad();
        assertThat(store.gradNorm()).isZero();
    }

    @Test
    void duplicateNamesAreRejected() {
        assertThatThrownBy(() -> new Module() {
            {
                param("w", Tensor.zeros(1));
                param("w", Tensor.zeros(1));
            }
        }).hasMessageContaining("duplicate");
    }

    @Test
    void scheduleFollowsVarsLin0AndWarmup() {
        Schedule s = new Schedule(Schedule.Kind.LIN0, 1.0, 10, 110, 0.005, 0.1, 0.05, 0.05);
        assertThat(s.lr(0)).isEqualTo(0.005);
        assertThat(s.lr(5)).isCloseTo(0.005 + 0.995 * 0.5, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(s.lr(12)).isEqualTo(1.0);                      // first 5% after warm-up: constant
        assertThat(s.lr(109)).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-12)); // decays to wpe
        Schedule cos = new Schedule(Schedule.Kind.COSINE, 2.0, 0, 11, 0.005, 0.0, 0.05, 0.01);
        assertThat(cos.lr(5)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(cos.weightDecay(10)).isCloseTo(0.01, org.assertj.core.data.Offset.offset(1e-12));
    }
}
