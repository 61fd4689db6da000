package dev.mvarj.mvar.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line run in-process through {@link Main#execute}, and a tiny trained tokenizer with its token cache
 * (built once, through the command line itself) for the tests that need real files.
 */
final class CliFixture {

    private CliFixture() {
    }

    /** What one command line did: exit status, standard output, error output. */
    record Run(int status, String out, String err) {

        /** Asserts a refusal: the status, one line on the error stream containing {@code fragment}, no stack trace. */
        Run refused(int expected, String fragment) {
            assertThat(status).as("exit status; stderr: %s", err).isEqualTo(expected);
            assertThat(err.strip().lines().count()).as("error lines in: %s", err).isEqualTo(1);
            assertThat(err).as("error line").contains(fragment).doesNotContain("\tat ").doesNotContain("Exception");
            return this;
        }

        Run ok() {
            assertThat(status).as("exit status; stderr: %s", err).isZero();
            return this;
        }
    }

    static Run mvarj(String... args) {
        return mvarj(Map.of(), args);
    }

    static Run mvarj(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env, args);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A tokenizer run (tokenizer.safetensors) and a 40-image token cache (tokens.safetensors), built once. */
    static final class Built {
        final Path dir, tokenizerDir, tokenizer, tokens;

        Built(Path dir) {
            this.dir = dir;
            this.tokenizerDir = dir.resolve("tok");
            this.tokenizer = tokenizerDir.resolve("tokenizer.safetensors");
            this.tokens = dir.resolve("tokens.safetensors");
        }
    }

    private static Built shared;

    /** The shared tokenizer and token cache, built on first use. */
    static synchronized Built files() {
        if (shared == null) {
            try {
                Built f = new Built(Files.createTempDirectory("mvarj-cli"));
                tokenizerTrain(f.tokenizerDir, "--steps", "2", "--vocab", "32").ok();
                mvarj("tokenizer", "cache", "--dataset", "shapes", "--shapes-train", "40", "--shapes-test", "8",
                        "--out", f.tokenizerDir.toString(), "--output", f.tokens.toString(), "--batch", "20").ok();
                shared = f;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    /** {@code tokenizer train} of a tiny tokenizer (give --vocab) on 40 generated shapes into {@code out}, plus {@code more}. */
    static Run tokenizerTrain(Path out, String... more) {
        String[] base = {"tokenizer", "train", "--dataset", "shapes", "--shapes-train", "40", "--shapes-test", "8",
                "--out", out.toString(), "--batch", "4", "--ch", "8", "--code-dim", "4",
                "--eval-every", "0", "--eval-images", "8", "--checkpoint-every", "1", "--no-mid-attn"};
        return mvarj(override(base, more));
    }

    /** {@code train} of a tiny transformer on the shared token cache into {@code out}, plus {@code more}. */
    static Run train(Path out, String... more) {
        String[] base = {"train", "--tokens", files().tokens.toString(), "--out", out.toString(), "--batch", "8",
                "--depth", "1", "--width", "16", "--heads", "2", "--checkpoint-every", "2"};
        return mvarj(override(base, more));
    }

    /** {@code base} (options with values) with the options {@code more} gives again replaced by {@code more}'s. */
    static String[] override(String[] base, String... more) {
        java.util.List<String> given = java.util.Arrays.asList(more), all = new java.util.ArrayList<>();
        for (int i = 0; i < base.length; i++) {
            if (base[i].startsWith("--") && given.contains(base[i]) && i + 1 < base.length
                    && !base[i + 1].startsWith("--")) {
                i++;
            } else {
                all.add(base[i]);
            }
        }
        all.addAll(given);
        return all.toArray(String[]::new);
    }

    static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
