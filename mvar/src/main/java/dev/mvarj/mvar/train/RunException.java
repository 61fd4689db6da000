package dev.mvarj.mvar.train;

/**
 * A run that is refused or stopped, with a message for the user: a run directory in use by another run, one that
 * holds a run when neither resume nor overwrite was asked for, a resume whose settings would change the run
 * ({@link #usage()}: the request was wrong), or a training run that diverged (a failure while working).
 */
public final class RunException extends RuntimeException {

    private final boolean usage;

    private RunException(String message, boolean usage) {
        super(message);
        this.usage = usage;
    }

    /** The request cannot be carried out as given (another option is needed, or a different one). */
    public static RunException refused(String message) {
        return new RunException(message, true);
    }

    /** The run failed while working (diverged, or its directory is in use). */
    public static RunException failed(String message) {
        return new RunException(message, false);
    }

    /** Whether the request was at fault (a usage error) rather than the run. */
    public boolean usage() {
        return usage;
    }
}
