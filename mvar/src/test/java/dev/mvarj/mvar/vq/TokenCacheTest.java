package dev.mvarj.mvar.vq;

import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.mvarj.mvar.vq.VqFixtures.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The token cache: plain and mirrored copies agree with encode / teacherForcing; bad files are named. */
class TokenCacheTest {

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @Test
    void cacheHoldsIndicesTeacherForcingAndLabelsOfBothCopies(@TempDir Path dir) throws Exception {
        VqVae model = new VqVae(VqVaeTest.tiny(), 5);
        ImageDataset data = Shapes.generate(7, 9);
        Path ckpt = dir.resolve("tok.safetensors"), file = dir.resolve("tokens.safetensors");
        model.save(ckpt, null, Map.of());
        TokenCache.build(file, model, ckpt, data, 3, QUIET);

        TokenCache.Data c = TokenCache.read(file);
        assertThat(c.size()).isEqualTo(7);
        assertThat(c.schedule()).isEqualTo(model.config.schedule());
        assertThat(c.vocab()).isEqualTo(64);
        assertThat(c.codeDim()).isEqualTo(8);
        assertThat(c.tokenizer()).isEqualTo(ckpt.toString());
        assertThat(c.plain().indices().shape()).containsExactly(7, 130);
        assertThat(c.plain().teacherForcing().shape()).containsExactly(7, 129, 8);
        assertThat(c.plain().labels().toIntArray()).containsExactly(data.labels());
        assertThat(c.flipped().labels().toIntArray()).containsExactly(data.labels());

        int[] all = {0, 1, 2, 3, 4, 5, 6};
        boolean[] mirror = {true, true, true, true, true, true, true};
        for (boolean flip : new boolean[]{false, true}) {
            Tensor[] idx = model.encode(data.images(all, flip ? mirror : null));
            TokenCache.Split s = flip ? c.flipped() : c.plain();
            assertThat(s.indices().toIntArray()).as("indices, flip " + flip)
                    .containsExactly(model.quantize.concat(idx).toIntArray());
            assertClose("teacher forcing, flip " + flip, s.teacherForcing(), model.teacherForcing(idx), 1e-6, 1e-6);
        }
        // the transformer side rebuilds the decoder from the path in the cache
        VqVae back = VqVae.load(Path.of(c.tokenizer()));
        assertClose("decode through the reloaded tokenizer", back.decode(back.quantize.split(c.plain().indices())),
                model.decode(model.quantize.split(c.plain().indices())), 0, 0);
    }

    @Test
    void readingAMismatchedFileNamesTheFileAndTheProblem(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("broken.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("indices", Tensor.ofInts(new int[2 * 130], 2, 130));
        t.put("teacher_forcing", Tensor.zeros(2, 128, 8));
        t.put("labels", Tensor.ofInts(new int[2], 2));
        t.put("flip.indices", Tensor.ofInts(new int[2 * 130], 2, 130));
        t.put("flip.teacher_forcing", Tensor.zeros(2, 129, 8));
        t.put("flip.labels", Tensor.ofInts(new int[2], 2));
        Map<String, String> meta = Map.of("format", TokenCache.FORMAT, "schedule", "1,2,3,4,6,8", "vocab", "64",
                "code_dim", "8");
        SafeTensors.write(file, t, meta);
        assertThatThrownBy(() -> TokenCache.read(file)).hasMessageContaining(file.toString())
                .hasMessageContaining("teacher_forcing [2, 128, 8]");

        t.put("teacher_forcing", Tensor.zeros(2, 129, 8));
        t.remove("flip.labels");
        SafeTensors.write(file, t, meta);
        assertThatThrownBy(() -> TokenCache.read(file)).hasMessageContaining(file.toString())
                .hasMessageContaining("no tensor 'flip.labels'");
    }
}
