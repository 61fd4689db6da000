package dev.mvarj.nn;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each layer against the torch.nn layer of the same name: parameters loaded by their state-dict names, output and
 * every gradient compared (fixtures from tools/gen_nn_fixtures.py).
 */
class LayerFixtureTest {

    /** Builds the layer from its constructor params, and runs it on the fixture's input. */
    record LayerCase(Function<JsonObject, Module> build, BiFunction<Module, SafeTensors.Contents, Variable[]> run) {
    }

    private static Variable[] onX(Module m, SafeTensors.Contents c) {
        Variable x = Variable.leaf(c.get("input.x"));
        return new Variable[]{((Layer) m).forward(x), x};
    }

    private static final Map<String, LayerCase> LAYERS = Map.of(
            "linear", new LayerCase(p -> new Linear(p.get("in").getAsInt(), p.get("out").getAsInt(),
                    p.get("bias").getAsBoolean(), new Rng(0)), LayerFixtureTest::onX),
            "layer_norm", new LayerCase(p -> new LayerNorm(p.get("dim").getAsInt(), p.get("eps").getAsFloat(),
                    p.get("affine").getAsBoolean()), LayerFixtureTest::onX),
            "conv2d", new LayerCase(p -> new Conv2d(p.get("in").getAsInt(), p.get("out").getAsInt(),
                    p.get("kernel").getAsInt(), p.get("stride").getAsInt(), p.get("padding").getAsInt(), true, new Rng(0)),
                    LayerFixtureTest::onX),
            "group_norm", new LayerCase(p -> new GroupNorm(p.get("groups").getAsInt(), p.get("channels").getAsInt(),
                    p.get("eps").getAsFloat()), LayerFixtureTest::onX),
            "embedding", new LayerCase(p -> new Embedding(p.get("count").getAsInt(), p.get("dim").getAsInt(), new Rng(0)),
                    (m, c) -> new Variable[]{((Embedding) m).forward(c.get("input.index")), null}));

    @TestFactory
    Stream<DynamicTest> layersMatchTorchNn() throws Exception {
        Path dir = Paths.get(getClass().getResource("/fixtures").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("layer__")).sorted().toList().stream()
                    .map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(SafeTensors.read(f))));
        }
    }

    private static void check(SafeTensors.Contents c) {
        String layer = c.metadata().get("layer");
        assertThat(LAYERS).as("no layer registered for fixture layer '%s'", layer).containsKey(layer);
        LayerCase lc = LAYERS.get(layer);
        Module m = lc.build().apply(JsonParser.parseString(c.metadata().get("params")).getAsJsonObject());
        Map<String, Variable> params = m.namedParameters();
        long inFile = c.tensors().keySet().stream().filter(k -> k.startsWith("param.")).count();
        assertThat(params).as("parameter names").hasSize((int) inFile);
        params.forEach((name, v) -> v.setData(c.get("param." + name)));
        Variable[] outAndX = lc.run().apply(m, c);
        assertClose("output", outAndX[0].data(), c.get("output"));
        outAndX[0].backward(c.get("grad_output"));
        if (outAndX[1] != null) {
            assertClose("grad.x", outAndX[1].grad(), c.get("grad.x"));
        }
        params.forEach((name, v) -> assertClose("grad.param." + name, v.grad(), c.get("grad.param." + name)));
    }

    private static void assertClose(String what, Tensor got, Tensor want) {
        AllClose r = AllClose.check(what, got, want, 2e-5, 2e-5);
        assertThat(r.ok()).as(r.message()).isTrue();
    }
}
