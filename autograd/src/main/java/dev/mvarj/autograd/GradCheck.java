package dev.mvarj.autograd;

import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.random.Rng;

import java.util.function.Function;

/**
 * Finite-difference gradient check in double precision on the {@link ReferenceBackend}, as
 * {@code torch.autograd.gradcheck} with float64 inputs.
 *
 * <p>Every floating-point input is converted to F64 and the function runs in F64 (the reference kernels compute the
 * same loops for F32 and F64). The scalar probed is {@code L(x) = Σ r ⊙ f(x)} for a fixed random {@code r}; each
 * probed input element is moved by ±eps and {@code (L(x+eps) − L(x−eps)) / 2eps} is compared with the gradient that
 * backward computes for the upstream gradient r. With eps ≈ 1e-6 the truncation error (≈ eps² f‴) and the rounding
 * error (≈ 1e-16 |L| / eps) both stay near 1e-10, so tolerances of 1e-6 separate a right backward from a wrong one
 * by orders of magnitude.
 */
public final class GradCheck {

    private GradCheck() {
    }

    /** The outcome: whether every probed element agreed, and a report with the worst elements. */
    public record Result(boolean ok, double maxAbsError, String message) {
    }

    /**
     * @param f          the function under test
     * @param inputs     its inputs (F32 or F64, converted to F64; I32 inputs pass unchanged); I32 inputs and those
     *                   with {@code differentiable[i] == false} are constants
     * @param maxProbes  the most elements probed per input (evenly spaced, always including the first and last)
     */
    public static Result check(String name, Function<Variable[], Variable> f, Tensor[] inputs, boolean[] differentiable,
                               double eps, double atol, double rtol, int maxProbes, long seed) {
        try (var ignored = Backends.useCpu(new ReferenceBackend())) {
            Variable[] leaves = new Variable[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                Tensor x = inputs[i].dtype().isFloating() ? inputs[i].to(DType.F64).contiguous() : inputs[i];
                leaves[i] = differentiable[i] && x.dtype() == DType.F64 ? Variable.leaf(x) : Variable.constant(x);
            }
            Variable out = f.apply(leaves);
            if (out.data().dtype() != DType.F64) {
                throw new IllegalStateException(name + ": the function returned " + out.data().dtype()
                        + " for F64 inputs; it must compute in its inputs' dtype to be checked in double");
            }
            double[] r = new Rng(seed).normal(0f, 1f, out.shape()).toDoubleArray();
            out.backward(Tensor.of(r, out.shape()));

            StringBuilder report = new StringBuilder(name);
            boolean ok = true;
            double worst = 0;
            for (int i = 0; i < inputs.length; i++) {
                if (!leaves[i].requiresGrad()) {
                    continue;
                }
                double[] x = leaves[i].data().toDoubleArray();
                Tensor analyticT = leaves[i].grad();
                double[] analytic = analyticT == null ? new double[x.length] : analyticT.toDoubleArray();
                int probes = Math.min(maxProbes, x.length);
                for (int p = 0; p < probes; p++) {
                    int j = probes == 1 ? 0 : (int) ((long) p * (x.length - 1) / (probes - 1));
                    // the steps actually taken, so rounding of x ± eps does not bias the quotient
                    double up = (x[j] + eps) - x[j], down = (x[j] - eps) - x[j];
                    double num = (probe(f, leaves, i, x, j, up, r) - probe(f, leaves, i, x, j, down, r)) / (up - down);
                    double err = Math.abs(num - analytic[j]);
                    worst = Math.max(worst, err);
                    if (!(err <= atol + rtol * Math.abs(num))) {
                        ok = false;
                        report.append(String.format("%n  input %d element %d: finite difference %.10g, backward %.10g",
                                i, j, num, analytic[j]));
                    }
                }
            }
            report.insert(name.length(), String.format(
                    ": max |finite difference − backward| = %.3g (atol %.1g, rtol %.1g)", worst, atol, rtol));
            return new Result(ok, worst, report.toString());
        }
    }

    /** L = Σ r ⊙ f(x with x_i[j] += delta), in double. */
    private static double probe(Function<Variable[], Variable> f, Variable[] leaves, int i, double[] x, int j,
                                double delta, double[] r) {
        double[] moved = x.clone();
        moved[j] = x[j] + delta;
        Variable[] args = leaves.clone();
        args[i] = Variable.constant(Tensor.of(moved, leaves[i].shape()));
        double[] y;
        try (var ignored = GradMode.off()) {
            y = f.apply(args).data().toDoubleArray();
        }
        double l = 0;
        for (int k = 0; k < y.length; k++) {
            l += r[k] * y[k];
        }
        return l;
    }
}
