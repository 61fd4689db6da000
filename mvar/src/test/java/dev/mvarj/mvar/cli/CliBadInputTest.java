package dev.mvarj.mvar.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static dev.mvarj.mvar.cli.CliFixture.mvarj;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every bad value of every option of every command ends in one line naming the option (or file) and the problem,
 * exit status 2 for bad input and 1 for a failure while working, and no stack trace unless asked for.
 */
class CliBadInputTest {

    static Path work, file, dir, model, otherTokenizer, greyClassifier;
    static CliFixture.Built built;

    @BeforeAll
    static void files() throws IOException {
        built = CliFixture.files();
        work = Files.createTempDirectory("mvarj-bad");
        file = Files.writeString(work.resolve("a-file.txt"), "not a safetensors file");
        dir = Files.createDirectories(work.resolve("a-dir"));
        model = work.resolve("model");
        CliFixture.train(model, "--steps", "1").ok();
        Path other = work.resolve("other-tok");
        CliFixture.tokenizerTrain(other, "--steps", "1", "--vocab", "16").ok();
        otherTokenizer = other.resolve("tokenizer.safetensors");
        greyClassifier = work.resolve("grey_cnn.safetensors");
        new dev.mvarj.mvar.eval.FeatureNet(new dev.mvarj.mvar.eval.FeatureNet.Config(1, 8, 16, 4, 10), 0)
                .save(greyClassifier, Map.of());
    }

