package dev.mvarj.mvar.data;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DatasetsTest {

    @Test
    void namesAndDatasetNamesMapToTheirFamily() {
        assertThat(Datasets.family("fashion-mnist/train")).isEqualTo(Datasets.FASHION);
        assertThat(Datasets.family("FMNIST")).isEqualTo(Datasets.FASHION);
        assertThat(Datasets.family("shapes")).isEqualTo(Datasets.SHAPES);
        assertThat(Datasets.classNames("shapes")).isEqualTo(Shapes.CLASSES);
        assertThat(Datasets.classNames("fashion-mnist")).isEqualTo(FashionMnist.CLASSES);
        assertThatThrownBy(() -> Datasets.family("mnist")).hasMessageContaining("unknown data set 'mnist'");
    }

    @Test
    void theShapesSplitsAreFixedAndShorterOnesArePrefixes() throws IOException {
        ImageDataset train = Datasets.split("shapes", Path.of("/nonexistent"), true);
        ImageDataset test = Datasets.split("shapes", Path.of("/nonexistent"), false);
        assertThat(train.size()).isEqualTo(Datasets.SHAPES_TRAIN);
        assertThat(test.size()).isEqualTo(Datasets.SHAPES_TEST);
        ImageDataset head = Shapes.generate(50, 2);
        assertThat(Arrays.copyOf(test.pixels(), head.pixels().length)).containsExactly(head.pixels());
        assertThat(Arrays.copyOf(train.labels(), 50)).isNotEqualTo(head.labels());
    }
}
