package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.train.RunException;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.function.BooleanSupplier;

/**
 * The command line's one error handler: every error becomes one line, {@code mvarj <command>: <what is wrong>},
 * on the error stream, followed by the stack trace only when {@code verbose} says so. Returns the exit status:
 * {@value Main#USAGE} for bad input, {@value Main#FAILURE} for a failure while working.
 */
final class ErrorReport {

    private final PrintWriter err;
    private final BooleanSupplier verbose;

    ErrorReport(PrintWriter err, BooleanSupplier verbose) {
        this.err = err;
        this.verbose = verbose;
    }

    /** A parse or validation error: bad option, bad value, missing file. */
    int usage(CommandLine.ParameterException e, String[] args) {
        String hint = e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()
                ? " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)" : "";
        return report(e.getCommandLine(), oneLine(e.getMessage()) + hint + " (see "
                + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)", e, args, Main.USAGE);
    }

    /** An exception thrown while the command ran. */
    int failure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        if (e instanceof RunException r) {
            return report(cl, r.getMessage(), e, parsed.originalArgs().toArray(String[]::new),
                    r.usage() ? Main.USAGE : Main.FAILURE);
        }
        return report(cl, describe(e), e, parsed.originalArgs().toArray(String[]::new), Main.FAILURE);
    }

    /** An error (out of memory, stack overflow) that escaped the command. */
    int fatal(Throwable t, CommandLine cl, String[] args) {
        String what = t instanceof OutOfMemoryError ? "out of memory (" + t.getMessage() + "); a smaller --batch or"
                + " model, or more heap (MVARJ_JAVA_OPTS=-Xmx...), may fit" : describe(t);
        return report(cl, what, t, args, Main.FAILURE);
    }

    private int report(CommandLine cl, String message, Throwable t, String[] args, int status) {
        err.println(cl.getCommandSpec().qualifiedName() + ": " + message);
        if (verbose.getAsBoolean() || java.util.Arrays.asList(args).contains("--verbose")) {
            t.printStackTrace(err);
        }
        err.flush();
        return status;
    }

    /** A message for a failure: the file and the problem for file-system errors, else the exception's message. */
    static String describe(Throwable t) {
        Throwable e = t instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : t;
        if (e instanceof FileSystemException f) {
            String problem = switch (f) {
                case NoSuchFileException ignored -> "no such file or directory";
                case AccessDeniedException ignored -> "permission denied";
                case FileAlreadyExistsException ignored -> "already exists";
                case NotDirectoryException ignored -> "not a directory";
                case DirectoryNotEmptyException ignored -> "directory not empty";
                default -> f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
            };
            return f.getFile() + ": " + problem + (f.getOtherFile() != null ? " (" + f.getOtherFile() + ")" : "");
        }
        String msg = e.getMessage();
        if (msg == null || msg.isBlank()) {
            return e.getClass().getSimpleName() + " (run with --verbose for the stack trace)";
        }
        boolean plain = e instanceof java.io.IOException || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException;
        return plain ? oneLine(msg) : e.getClass().getSimpleName() + ": " + oneLine(msg);
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