    /** status | a fragment of the one error line | the command line ({file}, {dir}, ... stand for fixture paths). */
    private static final String CASES = """
            2 | --per-class must be at least 1, got 0 | sample --checkpoint {work}/none --per-class 0
            2 | --per-class must be at least 1, got -2 | sample --checkpoint {ckpt} --per-class -2
            2 | --batch must be at least 1, got 0 | sample --checkpoint {ckpt} --batch 0
            2 | --batch must be at least 1, got -4 | sample --checkpoint {ckpt} --batch -4
            2 | --top-p must be in (0, 1] (1 = off), got 1.5 | sample --checkpoint {ckpt} --top-p 1.5
            2 | --top-p must be in (0, 1] (1 = off), got 0.0 | sample --checkpoint {ckpt} --top-p 0
            2 | --top-p must be in (0, 1] (1 = off), got NaN | sample --checkpoint {ckpt} --top-p NaN
            2 | --top-k must be at least 0, got -1 | sample --checkpoint {ckpt} --top-k -1
            2 | --top-k 100000 is larger than the vocabulary (32) | sample --checkpoint {ckpt} --top-k 100000
            2 | --cfg must be a finite number >= 0, got -1 | sample --checkpoint {ckpt} --cfg -1
            2 | --cfg must be a finite number >= 0, got Infinity | sample --checkpoint {ckpt} --cfg Infinity
            2 | --checkpoint {work}/none.safetensors: no such file | sample --checkpoint {work}/none.safetensors
            2 | --checkpoint {dir} is a directory, not a file | sample --checkpoint {dir}
            1 | {file}: | sample --checkpoint {file} --grid {work}/g.png
            2 | --tokenizer {work}/none: no such file | sample --checkpoint {ckpt} --tokenizer {work}/none
            2 | vocabulary 16 vs 32 (tokenizer vs transformer) | sample --checkpoint {ckpt} --tokenizer {tok16}
            2 | --grid {dir} is a directory, not a file | sample --checkpoint {ckpt} --grid {dir}
            2 | {file} is a file, not a directory | sample --checkpoint {ckpt} --grid {file}/g.png
            2 | --out {file} is a file, not a directory | sample --checkpoint {ckpt} --out {file}
            2 | --device foo: | sample --checkpoint {ckpt} --device foo
            2 | --device opencl:x: bad device | sample --checkpoint {ckpt} --device opencl:x
            2 | Invalid value for option '--per-class': 'abc' is not an int | sample --per-class abc
            2 | Unknown options: '--per-clas', '3' (did you mean --per-class?) | sample --per-clas 3
            2 | Invalid value for option '--seed': 'x1' is not a long | sample --seed x1
            2 | Missing required parameter for option '--batch' | sample --batch
            2 | --per-class must be at least 4, got 3 | eval --checkpoint {ckpt} --per-class 3
            2 | --classifier {dir} is a directory, not a file | eval --checkpoint {ckpt} --classifier {dir}
            2 | --classifier {file}/c.safetensors: {file} is a file, not a directory | eval --checkpoint {ckpt} --classifier {file}/c.safetensors
            1 | {file}: | eval --checkpoint {ckpt} --classifier {file}
            2 | takes 1-channel images of 10 classes; shapes has 3 channels | eval --checkpoint {ckpt} --classifier {grey}
            2 | --top-p must be in (0, 1] (1 = off), got 2.0 | eval --checkpoint {ckpt} --top-p 2
            2 | --model must be one of var, mvar, got 'foo' | train --model foo
            2 | --steps must be at least 1, got 0 | train --steps 0
            2 | --steps must be at least 1, got -5 | train --steps -5
            2 | --batch must be at least 1, got 0 | train --batch 0
            2 | --batch 64 is larger than the token cache | train --tokens {tokens} --out {work}/t --batch 64
            2 | --lr must be a positive finite number, got -0.001 | train --lr -1e-3
            2 | --lr must be a positive finite number, got 0 | train --lr 0
            2 | --lr must be a positive finite number, got NaN | train --lr NaN
            2 | --lr must be a positive finite number, got Infinity | train --lr Infinity
            2 | --warmup must be in [0, 1], got 1.5 | train --warmup 1.5
            2 | --warmup must be in [0, 1], got -0.1 | train --warmup -0.1
            2 | --wd must be a finite number >= 0, got -1 | train --wd -1
            2 | --mode must be one of cycle, all, got 'foo' | train --mode foo
            2 | --ratio-k must be at least 1, got 0 | train --ratio-k 0
            2 | --depth must be at least 1, got 0 | train --depth 0
            2 | --width must be at least 1, got 0 | train --width 0
            2 | --heads must be at least 1, got 0 | train --heads 0
            2 | --width 30 is not divisible by --heads 4 | train --width 30 --heads 4
            2 | --refine-step 9 is past the last scale | train --tokens {tokens} --out {work}/t --refine-step 9
            2 | --refine-step must be at least 0, got -1 | train --refine-step -1
            2 | --kernel must be at least 1, got 0 | train --kernel 0
            2 | --kernel 7 is larger than the 6x6 grid of scale 4 | train --tokens {tokens} --out {work}/t --kernel 7
            2 | --drop-path must be in [0, 1), got 1 | train --drop-path 1
            2 | --drop-path must be in [0, 1), got -0.1 | train --drop-path -0.1
            2 | --gate-init must be a finite number >= 0, got -1 | train --gate-init -1
            2 | --label-smoothing must be in [0, 1), got 1 | train --label-smoothing 1
            2 | --checkpoint-every must be at least 0, got -1 | train --checkpoint-every -1
            2 | --tokens {work}/none: no such file | train --tokens {work}/none --out {work}/t
            1 | {tok}: | train --tokens {tok} --out {work}/t
            2 | --out {file} is a file, not a directory | train --tokens {tokens} --out {file}
            2 | {file} is not a directory | train --tokens {tokens} --out {file}/run
            2 | --resume and --overwrite exclude each other | train --resume --overwrite
            2 | --finetune-from {work}/none: no such file | train --tokens {tokens} --finetune-from {work}/none
            2 | --device foo: | train --tokens {tokens} --out {work}/t --device foo
            2 | Invalid value for option '--steps': 'abc' is not an int | train --steps abc
            2 | Invalid value for option '--lr': 'fast' is not a double | train --lr fast
            2 | --steps must be at least 1, got 0 | tokenizer train --steps 0 --dataset shapes
            2 | --batch must be at least 1, got 0 | tokenizer train --batch 0 --dataset shapes
            2 | --lr must be a positive finite number, got -1 | tokenizer train --lr -1 --dataset shapes
            2 | --ch must be at least 1, got 0 | tokenizer train --ch 0 --dataset shapes
            2 | --ch 10: 10 channels do not split into 4 groups | tokenizer train --ch 10 --dataset shapes --out {work}/k
            2 | --ch 16 --groups 5: 16 channels do not split into 5 groups | tokenizer train --groups 5 --dataset shapes --out {work}/k
            2 | --groups must be at least 0, got -1 | tokenizer train --groups -1 --dataset shapes
            2 | --data {dir} does not hold the Fashion-MNIST files | tokenizer train --data {dir}
            2 | --vocab must be 0 (the data set's default) or at least 2, got 1 | tokenizer train --vocab 1 --dataset shapes
            2 | --vocab must be at least 0, got -3 | tokenizer train --vocab -3 --dataset shapes
            2 | --code-dim must be at least 1, got 0 | tokenizer train --code-dim 0 --dataset shapes
            2 | --train-images must be at least 0, got -1 | tokenizer train --train-images -1 --dataset shapes
            2 | --eval-every must be at least 0, got -1 | tokenizer train --eval-every -1 --dataset shapes
            2 | --eval-images must be at least 1, got 0 | tokenizer train --eval-images 0 --dataset shapes
            2 | --final-eval-images must be at least 0, got -1 | tokenizer train --final-eval-images -1 --dataset shapes
            2 | --checkpoint-every must be at least 1, got 0 | tokenizer train --checkpoint-every 0 --dataset shapes
            2 | --dataset must be one of auto, fashion-mnist, fashionmnist, fmnist, shapes, got 'foo' | tokenizer train --dataset foo
            2 | --data {work}/none does not hold the Fashion-MNIST files | tokenizer train --dataset fashion-mnist --data {work}/none
            2 | --shapes-train must be at least 1, got 0 | tokenizer train --dataset shapes --shapes-train 0
            2 | --shapes-test must be at least 1, got 0 | tokenizer train --dataset shapes --shapes-test 0
            2 | --out {file} is a file, not a directory | tokenizer train --dataset shapes --out {file}
            2 | --resume and --overwrite exclude each other | tokenizer train --dataset shapes --out {work}/k --resume --overwrite
            2 | --batch 100 is larger than the training set (40 images) | tokenizer train --dataset shapes --shapes-train 40 --batch 100 --out {work}/k
            2 | --images must be at least 0, got -1 | tokenizer eval --dataset shapes --out {tokdir} --images -1
            2 | --batch must be at least 1, got 0 | tokenizer eval --dataset shapes --out {tokdir} --batch 0
            2 | --checkpoint {work}/none: no such file | tokenizer eval --dataset shapes --checkpoint {work}/none
            2 | the checkpoint (--checkpoint, or in --out) {dir}/tokenizer.safetensors: no such file | tokenizer eval --dataset shapes --out {dir}
            2 | --count must be at least 1, got 0 | tokenizer reconstruct --dataset shapes --out {tokdir} --count 0
            2 | --output {dir} is a directory, not a file | tokenizer reconstruct --dataset shapes --out {tokdir} --output {dir}
            2 | --split must be one of train, test, got 'val' | tokenizer cache --split val
            2 | --limit must be at least 0, got -1 | tokenizer cache --dataset shapes --out {tokdir} --limit -1
            2 | --batch must be at least 1, got 0 | tokenizer cache --dataset shapes --out {tokdir} --batch 0
            2 | --output {dir} is a directory, not a file | tokenizer cache --dataset shapes --out {tokdir} --output {dir}
            2 | --checkpoint {file}.none: no such file | tokenizer cache --dataset shapes --checkpoint {file}.none
            1 | {file}: | tokenizer cache --dataset shapes --checkpoint {file} --output {work}/c.safetensors
            2 | --schedule 'a,b' is not a list of scale sides | memory --schedule a,b
            2 | scale sides must be positive and increasing | memory --schedule 2,1
            2 | --vocab must be at least 2, got 1 | memory --vocab 1
            2 | --code-dim must be at least 1, got 0 | memory --code-dim 0
            2 | --batch must be at least 1, got 0 | memory --batch 0
            2 | --cfg must be a finite number >= 0, got -1 | memory --cfg -1
            2 | --depth must be at least 1, got 0 | memory --depth 0
            2 | --refine-step 9 is past the last scale | memory --refine-step 9
            2 | --device foo: | memory --device foo
            2 | --tokenizer-steps must be at least 0, got -1 | demo --tokenizer-steps -1
            2 | --images must be 0 (the recipe's) or at least 32, got 10 | demo --images 10
            2 | --steps must be at least 0, got -3 | demo --steps -3
            2 | --dataset must be one of auto, fashion-mnist, shapes, got 'mnist' | demo --dataset mnist
            2 | --dataset fashion-mnist: --data {dir} does not hold the Fashion-MNIST files | demo --dataset fashion-mnist --data {dir}
            2 | --classifier {dir} is a directory, not a file | demo --classifier {dir}
            2 | takes 1-channel images of 10 classes; shapes has 3 channels | demo --dataset shapes --classifier {grey}
            2 | --data {dir} does not hold the Fashion-MNIST files | demo --data {dir}
            2 | --images 30000 is larger than the training set (20000 images) | demo --dataset shapes --images 30000 --out {work}/demo
            2 | --model must be one of var, mvar, got 'foo' | demo --model foo
            2 | --out {file} is a file, not a directory | demo --out {file}
            2 | --per-class must be at least 1, got 0 | figures --per-class 0 --out {work}/fig
            2 | --checkpoint {work}/none.safetensors: no such file | figures --checkpoint {work}/none.safetensors --out {work}/fig
            2 | --out {file} is a file, not a directory | figures --out {file}
            2 | Unmatched argument at index 0: 'foo' | foo
            2 | Unknown option: '--bogus' | info --bogus
            """;

