package dev.mvarj.mvar.vq;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The fixtures of {@code tools/gen_vq_fixtures.py} (mvar/src/test/resources/fixtures/vq) and a tensor comparison. */
final class VqFixtures {

    private VqFixtures() {
    }

    record Case(String name, JsonObject params, SafeTensors.Contents contents) {
        Tensor get(String key) {
            return contents.get(key);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Every fixture whose file name starts with {@code prefix}. */
    static List<Case> load(String prefix) {
        try {
            Path dir = Paths.get(VqFixtures.class.getResource("/fixtures/vq").toURI());
            try (Stream<Path> files = Files.list(dir)) {
                List<Path> paths = files.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
                assertThat(paths).as("fixtures " + prefix + "* in " + dir).isNotEmpty();
                return paths.stream().map(p -> {
                    try {
                        SafeTensors.Contents c = SafeTensors.read(p);
                        return new Case(c.metadata().get("case"),
                                JsonParser.parseString(c.metadata().get("params")).getAsJsonObject(), c);
                    } catch (Exception e) {
                        throw new IllegalStateException(p.toString(), e);
                    }
                }).toList();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot list the VQ fixtures", e);
        }
    }

    /** |actual − expected| ≤ atol + rtol·|expected| everywhere; the message gives the max error and where. */
    static void assertClose(String what, Tensor actual, Tensor expected, double atol, double rtol) {
        assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
        float[] a = actual.contiguous().toFloatArray(), e = expected.contiguous().toFloatArray();
        double worst = 0;
        int at = -1;
        for (int i = 0; i < a.length; i++) {
            double err = Math.abs(a[i] - e[i]) - rtol * Math.abs(e[i]);
            if (!(err <= atol) && (at < 0 || err > worst)) {
                worst = err;
                at = i;
            }
        }
        assertThat(at).as("%s: %s elements differ beyond atol %.1e + rtol %.1e; worst at flat index %d: %s vs %s",
                what, at < 0 ? 0 : "some", atol, rtol, at, at < 0 ? "" : a[at], at < 0 ? "" : e[at]).isEqualTo(-1);
    }
}
