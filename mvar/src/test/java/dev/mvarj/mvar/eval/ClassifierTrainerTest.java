package dev.mvarj.mvar.eval;

import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The classifier of an RGB data set: trained when missing, found when present, refused when it is another's. */
class ClassifierTrainerTest {

    @TempDir
    Path dir;

    @Test
    void ensureTrainsAMissingClassifierThenFindsIt() throws IOException {
        ImageDataset train = Shapes.generate(1024, 1), test = Shapes.generate(128, 2);
        Path file = dir.resolve("sub").resolve("shapes_cnn.safetensors");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        FeatureNet trained = ClassifierTrainer.ensure(file, train, test, new PrintStream(log, true));
        assertThat(log.toString()).contains("no classifier at " + file).contains("test accuracy");
        assertThat(file).isRegularFile();
        assertThat(dir.resolve("sub").resolve("shapes_cnn.metrics.jsonl")).isRegularFile();
        assertThat(dir.resolve("sub").resolve("shapes_cnn.loss.png")).isRegularFile();
        assertThat(trained.config().channels()).isEqualTo(3);
        assertThat(SafeTensors.read(file).metadata()).containsEntry("featurenet.channels", "3")
                .containsEntry("dataset", "shapes");
        // one epoch, 8 steps of 128, already beats chance (10 %) by far on the shapes
        assertThat(ClassifierTrainer.testAccuracy(trained, test)).isGreaterThan(0.3);

        ByteArrayOutputStream second = new ByteArrayOutputStream();
        FeatureNet found = ClassifierTrainer.ensure(file, train, test, new PrintStream(second, true));
        assertThat(second.toString()).isEmpty();
        Tensor x = test.images(ClassifierTrainer.range(16), null);
        assertThat(found.features(x).toFloatArray()).containsExactly(trained.features(x).toFloatArray());
    }

    @Test
    void aClassifierOfAnotherDataSetIsRefused() throws IOException {
        Path file = dir.resolve("grey.safetensors");
        new FeatureNet(new FeatureNet.Config(1, 8, 16, 4, 10), 0).save(file, Map.of());
        ImageDataset rgb = Shapes.generate(64, 1);
        assertThatThrownBy(() -> ClassifierTrainer.ensure(file, rgb, rgb, new PrintStream(new ByteArrayOutputStream())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("takes 1-channel images of 10 classes; shapes has 3 channels");
    }

    @Test
    void theChannelCountTravelsInTheMetadataAndOldFilesAreGrey() {
        FeatureNet.Config c = new FeatureNet.Config(3, 8, 16, 4, 10);
        assertThat(FeatureNet.Config.fromMetadata(c.toMetadata())).isEqualTo(c);
        Map<String, String> old = new HashMap<>(c.toMetadata());
        old.remove("featurenet.channels");
        assertThat(FeatureNet.Config.fromMetadata(old).channels()).isEqualTo(1);
        FeatureNet rgb = new FeatureNet(c, 0);
        assertThat(rgb.features(Tensor.zeros(2, 3, 32, 32)).shape()).containsExactly(2, 16);
        assertThatThrownBy(() -> rgb.features(Tensor.zeros(2, 1, 32, 32)))
                .isInstanceOf(ShapeMismatchException.class).hasMessageContaining("(B, 3, 32, 32), got [2, 1, 32, 32]");
    }

    @Test
    void defaultCheckpointsAreNamedAfterTheDataSet() {
        assertThat(FeatureNet.defaultCheckpoint("fashion-mnist")).isEqualTo(FeatureNet.DEFAULT_CHECKPOINT)
                .hasToString(Path.of("runs", "classifier", "fashion_cnn.safetensors").toString());
        assertThat(FeatureNet.defaultCheckpoint("shapes")).hasFileName("shapes_cnn.safetensors");
        assertThat(ClassifierTrainer.metricsFile(FeatureNet.defaultCheckpoint("shapes")))
                .hasFileName("shapes_cnn.metrics.jsonl");
    }
}
