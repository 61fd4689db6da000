package dev.mvarj.autograd;

import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The one-node l2 normalisation on both sides of its clamp (the PyTorch fixture covers rows of norm ≫ eps only):
 * a row whose norm is below eps is divided by eps and its gradient is g / eps; the others are projected.
 */
class L2NormalizeTest {

    @Test
    void rowsBelowAndAboveTheClampHaveTheirFiniteDifferenceGradients() {
        float eps = 0.5f;
        Tensor x = Tensor.of(new float[]{
                0.10f, -0.20f, 0.05f, 0.15f, 0.10f,        // norm 0.29 < eps: clamped
                0.90f, -0.40f, 0.30f, 0.70f, -0.20f,       // norm 1.27
                -1.50f, 0.25f, 2.00f, -0.35f, 0.60f,       // norm 2.62
                0f, 0f, 0f, 0f, 0f}, 4, 5);                 // a zero row: no division by its norm
        GradCheck.Result r = GradCheck.check("l2_normalize clamp", v -> F.l2Normalize(v[0], -1, eps),
                new Tensor[]{x}, new boolean[]{true}, 1e-6, 1e-7, 1e-6, 20, 5);
        assertThat(r.ok()).as(r.message()).isTrue();

        Variable leaf = Variable.leaf(x);
        Variable y = F.l2Normalize(leaf, 1, eps);
        Tensor g = Tensor.of(new float[]{1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5}, 4, 5);
        y.backward(g);
        float[] out = y.data().toFloatArray(), dx = leaf.grad().toFloatArray();
        assertThat(out[0]).isCloseTo(0.10f / eps, within(1e-6f));
        assertThat(dx[1]).as("clamped row: g / eps").isCloseTo(2f / eps, within(1e-5f));
        assertThat(dx[15]).as("zero row: g / eps").isCloseTo(1f / eps, within(1e-5f));
        double dot = 0;
        for (int j = 0; j < 5; j++) {
            dot += dx[5 + j] * out[5 + j];
        }
        assertThat(dot).as("above the clamp the gradient is orthogonal to y").isCloseTo(0, within(1e-5));
    }
}
