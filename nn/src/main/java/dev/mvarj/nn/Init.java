package dev.mvarj.nn;

import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

/** Parameter initialisers, seeded through {@link Rng} so that a model is the same on every machine. */
public final class Init {

    private Init() {
    }

    /**
     * Normal(0, std) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_; VAR uses the defaults
     * a = −2, b = 2), by redrawing out-of-range values.
     */
    public static Tensor truncNormal(Rng rng, float std, float a, float b, int... shape) {
        int n = Shape.numel(shape);
        float[] out = rng.normalArray(n, 0f, std);
        for (int i = 0; i < n; i++) {
            while (out[i] < a || out[i] > b) {
                out[i] = rng.normalArray(1, 0f, std)[0];
            }
        }
        return Tensor.of(out, shape);
    }

    public static Tensor truncNormal(Rng rng, float std, int... shape) {
        return truncNormal(rng, std, -2f, 2f, shape);
    }

    /** U(−bound, bound). */
    public static Tensor uniform(Rng rng, float bound, int... shape) {
        return rng.uniform(-bound, bound, shape);
    }

    /**
     * PyTorch's default for Linear and Conv2d weights and biases: kaiming_uniform(a = √5) on the weight, which is
     * U(−1/√fan_in, 1/√fan_in), and the same bound for the bias.
     */
    public static Tensor pytorchDefault(Rng rng, int fanIn, int... shape) {
        return uniform(rng, (float) (1.0 / Math.sqrt(fanIn)), shape);
    }
}
