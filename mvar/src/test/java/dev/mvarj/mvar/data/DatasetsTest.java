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

    @Test
    void firstPerClassListsEachClassesFirstImagesClassByClass() {
        ImageDataset d = Shapes.generate(200, 1);
        int[] idx = d.firstPerClass(3);
        assertThat(idx).hasSize(30);
        for (int c = 0; c < 10; c++) {
            int previous = -1;
            for (int k = 0; k < 3; k++) {
                int i = idx[c * 3 + k];
                assertThat(d.labels()[i]).isEqualTo(c);
                assertThat(i).isGreaterThan(previous);
                for (int j = previous + 1; j < i; j++) {
                    assertThat(d.labels()[j]).as("no earlier image of class %d is skipped", c).isNotEqualTo(c);
                }
                previous = i;
            }
        }
        assertThatThrownBy(() -> d.firstPerClass(100)).hasMessageContaining("fewer than 100 images");
    }
}
