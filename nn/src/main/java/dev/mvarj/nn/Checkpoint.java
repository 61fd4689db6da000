package dev.mvarj.nn;

import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.io.SafeTensorsException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint as one safetensors file: the parameters under their PyTorch names, AdamW's moments under
 * {@code optim.exp_avg.<name>} and {@code optim.exp_avg_sq.<name>}, and in the metadata the optimiser step plus the
 * trainer's state (RNG offsets, data-loader position, the run's config, ...). Written atomically (temporary file,
 * then rename), so a run killed at any moment leaves the previous checkpoint intact.
 */
public final class Checkpoint {

    public static final String FORMAT = "mvarj-checkpoint-1";
    private static final String EXP_AVG = "optim.exp_avg.", EXP_AVG_SQ = "optim.exp_avg_sq.";

    private Checkpoint() {
    }

    /** Writes the model, the optimiser (may be null) and {@code state} (string key/values) to {@code file}. */
    public static void save(Path file, Module model, AdamW optimizer, Map<String, String> state) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.namedParameters().forEach((name, v) -> tensors.put(name, v.data()));
        Map<String, String> meta = new HashMap<>(state);
        meta.put("format", FORMAT);
        if (optimizer != null) {
            for (ParameterStore.Entry e : optimizer.store().entries()) {
                int[] shape = e.variable().shape();
                int from = e.offset(), to = e.offset() + e.numel();
                tensors.put(EXP_AVG + e.name(), optimizer.store().expAvg().slice(0, from, to).reshape(shape));
                tensors.put(EXP_AVG_SQ + e.name(), optimizer.store().expAvgSq().slice(0, from, to).reshape(shape));
            }
            meta.put("optim.step", Integer.toString(optimizer.stepCount()));
        }
        SafeTensors.write(file, tensors, meta);
    }

    /**
     * Loads {@code file} into {@code model} (every parameter must be present with its shape; no extra ones) and,
     * when {@code optimizer} is not null, its moments and step. Returns the stored state.
     */
    public static Map<String, String> load(Path file, Module model, AdamW optimizer) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        if (!FORMAT.equals(c.metadata().get("format"))) {
            throw new SafeTensorsException(file, "not an mvarj checkpoint (metadata format is "
                    + c.metadata().get("format") + ", expected " + FORMAT + ")");
        }
        Map<String, Variable> params = model.namedParameters();
        List<String> problems = new ArrayList<>();
        for (String name : c.tensors().keySet()) {
            if (!name.startsWith("optim.") && !params.containsKey(name)) {
                problems.add("unexpected parameter '" + name + "'");
            }
        }
        params.forEach((name, v) -> {
            Tensor t = c.tensors().get(name);
            if (t == null) {
                problems.add("missing parameter '" + name + "'");
            } else if (!t.sameShape(v.data())) {
                problems.add("parameter '" + name + "' has shape " + Shape.str(t.shape()) + " in the file, the model has "
                        + Shape.str(v.shape()));
            }
        });
        if (optimizer != null) {
            if (!c.metadata().containsKey("optim.step")) {
                problems.add("no optimiser state (written without one)");
            }
            for (String name : params.keySet()) {
                if (!c.tensors().containsKey(EXP_AVG + name) || !c.tensors().containsKey(EXP_AVG_SQ + name)) {
                    problems.add("missing optimiser moments of '" + name + "'");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new SafeTensorsException(file, "does not fit the model: " + String.join("; ", problems.subList(0,
                    Math.min(10, problems.size()))) + (problems.size() > 10 ? "; ... (" + problems.size() + " problems)" : ""));
        }
        params.forEach((name, v) -> v.data().backend().copy(v.data(), c.tensors().get(name).to(v.data().device())));
        if (optimizer != null) {
            ParameterStore s = optimizer.store();
            for (ParameterStore.Entry e : s.entries()) {
                int from = e.offset(), to = e.offset() + e.numel();
                copyInto(s.expAvg().slice(0, from, to), c.tensors().get(EXP_AVG + e.name()));
                copyInto(s.expAvgSq().slice(0, from, to), c.tensors().get(EXP_AVG_SQ + e.name()));
            }
            optimizer.setStepCount(Integer.parseInt(c.metadata().get("optim.step")));
        }
        Map<String, String> state = new HashMap<>(c.metadata());
        state.remove("format");
        state.remove("optim.step");
        return state;
    }

    private static void copyInto(Tensor flatSlice, Tensor value) {
        flatSlice.backend().copy(flatSlice, value.reshape(value.numel()).to(flatSlice.device()));
    }
}
