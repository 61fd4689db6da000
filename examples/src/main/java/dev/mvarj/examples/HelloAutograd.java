package dev.mvarj.examples;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.nn.AdamW;
import dev.mvarj.nn.Linear;
import dev.mvarj.nn.ParameterStore;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.util.Locale;

/**
 * The first program to read: a two-layer MLP learns y = sin(3x) · x on [−1, 1] with autograd and AdamW.
 * Run it with {@code ./mvarj example hello}.
 */
public final class HelloAutograd {

    public static void main(String[] args) {
        Rng rng = new Rng(0);
        Linear fc1 = new Linear(1, 64, true, rng), fc2 = new Linear(64, 1, true, rng);
        // both layers' parameters in one flat storage, optimised together
        var model = new dev.mvarj.nn.Sequential(fc1, fc2);
        ParameterStore params = new ParameterStore(model, name -> name.endsWith("bias"), Device.CPU);
        AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f);

        float[] xs = new float[256], ys = new float[256];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = -1f + 2f * i / (xs.length - 1);
            ys[i] = (float) (Math.sin(3 * xs[i]) * xs[i]);
        }
        Variable x = Variable.constant(Tensor.of(xs, 256, 1)), y = Variable.constant(Tensor.of(ys, 256, 1));

        for (int step = 1; step <= 1000; step++) {
            params.zeroGrad();
            Variable pred = fc2.forward(F.gelu(fc1.forward(x)));   // (256,1) -> (256,64) -> (256,1)
            Variable loss = F.mse(pred, y);                           // mean squared error, a scalar
            loss.backward();                                          // gradients into the flat storage
            opt.step(1e-2f, 0f, 0f);                                  // AdamW, no decay, no clipping
            if (step == 1 || step % 100 == 0) {
                System.out.printf(Locale.ROOT, "step %4d  loss %.6f%n", step, loss.data().item());
            }
        }
    }
}
