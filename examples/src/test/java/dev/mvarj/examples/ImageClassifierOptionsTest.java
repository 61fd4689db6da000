package dev.mvarj.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The classifier example refuses every meaningless option value with one message naming the option. */
class ImageClassifierOptionsTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--epochs | -1 | --epochs must be at least 0, got -1",
            "--batch | 0 | --batch must be at least 1, got 0",
            "--lr | -0.1 | --lr must be a positive finite number, got -0.1",
            "--lr | NaN | --lr must be a positive finite number, got NaN",
            "--wd | -1 | --wd must be a finite number >= 0, got -1.0",
            "--warmup | -5 | --warmup must be at least 0, got -5",
            "--subset | -1 | --subset must be at least 0, got -1",
            "--width | 0 | --width must be at least 1, got 0",
            "--width | 7 | --width 7 is not a multiple of the",
            "--dim | 0 | --dim must be at least 1, got 0",
            "--baseline | -1 | --baseline must be at least 0, got -1",
            "--batch | many | --batch: 'many' is not an integer",
            "--lr | fast | --lr: 'fast' is not a number",
            "--seed | x | --seed: 'x' is not an integer",
            "--bogus | 1 | unknown option --bogus",
            "--data | /nonexistent/fashion | --data /nonexistent/fashion does not hold the Fashion-MNIST files",
            "--dataset | mnist | --dataset must be auto, fashion-mnist or shapes, got 'mnist'"})
    void refusesBadValues(String option, String value, String message) {
        assertThatThrownBy(() -> ImageClassifier.Options.parse(new String[]{option, value}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"--epochs", "--out"})
    void refusesAMissingValue(String option) {
        assertThatThrownBy(() -> ImageClassifier.Options.parse(new String[]{option}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(option + " needs a value");
    }

    @org.junit.jupiter.api.Test
    void refusesADirectoryAsTheWeightsFile() throws Exception {
        Path dir = Files.createTempDirectory("mvarj-classifier");
        Path data = Files.createDirectories(dir.resolve("data"));
        for (String f : new String[]{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            Files.writeString(data.resolve(f), "");
        }
        assertThatThrownBy(() -> ImageClassifier.Options.parse(new String[]{"--data", data.toString(), "--out",
                dir.toString()})).hasMessage("--out " + dir + " is a directory, not a file");
        assertThatThrownBy(() -> ImageClassifier.Options.parse(new String[]{"--data", data.toString(), "--out",
                dir.resolve("none.safetensors").toString(), "--epochs", "0"}))
                .hasMessageContaining("--epochs 0 evaluates the weights at --out, but");
    }
}
