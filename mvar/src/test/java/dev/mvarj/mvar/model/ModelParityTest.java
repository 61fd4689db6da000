package dev.mvarj.mvar.model;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tiny VAR and a tiny MVAR against the same models written out by hand in PyTorch (tools/gen_model_fixtures.py):
 * logits, loss and the gradient of every parameter.
 */
class ModelParityTest {

    static TransformerConfig config(JsonObject c) {
        int[] sides = new int[c.getAsJsonArray("sides").size()];
        for (int i = 0; i < sides.length; i++) {
            sides[i] = c.getAsJsonArray("sides").get(i).getAsInt();
        }
        return new TransformerConfig(c.get("depth").getAsInt(), c.get("width").getAsInt(), c.get("heads").getAsInt(),
                c.get("vocab").getAsInt(), c.get("code_dim").getAsInt(), c.get("classes").getAsInt(),
                new ScaleSchedule(sides), 0f, 0f, 1e-3f, c.get("refine_step").getAsInt(), c.get("kernel").getAsInt());
    }

    private static void assertClose(String what, Tensor got, Tensor want, double tol) {
        AllClose r = AllClose.check(what, got, want, tol, tol);
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"var", "mvar"})
    void logitsLossAndEveryGradientMatchPyTorch(String pattern) throws Exception {
        Path file = Paths.get(getClass().getResource("/fixtures/model__" + pattern + ".safetensors").toURI());
        SafeTensors.Contents c = SafeTensors.read(file);
        TransformerConfig cfg = config(JsonParser.parseString(c.metadata().get("config")).getAsJsonObject());
        NextScaleTransformer model = new NextScaleTransformer(cfg, new Rng(0));
        Map<String, Variable> params = model.namedParameters();
        long inFile = c.tensors().keySet().stream().filter(k -> k.startsWith("param.")).count();
        assertThat(params.keySet()).as("parameter names").hasSize((int) inFile);
        params.forEach((name, v) -> v.setData(c.get("param." + name)));

        Tensor labels = c.get("input.labels"), x = c.get("input.x"), targets = c.get("input.targets");
        int S = cfg.schedule().count();
        List<Variable> logits = new ArrayList<>();
        Variable loss;
        if (pattern.equals("var")) {
            logits.add(model.forward(labels, x, 0, S, AttentionPattern.VAR));
            loss = model.loss(logits.get(0), targets, 0, S, 0f);
        } else {
            int R = cfg.refineStep();
            logits.add(model.forward(labels, x, 0, R, AttentionPattern.MVAR));
            loss = model.loss(logits.get(0), targets, 0, R, 0f);
            for (int s = R; s < S; s++) {
                Variable lg = model.forward(labels, x, s, s + 1, AttentionPattern.MVAR);
                logits.add(lg);
                loss = F.add(loss, model.loss(lg, targets, s, s + 1, 0f));
            }
        }
        Variable all = logits.size() == 1 ? logits.get(0) : F.concat(1, logits.toArray(new Variable[0]));
        assertClose("logits", all.data(), c.get("output.logits"), 2e-5);
        assertClose("loss", loss.data(), c.get("output.loss"), 1e-6);
        loss.backward();
        params.forEach((name, v) -> assertClose("grad." + name, v.grad(), c.get("grad." + name), 2e-5));
    }
}