    static Stream<Arguments> cases() {
        return CASES.lines().map(line -> {
            String[] p = line.split(" \\| ", 3);
            return Arguments.of(p[2], Integer.parseInt(p[0].strip()), p[1]);
        });
    }

    private static String fill(String s) {
        return s.replace("{ckpt}", model.resolve("checkpoint.safetensors").toString())
                .replace("{tokens}", built.tokens.toString()).replace("{tokdir}", built.tokenizerDir.toString())
                .replace("{tok16}", otherTokenizer.toString()).replace("{tok}", built.tokenizer.toString())
                .replace("{grey}", greyClassifier.toString()).replace("{file}", file.toString()).replace("{dir}", dir.toString()).replace("{work}", work.toString());
    }

    @ParameterizedTest(name = "mvarj {0}")
    @MethodSource("cases")
    void isRefusedInOneLine(String args, int status, String fragment) {
        CliFixture.mvarj(fill(args).split(" ")).refused(status, fill(fragment));
    }

    @Test
    void theCasesAreMany() {
        assertThat(cases().count()).isGreaterThanOrEqualTo(100);
    }

    @Test
    void verboseOrTheEnvironmentAddsTheStackTrace() {
        for (var run : new CliFixture.Run[]{mvarj("train", "--steps", "0", "--verbose"),
                mvarj("--verbose", "train", "--steps", "0"),
                mvarj(Map.of("MVARJ_VERBOSE", "1"), "train", "--steps", "0")}) {
            assertThat(run.status()).isEqualTo(2);
            assertThat(run.err().lines().findFirst().orElseThrow()).contains("--steps must be at least 1, got 0");
            assertThat(run.err()).contains("\tat ");
        }
        mvarj("train", "--steps", "0").refused(2, "mvarj train: --steps must be at least 1, got 0");
    }

    @Test
    void helpAndInfoSucceed() {
        assertThat(mvarj("--help").ok().out()).contains("Exit status");
        assertThat(mvarj("train", "--help").ok().out()).contains("--overwrite");
        assertThat(mvarj("info").ok().out()).contains("backends:");
    }
}
