package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.random.Rng;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small, fully deterministic training run (MLP with dropout, AdamW, clipping, warm-up + lin0) used by the resume
 * tests; {@link #main} continues a run from a checkpoint in a separate JVM.
 */
final class TinyTraining {

    static final int TOTAL = 12;

    final Rng dropoutRng = new Rng(5);
    final Sequential model;
    final ParameterStore store;
    final AdamW optimizer;
    final Schedule schedule = new Schedule(Schedule.Kind.LIN0, 3e-2, 3, TOTAL, 0.005, 0.1, 0.05, 0.05);

    TinyTraining() {
        Rng init = new Rng(1);
        model = new Sequential(new Linear(6, 32, true, init), new Dropout(0.2f, dropoutRng), new Gelu(),
                new LayerNorm(32, 1e-5f, true), new Linear(32, 4, true, init));
        store = new ParameterStore(model, ParameterStore.varNoDecay(model), Device.CPU);
        optimizer = AdamW.var(store);
    }

    /** The GELU activation as a layer (only for this test model). */
    static final class Gelu extends Module implements Layer {
        @Override
        public Variable forward(Variable x) {
            return F.gelu(x);
        }
    }

    /** Trains steps [from, to) and returns their losses; the batch of step s depends only on s. */
    float[] train(int from, int to) {
        float[] losses = new float[to - from];
        for (int step = from; step < to; step++) {
            Rng data = new Rng(1000 + step);
            float[] xs = data.normalArray(16 * 6, 0, 1);
            Tensor x = Tensor.of(xs, 16, 6);
            int[] labels = new int[16]; // a learnable rule: the signs of the first two features
            for (int i = 0; i < 16; i++) {
                labels[i] = (xs[6 * i] > 0 ? 1 : 0) + (xs[6 * i + 1] > 0 ? 2 : 0);
            }
            store.zeroGrad();
            Variable loss = F.crossEntropy(model.forward(Variable.constant(x)), Tensor.ofInts(labels, 16),
                    Tensor.full(1f / 16, 16), 0f);
            loss.backward();
            optimizer.step((float) schedule.lr(step), (float) schedule.weightDecay(step), 2f);
            losses[step - from] = loss.data().item();
        }
        return losses;
    }

    void save(Path file, int nextStep) throws Exception {
        Map<String, String> state = new HashMap<>();
        state.put("next_step", Integer.toString(nextStep));
        state.put("rng.dropout", Long.toString(dropoutRng.offset()));
        Checkpoint.save(file, model, optimizer, state);
    }

    int load(Path file) throws Exception {
        Map<String, String> state = Checkpoint.load(file, model, optimizer);
        dropoutRng.seek(Long.parseLong(state.get("rng.dropout")));
        return Integer.parseInt(state.get("next_step"));
    }

    /** The flat parameters after training. */
    float[] weights() {
        return store.params().toFloatArray();
    }

    /** args: checkpoint, result file. Loads, trains to {@link #TOTAL}, writes losses and weights. */
    public static void main(String[] args) throws Exception {
        TinyTraining t = new TinyTraining();
        int next = t.load(Path.of(args[0]));
        float[] losses = t.train(next, TOTAL);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("losses", Tensor.of(losses, losses.length));
        out.put("weights", t.store.params());
        SafeTensors.write(Path.of(args[1]), out, Map.of());
    }
}
