package dev.mvarj.autograd;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One PyTorch reference case written by {@code tools/gen_fixtures.py}: inputs, a random upstream gradient, the
 * output and the gradient of every differentiable input (see tools/README.md for the convention).
 */
record Fixture(String name, String op, JsonObject params, List<String> inputNames, SafeTensors.Contents contents) {

    static Fixture load(Path file) {
        try {
            SafeTensors.Contents c = SafeTensors.read(file);
            JsonObject params = JsonParser.parseString(c.metadata().get("params")).getAsJsonObject();
            JsonArray names = JsonParser.parseString(c.metadata().get("inputs")).getAsJsonArray();
            List<String> inputs = new ArrayList<>();
            names.forEach(e -> inputs.add(e.getAsString()));
            return new Fixture(c.metadata().get("case"), c.metadata().get("op"), params, inputs, c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every fixture file under test resources, sorted by name. */
    static List<Fixture> all() {
        try {
            Path dir = Paths.get(Fixture.class.getResource("/fixtures").toURI());
            try (Stream<Path> files = Files.list(dir)) {
                return files.filter(p -> p.toString().endsWith(".safetensors")).sorted().map(Fixture::load).toList();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot list the fixtures", e);
        }
    }

    Tensor input(String name) {
        return contents.get("input." + name);
    }

    boolean hasGrad(String name) {
        return contents.tensors().containsKey("grad." + name);
    }

    Tensor grad(String name) {
        return contents.get("grad." + name);
    }

    Tensor output() {
        return contents.get("output");
    }

    Tensor gradOutput() {
        return contents.get("grad_output");
    }

    float param(String key) {
        return params.get(key).getAsFloat();
    }

    int intParam(String key) {
        return params.get(key).getAsInt();
    }

    boolean boolParam(String key) {
        return params.has(key) && params.get(key).getAsBoolean();
    }

    int[] intsParam(String key) {
        JsonArray a = params.getAsJsonArray(key);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
