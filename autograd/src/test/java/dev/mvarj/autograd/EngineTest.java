package dev.mvarj.autograd;

import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EngineTest {

    @Test
    void gradientsOfADiamondAccumulate() {
        // y = x·x + x·3  ->  dy/dx = 2x + 3
        Variable x = Variable.leaf(Tensor.of(new float[]{1, -2, 0.5f}, 3));
        Variable y = F.add(F.mul(x, x), F.mul(x, 3f));
        F.sum(y).backward();
        assertThat(x.grad().toFloatArray()).containsExactly(5f, -1f, 4f);
    }

    @Test
    void leafGradientsAccumulateAcrossBackwardCalls() {
        Variable x = Variable.leaf(Tensor.of(new float[]{2}, 1));
        F.sum(F.mul(x, 4f)).backward();
        F.sum(F.mul(x, 4f)).backward();
        assertThat(x.grad().toFloatArray()).containsExactly(8f);
        x.zeroGrad();
        assertThat(x.grad()).isNull();
    }

    @Test
    void broadcastGradientsAreSummedBackToTheInputShape() {
        Variable a = Variable.leaf(Tensor.ones(2, 3));
        Variable b = Variable.leaf(Tensor.ones(3));
        Variable c = Variable.leaf(Tensor.ones(2, 1));
        F.sum(F.add(F.add(a, b), c)).backward();
        assertThat(b.grad().shape()).containsExactly(3);
        assertThat(b.grad().toFloatArray()).containsExactly(2, 2, 2);
        assertThat(c.grad().toFloatArray()).containsExactly(3, 3);
    }

    @Test
    void gradModeOffRecordsNothing() {
        Variable x = Variable.leaf(Tensor.ones(2));
        Variable y;
        try (var g = GradMode.off()) {
            y = F.exp(x);
            assertThat(GradMode.isEnabled()).isFalse();
        }
        assertThat(GradMode.isEnabled()).isTrue();
        assertThat(y.requiresGrad()).isFalse();
        assertThat(y.isLeaf()).isTrue();
        assertThatThrownBy(() -> F.sum(y).backward()).hasMessageContaining("does not require a gradient");
    }

    @Test
    void detachCutsTheGraph() {
        Variable x = Variable.leaf(Tensor.ones(2));
        Variable y = F.mul(F.exp(x).detach(), x);
        F.sum(y).backward();
        assertThat(x.grad().toFloatArray()).containsExactly((float) Math.E, (float) Math.E);
    }

    @Test
    void backwardTwiceThroughTheSameGraphIsAClearError() {
        Variable x = Variable.leaf(Tensor.ones(2));
        Variable y = F.sum(F.exp(x));
        y.backward();
        assertThatThrownBy(y::backward).hasMessageContaining("second time");
    }

    @Test
    void savedTensorsAreReleasedAfterBackward() {
        Variable x = Variable.leaf(Tensor.ones(64, 64));
        Variable h = F.exp(x);
        WeakReference<Tensor> saved = new WeakReference<>(h.data()); // exp saves its output
        Variable loss = F.sum(F.mul(h, h));
        h = null;
        loss.backward();
        for (int i = 0; i < 20 && saved.get() != null; i++) {
            System.gc();
        }
        assertThat(saved.get()).as("the output of exp, saved for backward, is unreachable after backward").isNull();
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Variable x = Variable.leaf(Tensor.ones(1));
        Variable y = x;
        for (int i = 0; i < 20_000; i++) {
            y = F.add(y, 1f);
        }
        F.sum(y).backward();
        assertThat(x.grad().toFloatArray()).containsExactly(1f);
    }

    @Test
    void gradientShapeMustMatchTheOutput() {
        Variable x = Variable.leaf(Tensor.ones(2, 3));
        Variable y = F.exp(x);
        assertThatThrownBy(() -> y.backward(Tensor.ones(3, 2))).hasMessageContaining("[3, 2]")
                .hasMessageContaining("[2, 3]");
        assertThatThrownBy(y::backward).hasMessageContaining("one-element");
    }

    @Test
    void graphMemoryCountsActivationsUntilBackwardReleasesThem() {
        long before = GraphMemory.liveBytes();
        GraphMemory.resetPeak();
        Variable x = Variable.leaf(Tensor.ones(100, 100));
        Variable h = F.exp(x);                       // 40,000 bytes
        Variable r = F.reshape(h, 10_000);           // a view: the same storage, counted once
        Variable loss = F.sum(F.mul(r, r));          // 40,000 + 4 bytes
        assertThat(GraphMemory.liveBytes() - before).isEqualTo(40_000 + 40_000 + 4);
        loss.backward();
        assertThat(GraphMemory.liveBytes()).isEqualTo(before);
        assertThat(GraphMemory.peakBytes() - before).isEqualTo(80_004);
        try (var g = GradMode.off()) {
            F.exp(x);
        }
        assertThat(GraphMemory.liveBytes()).isEqualTo(before);
    }
}
