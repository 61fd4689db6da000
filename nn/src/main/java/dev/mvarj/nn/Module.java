package dev.mvarj.nn;

import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.BatchShard;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A trainable component with a named parameter tree, as {@code torch.nn.Module}: parameters and child modules are
 * registered in declaration order and named with PyTorch's dotted paths ({@code blocks.0.attn.mat_qkv.weight}), so
 * checkpoints line up with the reference code's state dicts.
 */
public abstract class Module {

    private final Map<String, Variable> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;
    private BatchShard shard = BatchShard.WHOLE;

    /** Registers a parameter (a leaf that takes gradients) under {@code name}. */
    protected final Variable param(String name, Tensor value) {
        checkName(name);
        Variable v = Variable.leaf(value);
        params.put(name, v);
        return v;
    }

    /** Registers a child module under {@code name}. */
    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".") || params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": bad or duplicate member name '" + name + "'");
        }
    }

    /** Every parameter of this module and its descendants, by dotted name, in declaration order. */
    public final Map<String, Variable> namedParameters() {
        Map<String, Variable> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Variable> out) {
        params.forEach((n, v) -> out.put(prefix + n, v));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    /** The direct children, by name. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** The number of scalar parameters. */
    public final long parameterCount() {
        long n = 0;
        for (Variable v : namedParameters().values()) {
            n += v.data().numel();
        }
        return n;
    }

    /**
     * Where the parameters live (the CPU for a module without any). All parameters share one device: a forward pass
     * places its own constants (position indices, loss weights) there.
     */
    public final Device device() {
        for (Variable v : namedParameters().values()) {
            return v.data().device();
        }
        return Device.CPU;
    }

    /**
     * Moves every parameter to {@code device} (as {@code nn.Module.to}); for inference. Training moves them with a
     * {@link ParameterStore}, which also places the gradients and optimiser state there.
     */
    public Module to(Device device) {
        for (Variable v : namedParameters().values()) {
            v.setData(v.data().to(device));
        }
        return this;
    }

    /** Training mode (dropout and drop path active) for this module and its descendants. */
    public Module train() {
        return setTraining(true);
    }

    /** Evaluation mode (dropout and drop path are identities). */
    public Module eval() {
        return setTraining(false);
    }

    private Module setTraining(boolean on) {
        training = on;
        children.values().forEach(c -> c.setTraining(on));
        return this;
    }

    public final boolean isTraining() {
        return training;
    }

    /**
     * Declares the batches this module and its descendants see to be {@code shard} of a larger batch
     * (data-parallel training, docs/distributed.md): their per-sample random draws are then the part of the whole
     * batch's draws.
     */
    public Module shard(BatchShard s) {
        shard = s;
        children.values().forEach(c -> c.shard(s));
        return this;
    }

    /** The part of a larger batch this module's inputs are ({@link BatchShard#WHOLE} unless set). */
    public final BatchShard batchShard() {
        return shard;
    }
}
