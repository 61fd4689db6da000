package dev.mvarj.mvar.eval;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.mvar.data.DataLoader;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.nn.AdamW;
import dev.mvarj.nn.ParameterStore;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The classifier and the evaluator end to end, on grey synthetic shapes (no data set or trained weights needed). */
class FeatureNetEvaluatorTest {

    private static final FeatureNet.Config SMALL = new FeatureNet.Config(1, 8, 32, 4, 10);

    @TempDir
    Path dir;

    /** The built-in shapes as 1×32×32 grey images (channel mean). */
    static ImageDataset greyShapes(int n, long seed) {
        ImageDataset rgb = Shapes.generate(n, seed);
        int hw = 32 * 32;
        float[] grey = new float[n * hw];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < hw; p++) {
                float s = 0;
                for (int c = 0; c < 3; c++) {
                    s += rgb.pixels()[(i * 3 + c) * hw + p];
                }
                grey[i * hw + p] = s / 3;
            }
        }
        return new ImageDataset("grey-shapes", grey, rgb.labels(), 1, 32, 32, rgb.classNames());
    }

    static Tensor all(ImageDataset d) {
        int[] idx = new int[d.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        return d.images(idx, null);
    }

    @Test
    void parametersHavePyTorchNames() {
        FeatureNet net = new FeatureNet(FeatureNet.Config.DEFAULT, 0);
        assertThat(net.namedParameters().keySet()).startsWith("features.0.weight", "features.0.bias",
                "features.1.weight", "features.1.bias", "features.3.weight").endsWith("embed.weight", "embed.bias",
                "head.weight", "head.bias");
        assertThat(net.features(Tensor.zeros(3, 1, 32, 32)).shape()).containsExactly(3, 128);
        assertThat(net.logits(Tensor.zeros(3, 1, 32, 32)).shape()).containsExactly(3, 10);
        assertThatThrownBy(() -> net.features(Tensor.zeros(2, 3, 32, 32)))
                .isInstanceOf(ShapeMismatchException.class).hasMessageContaining("(B, 1, 32, 32)");
    }

    @Test
    void trainsSavesLoadsAndScoresImagesEndToEnd() throws IOException {
        ImageDataset train = greyShapes(320, 1);
        FeatureNet net = new FeatureNet(SMALL, 42);
        ParameterStore params = new ParameterStore(net, name -> name.endsWith("bias"), Device.CPU);
        AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f);
        DataLoader loader = new DataLoader(train, 32, true, false, 7);
        Tensor weight = Tensor.full(1f / 32, 32);
        int steps = 30;
        double[] losses = new double[steps];
        for (int s = 0; s < steps; s++) {
            DataLoader.Batch b = loader.next();
            params.zeroGrad();
            Variable loss = F.crossEntropy(net.forward(Variable.constant(b.images())), b.labels(), weight, 0f);
            loss.backward();
            opt.step(3e-3f, 0f, 1f);
            losses[s] = loss.data().item();
        }
        double first = (losses[0] + losses[1] + losses[2]) / 3, last = (losses[steps - 3] + losses[steps - 2] + losses[steps - 1]) / 3;
        assertThat(last).as("loss %s -> %s", first, last).isLessThan(0.8 * first);

        Path file = dir.resolve("cls.safetensors");
        net.save(file, Map.of("note", "test"));
        FeatureNet loaded = FeatureNet.load(file);
        assertThat(loaded.config()).isEqualTo(SMALL);
        ImageDataset real = greyShapes(200, 2);
        Tensor images = all(real);
        assertThat(loaded.features(images).toFloatArray()).containsExactly(net.features(images).toFloatArray());

        Evaluator eval = new Evaluator(loaded, real, 10_000, 3);
        assertThat(eval.realCount()).isEqualTo(200);
        // the real images themselves, "generated" for their own labels: the perfect generator
        Evaluator.Report self = eval.evaluate(images, real.labels());
        assertThat(self.frechetDistance()).isCloseTo(0, within(1e-6));
        assertThat(self.precision()).isEqualTo(1.0);
        assertThat(self.recall()).isEqualTo(1.0);
        assertThat(self.classConsistency()).isEqualTo(eval.realConsistency());
        assertThat(self.realConsistency()).as("a briefly trained classifier beats chance").isGreaterThan(0.2);
        assertThat(self.classes().requestedPerClass()).containsExactly(counts(real.labels()));

        // other images, with every label shifted: consistency is the share predicted as the shifted label
        ImageDataset other = greyShapes(150, 3);
        int[] shifted = other.labels().clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] = (shifted[i] + 1) % 10;
        }
        int[] predicted = loaded.predict(all(other));
        int agree = 0;
        for (int i = 0; i < shifted.length; i++) {
            agree += predicted[i] == shifted[i] ? 1 : 0;
        }
        Evaluator.Report r = eval.evaluate(all(other), shifted);
        assertThat(r.classConsistency()).isEqualTo((double) agree / shifted.length);
        assertThat(r.frechetDistance()).isPositive();
        assertThat(r.generated()).isEqualTo(150);
        assertThat(r.summary()).contains("FD ", "class consistency", "precision", "recall");
        assertThat(r.perClassTable(real.classNames())).contains("disc", "requested");
    }

    private static int[] counts(int[] labels) {
        int[] c = new int[10];
        for (int l : labels) {
            c[l]++;
        }
        return c;
    }
}
