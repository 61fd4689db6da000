package dev.mvarj.bench;

import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.io.IOException;
import java.util.Locale;

/**
 * The timed phases of the one-command device check ({@code tools/gpu-run.sh}), without JMH: a device slot of a few
 * minutes has no room for JMH's forks and warm-up iterations. Each line it prints is one figure.
 * <pre>
 *   gemm DEVICE SIZE CASES...        GFLOP/s of a SIZE³ product per transpose case (nn, nt, tn, tt)
 *   step DEVICE SIZE MODEL STEPS     a training step of TrainingStepBenchmark (size fashion or d16, model var or
 *                                    mvar, batch 32): the first step, then the mean of STEPS more (0: none)
 * </pre>
 */
public final class DeviceCheck {

    private DeviceCheck() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: DeviceCheck gemm DEVICE SIZE CASES... | step DEVICE SIZE MODEL STEPS");
            System.exit(2);
        }
        Device device = Device.parse(args[1]);
        switch (args[0]) {
            case "gemm" -> {
                int n = Integer.parseInt(args[2]);
                for (int i = 3; i < args.length; i++) {
                    gemm(device, n, args[i]);
                }
            }
            case "step" -> step(device, args[2], args[3], Integer.parseInt(args[4]));
            default -> throw new IllegalArgumentException("gemm or step, got " + args[0]);
        }
    }

    /** C (n, n) = op(A) op(B) for one transpose case: two warm-up products, then at least 3 and 0.5 s of them. */
    static void gemm(Device device, int n, String transpose) {
        boolean ta = transpose.charAt(0) == 't', tb = transpose.charAt(1) == 't';
        Backend be = Backends.forDevice(device);
        Rng rng = new Rng(42);
        Tensor a = rng.uniform(-1, 1, n * n).to(device), b = rng.uniform(-1, 1, n * n).to(device);
        Tensor c = Tensor.zeros(device, n * n);
        Runnable product = () -> be.gemm(ta, tb, 1, n, n, n, 1f, a, n, 0, b, n, 0, 0f, c, n, 0);
        product.run();
        product.run();
        be.synchronize();
        long start = System.nanoTime();
        int reps = 0;
        do {
            product.run();
            be.synchronize();
            reps++;
        } while (reps < 3 || System.nanoTime() - start < 500_000_000L);
        double seconds = (System.nanoTime() - start) / 1e9 / reps;
        System.out.printf(Locale.ROOT, "gemm %s %dx%dx%d on %s: %.3f ms, %.1f GFLOP/s%n", transpose, n, n, n, device,
                seconds * 1e3, 2.0 * n * n * n / seconds / 1e9);
    }

    /** The first step (program builds, buffer pool filling) and the mean of {@code steps} more. */
    static void step(Device device, String size, String model, int steps) throws IOException {
        TransformerTrainer t = TrainingStepBenchmark.trainer(size, model, device, 32);
        long start = System.nanoTime();
        t.step().loss();
        double first = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            t.step().loss();
        }
        double mean = (System.nanoTime() - start) / 1e9 / Math.max(1, steps);
        if (steps == 0) {
            System.out.printf(Locale.ROOT, "step %s %s batch 32 on %s: first step %.1f ms%n", model, size, device,
                    first * 1e3);
        } else {
            System.out.printf(Locale.ROOT, "step %s %s batch 32 on %s: %.1f ms (mean of %d; first step %.1f ms)%n",
                    model, size, device, mean * 1e3, steps, first * 1e3);
        }
    }
}
