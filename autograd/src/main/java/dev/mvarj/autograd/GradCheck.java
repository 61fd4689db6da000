package dev.mvarj.autograd;

import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.random.Rng;

import java.util.function.Function;

/**
 * Finite-difference gradient check on the {@link ReferenceBackend}.
 *
 * <p>The scalar probed is {@code L(x) = Σ r ⊙ f(x)} for a fixed random {@code r}, accumulated in double; each probed
 * input element is perturbed by ±eps and {@code (L(x+eps) − L(x−eps)) / 2eps} is compared with the gradient that
 * backward computes for the upstream gradient r. The engine's dtype is float32, so the perturbed evaluations are
 * float32 kernels that accumulate in double (the reference backend's rule); eps must be large enough (≈1e-2)
 * that float rounding of the outputs stays far below the tolerance.
 */
public final class GradCheck {

    private GradCheck() {
    }

    /** The outcome: whether every probed element agreed, and a report with the worst elements. */
    public record Result(boolean ok, double maxAbsError, String message) {
    }

    /**
     * @param f          the function under test
     * @param inputs     its inputs; I32 inputs and those with {@code differentiable[i] == false} are constants
     * @param maxProbes  the most elements probed per input (evenly spaced, always including the first and last)
     */
    public static Result check(String name, Function<Variable[], Variable> f, Tensor[] inputs, boolean[] differentiable,
                               double eps, double atol, double rtol, int maxProbes, long seed) {
        try (var ignored = Backends.useCpu(new ReferenceBackend())) {
            Variable[] leaves = new Variable[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                boolean diff = differentiable[i] && inputs[i].dtype() == DType.F32;
                leaves[i] = diff ? Variable.leaf(inputs[i].contiguous()) : Variable.constant(inputs[i]);
            }
            Variable out = f.apply(leaves);
            float[] r = new Rng(seed).normalArray(out.data().numel(), 0f, 1f);
            out.backward(Tensor.of(r, out.shape()));

            StringBuilder report = new StringBuilder(name);
            boolean ok = true;
            double worst = 0;
            for (int i = 0; i < inputs.length; i++) {
                if (!leaves[i].requiresGrad()) {
                    continue;
                }
                float[] x = leaves[i].data().toFloatArray();
                Tensor analyticT = leaves[i].grad();
                float[] analytic = analyticT == null ? new float[x.length] : analyticT.toFloatArray();
                int probes = Math.min(maxProbes, x.length);
                for (int p = 0; p < probes; p++) {
                    int j = probes == 1 ? 0 : (int) ((long) p * (x.length - 1) / (probes - 1));
                    // the float32 steps actually taken, so rounding of x ± eps does not bias the quotient
                    double up = (float) (x[j] + eps) - (double) x[j], down = (float) (x[j] - eps) - (double) x[j];
                    double num = (probe(f, leaves, i, x, j, eps, r) - probe(f, leaves, i, x, j, -eps, r)) / (up - down);
                    double err = Math.abs(num - analytic[j]);
                    worst = Math.max(worst, err);
                    if (!(err <= atol + rtol * Math.abs(num))) {
                        ok = false;
                        report.append(String.format("%n  input %d element %d: finite difference %.6g, backward %.6g",
                                i, j, num, analytic[j]));
                    }
                }
            }
            report.insert(name.length(), String.format(": max |finite difference − backward| = %.3g (atol %.1g, rtol %.1g)",
                    worst, atol, rtol));
            return new Result(ok, worst, report.toString());
        }
    }

    /** L = Σ r ⊙ f(x with x_i[j] += delta), in double. */
    private static double probe(Function<Variable[], Variable> f, Variable[] leaves, int i, float[] x, int j,
                                double delta, float[] r) {
        float[] moved = x.clone();
        moved[j] = (float) (x[j] + delta);
        Variable[] args = leaves.clone();
        args[i] = Variable.constant(Tensor.of(moved, leaves[i].shape()));
        float[] y;
        try (var ignored = GradMode.off()) {
            y = f.apply(args).data().toFloatArray();
        }
        double l = 0;
        for (int k = 0; k < y.length; k++) {
            l += (double) r[k] * y[k];
        }
        return l;
    }
}
