package dev.mvarj.mvar.cli;

import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Device;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Function;

/**
 * Option validation before any work starts: every check names the option, the value and what is wrong, and fails
 * with a picocli {@link CommandLine.ParameterException}, which {@link ErrorReport} prints as one line with exit
 * status {@value Main#USAGE}.
 */
final class Checks {

    private final CommandSpec spec;
    private final Function<String, RuntimeException> error;

    Checks(CommandSpec spec) {
        this.spec = spec;
        this.error = message -> new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /**
     * The same checks outside a command line (the web page's requests, docs/editing.md#the-page): every refusal is
     * {@code error} of the message.
     */
    Checks(Function<String, RuntimeException> error) {
        this.spec = null;
        this.error = error;
    }

    /** A usage error of this command (or the error of a request). */
    RuntimeException error(String message) {
        return error.apply(message);
    }

    /** Whether {@code option} was given on the command line (rather than left at its default). */
    boolean given(String option) {
        CommandLine.ParseResult parsed = spec == null ? null : spec.commandLine().getParseResult();
        return parsed != null && parsed.hasMatchedOption(option);
    }

    /** {@code value ≥ min}. */
    Checks atLeast(String option, long value, long min) {
        if (value < min) {
            throw error(option + " must be at least " + min + ", got " + value);
        }
        return this;
    }

    /** A finite {@code value > 0}. */
    Checks positive(String option, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw error(option + " must be a positive finite number, got " + num(value));
        }
        return this;
    }

    /** A finite {@code value ≥ 0}. */
    Checks nonNegative(String option, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw error(option + " must be a finite number >= 0, got " + num(value));
        }
        return this;
    }

    /** {@code lo ≤ value ≤ hi}, or {@code lo ≤ value < hi} when {@code hiOpen}. */
    Checks range(String option, double value, double lo, double hi, boolean hiOpen) {
        if (!(value >= lo) || !(hiOpen ? value < hi : value <= hi)) {
            throw error(option + " must be in [" + num(lo) + ", " + num(hi) + (hiOpen ? ")" : "]") + ", got "
                    + num(value));
        }
        return this;
    }

    /** {@code value} (case-insensitive) as one of {@code choices}, lower-cased; the message lists them. */
    String oneOf(String option, String value, String... choices) {
        String v = value.toLowerCase(Locale.ROOT);
        for (String c : choices) {
            if (c.equals(v)) {
                return v;
            }
        }
        throw error(option + " must be one of " + String.join(", ", choices) + ", got '" + value + "'");
    }

    /** An existing, readable regular file. */
    Checks inputFile(String option, Path file) {
        if (Files.isDirectory(file)) {
            throw error(option + " " + file + " is a directory, not a file");
        }
        if (!Files.exists(file)) {
            throw error(option + " " + file + ": no such file");
        }
        if (!Files.isReadable(file)) {
            throw error(option + " " + file + ": not readable");
        }
        return this;
    }

    /** An existing, readable directory. */
    Checks inputDir(String option, Path dir) {
        if (!Files.isDirectory(dir)) {
            throw error(option + " " + dir + (Files.exists(dir) ? " is a file, not a directory"
                    : ": no such directory"));
        }
        if (!Files.isReadable(dir)) {
            throw error(option + " " + dir + ": not readable");
        }
        return this;
    }

    /**
     * A directory that exists and is writable, or can be created (its nearest existing ancestor is a writable
     * directory).
     */
    Checks outputDir(String option, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw error(option + " " + dir + " is a file, not a directory");
        }
        creatable(option, dir);
        return this;
    }

    /** A file that can be written: not a directory, and in a directory that is writable or can be created. */
    Checks outputFile(String option, Path file) {
        if (Files.isDirectory(file)) {
            throw error(option + " " + file + " is a directory, not a file");
        }
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw error(option + " " + file + ": not writable");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (Files.exists(parent) && !Files.isDirectory(parent)) {
            throw error(option + " " + file + ": " + parent + " is a file, not a directory");
        }
        creatable(option, parent);
        return this;
    }

    private void creatable(String option, Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null || !Files.isDirectory(p)) {
            throw error(option + " " + dir + ": cannot be created (" + p + " is not a directory)");
        }
        if (!Files.isWritable(p)) {
            throw error(option + " " + dir + ": " + (p.equals(dir.toAbsolutePath()) ? "" : p + " is ")
                    + "not writable");
        }
    }

    /** {@code cpu}, {@code KIND} or {@code KIND:N} of a backend this machine has; opens it. */
    Device device(String option, String value) {
        try {
            Device d = Device.parse(value);
            Backends.forDevice(d);
            return d;
        } catch (RuntimeException e) {
            throw error(option + " " + value + ": " + e.getMessage() + " (./mvarj info lists the devices)");
        }
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
