package dev.mvarj.nn;

import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The parameters of a model in one flat storage, with their gradients and the two AdamW moments in three more:
 * every parameter becomes a view. Parameters that take weight decay come first, those that do not (biases, norms,
 * embeddings by default) after them, so zeroing, clipping and the optimiser step are one or two flat passes.
 */
public final class ParameterStore {

    /** One parameter: its name, variable, position in the flat storages and whether it takes weight decay. */
    public record Entry(String name, Variable variable, int offset, int numel, boolean decay) {
    }

    private final List<Entry> entries;
    private final Tensor params, grads, expAvg, expAvgSq;
    private final int size, decaySize;

    /**
     * Moves the parameters of {@code model} into flat storage on {@code device}.
     *
     * @param noDecay which parameter names take no weight decay
     */
    public ParameterStore(Module model, Predicate<String> noDecay, Device device) {
        List<Map.Entry<String, Variable>> decay = new ArrayList<>(), plain = new ArrayList<>();
        model.namedParameters().entrySet().forEach(e -> (noDecay.test(e.getKey()) ? plain : decay).add(e));
        long total = 0, decayTotal = 0;
        for (var e : decay) {
            decayTotal += e.getValue().data().numel();
        }
        total = decayTotal;
        for (var e : plain) {
            total += e.getValue().data().numel();
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model has " + total + " parameters, more than one storage can hold");
        }
        this.size = (int) total;
        this.decaySize = (int) decayTotal;
        this.params = Tensor.zeros(device, DType.F32, size);
        this.grads = Tensor.zeros(device, DType.F32, size);
        this.expAvg = Tensor.zeros(device, DType.F32, size);
        this.expAvgSq = Tensor.zeros(device, DType.F32, size);
        List<Entry> list = new ArrayList<>();
        int offset = 0;
        Backend backend = params.backend();
        for (List<Map.Entry<String, Variable>> group : List.of(decay, plain)) {
            for (var e : group) {
                Variable v = e.getValue();
                int n = v.data().numel();
                int[] shape = v.shape();
                Tensor view = params.slice(0, offset, offset + n).reshape(shape);
                backend.copy(view, v.data().to(device));
                v.setData(view);
                v.setGrad(grads.slice(0, offset, offset + n).reshape(shape));
                list.add(new Entry(e.getKey(), v, offset, n, group == decay));
                offset += n;
            }
        }
        this.entries = Collections.unmodifiableList(list);
    }

    /**
     * VAR's rule (docs/model.md#optimisation): no weight decay for 1-D parameters (biases, norm weights, per-head scales) and for
     * position/level embeddings and start tokens.
     */
    public static Predicate<String> varNoDecay(Module model) {
        Map<String, Variable> named = model.namedParameters();
        List<String> keys = List.of("pos_1LC", "pos_start", "lvl_embed", "scale_mul", "ada_gss", "gamma", "beta",
                "cls_token", "start_token", "task_token", "cfg_uncond", "pos_embed", "start_pos", "moe_bias");
        return name -> named.get(name).rank() <= 1 || name.endsWith(".bias") || keys.stream().anyMatch(name::contains);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** Total number of parameters. */
    public int size() {
        return size;
    }

    /** Number of leading elements that take weight decay. */
    public int decaySize() {
        return decaySize;
    }

    public Tensor params() {
        return params;
    }

    public Tensor grads() {
        return grads;
    }

    /** AdamW's first moment (PyTorch: exp_avg). */
    public Tensor expAvg() {
        return expAvg;
    }

    /** AdamW's second moment (PyTorch: exp_avg_sq). */
    public Tensor expAvgSq() {
        return expAvgSq;
    }

    /** Sets every gradient to zero (one flat fill). */
    public void zeroGrad() {
        grads.backend().fill(grads, 0f);
    }

    /** The global L2 norm of all gradients. */
    public double gradNorm() {
        return Math.sqrt(grads.backend().sumOfSquares(grads, size));
    }
}
