package dev.mvarj.nn;

import com.google.gson.JsonParser;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Ten AdamW steps with clipping, per-step lr and weight decay, against torch.optim.AdamW (tools/gen_nn_fixtures.py). */
class AdamWParityTest {

    /** A module with the fixture's parameter names: fc.weight, fc.bias, scale. */
    static final class Probe extends Module {
        final Holder fc;
        final Variable scale;

        Probe(SafeTensors.Contents c) {
            fc = child("fc", new Holder(c));
            scale = param("scale", c.get("init.scale"));
        }
    }

    static final class Holder extends Module {
        Holder(SafeTensors.Contents c) {
            param("weight", c.get("init.fc.weight"));
            param("bias", c.get("init.fc.bias"));
        }
    }

    private static void assertClose(String what, Tensor got, Tensor want) {
        AllClose r = AllClose.check(what, got, want, 1e-6, 1e-5);
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    @Test
    void tenStepsMatchPyTorch() throws Exception {
        Path file = Paths.get(getClass().getResource("/fixtures/adamw__clip.safetensors").toURI());
        SafeTensors.Contents c = SafeTensors.read(file);
        List<String> noDecay = new ArrayList<>();
        JsonParser.parseString(c.metadata().get("no_decay")).getAsJsonArray().forEach(e -> noDecay.add(e.getAsString()));
        Probe model = new Probe(c);
        ParameterStore store = new ParameterStore(model, noDecay::contains, Device.CPU);
        AdamW opt = new AdamW(store, 0.9f, 0.95f, 1e-8f);
        float[] lr = c.get("lr").toFloatArray(), wd = c.get("wd").toFloatArray();
        float[] norms = c.get("grad_norm").toFloatArray();
        for (int t = 0; t < lr.length; t++) {
            for (var e : model.namedParameters().entrySet()) {
                Tensor g = e.getValue().grad();
                g.backend().copy(g, c.get("grad." + t + "." + e.getKey()));
            }
            double norm = opt.step(lr[t], wd[t], Float.parseFloat(c.metadata().get("max_norm")));
            assertThat(norm).as("grad norm at step %d", t).isCloseTo(norms[t], org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
        for (ParameterStore.Entry e : store.entries()) {
            assertClose(e.name(), e.variable().data(), c.get("final." + e.name()));
            int from = e.offset(), to = from + e.numel();
            assertClose("exp_avg." + e.name(), store.expAvg().slice(0, from, to).reshape(e.variable().shape()),
                    c.get("final.exp_avg." + e.name()));
            assertClose("exp_avg_sq." + e.name(), store.expAvgSq().slice(0, from, to).reshape(e.variable().shape()),
                    c.get("final.exp_avg_sq." + e.name()));
        }
        assertThat(opt.stepCount()).isEqualTo(10);
    }
}
