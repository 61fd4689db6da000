package dev.mvarj.mvar.vq;

import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A short seeded training run on the shapes set, and bit-exact resume from a checkpoint. */
class TokenizerTrainingTest {

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    static TokenizerTrainer.Settings settings(int steps) {
        return new TokenizerTrainer.Settings(steps, 8, 3e-3, 11, false, 5, 5, 0, 0, 64, 1000, 10, 0.85, 0.03, 64, 2f);
    }

    @Test
    void shortRunOnShapesReducesTheReconstructionLoss(@TempDir Path dir) throws Exception {
        ImageDataset train = Shapes.generate(400, 1), test = Shapes.generate(64, 2);
        TokenizerTrainer t = new TokenizerTrainer(VqVaeTest.tiny(), train, test, settings(80), dir, QUIET);
        TokenizerTrainer.Evaluation before = TokenizerTrainer.evaluate(t.model, test, 64, 32);
        TokenizerTrainer.Result r = t.train(false);
        TokenizerTrainer.Evaluation e = r.evaluation();
        // measured at seed 11: 7.2 dB at initialisation, 13.6 dB after 60 steps of 8 images; threshold: MSE
        // ([0, 1] units) below 0.056 (PSNR 12.5 dB) and at least 3x below its starting value
        assertThat(e.psnr()).as("PSNR after 80 steps (before: %.2f dB)", before.psnr()).isGreaterThan(12.5);
        assertThat(e.mse()).isLessThan(before.mse() / 3);
        for (int s = 1; s < e.latentError().length; s++) {
            assertThat(e.latentError()[s]).as("latent error after scale %d < after scale %d", s, s - 1)
                    .isLessThan(e.latentError()[s - 1]);
        }
        for (String f : new String[]{"tokenizer.safetensors", "metrics.jsonl", "loss.png", "reconstructions.png",
                "eval.json"}) {
            assertThat(dir.resolve(f)).exists();
        }
        assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).anySatisfy(l -> assertThat(l).contains("usage_s5"));
    }

    @Test
    void resumeFromACheckpointIsBitExact(@TempDir Path dir) throws Exception {
        ImageDataset train = Shapes.generate(64, 1), test = Shapes.generate(16, 2);
        TokenizerTrainer.Settings st = settings(12).withCheckpointEvery(1000);
        // 12 steps in one go
        TokenizerTrainer straight = new TokenizerTrainer(VqVaeTest.tiny(), train, test, st, dir.resolve("a"), QUIET);
        straight.train(false);
        // 7 steps (a dead-code check at 10 lies after the break), then a new trainer resumes to 12
        TokenizerTrainer first = new TokenizerTrainer(VqVaeTest.tiny(), train, test, st, dir.resolve("b"), QUIET);
        assertThat(first.train(false, 7)).isNull();
        TokenizerTrainer second = new TokenizerTrainer(VqVaeTest.tiny(), train, test, st, dir.resolve("b"), QUIET);
        second.train(true);
        assertThat(second.stepsTaken()).isEqualTo(12);
        straight.model.namedParameters().forEach((name, v) -> assertThat(
                second.model.namedParameters().get(name).data().toFloatArray()).as(name)
                .containsExactly(v.data().toFloatArray()));
    }
}
