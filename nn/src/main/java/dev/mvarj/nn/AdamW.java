package dev.mvarj.nn;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Tensor;

/**
 * AdamW with PyTorch's semantics (decoupled weight decay, bias-corrected moments), over a {@link ParameterStore}:
 * one kernel call for the parameters with weight decay and one for those without. Global-norm gradient clipping is
 * folded into the same pass as a gradient scale.
 */
public final class AdamW {

    private final ParameterStore store;
    private final float beta1, beta2, eps;
    private int step;

    public AdamW(ParameterStore store, float beta1, float beta2, float eps) {
        this.store = store;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /** VAR's optimiser: betas (0.9, 0.95), eps 1e-8. */
    public static AdamW var(ParameterStore store) {
        return new AdamW(store, 0.9f, 0.95f, 1e-8f);
    }

    /** The number of steps taken. */
    public int stepCount() {
        return step;
    }

    /** Restores the step count (checkpoints). */
    public void setStepCount(int step) {
        this.step = step;
    }

    public ParameterStore store() {
        return store;
    }

    /**
     * Clips the gradients to global norm {@code maxNorm} (as torch.nn.utils.clip_grad_norm_: scale by
     * maxNorm / (norm + 1e-6) when that is below 1; {@code maxNorm <= 0} disables it) and takes one step.
     *
     * @return the gradient norm before clipping
     */
    public double step(float lr, float weightDecay, float maxNorm) {
        double norm = store.gradNorm();
        float scale = 1f;
        if (maxNorm > 0) {
            double coef = maxNorm / (norm + 1e-6);
            scale = coef < 1 ? (float) coef : 1f;
        }
        step++;
        Tensor p = store.params(), g = store.grads(), m = store.expAvg(), v = store.expAvgSq();
        Backend b = p.backend();
        int d = store.decaySize(), n = store.size();
        if (d > 0) {
            b.adamwStep(p, g, m, v, d, lr, beta1, beta2, eps, weightDecay, step, scale);
        }
        if (n > d) {
            b.adamwStep(p.slice(0, d, n), g.slice(0, d, n), m.slice(0, d, n), v.slice(0, d, n), n - d,
                    lr, beta1, beta2, eps, 0f, step, scale);
        }
        return norm;
    }
}
