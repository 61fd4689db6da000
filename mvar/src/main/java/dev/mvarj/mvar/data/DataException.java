package dev.mvarj.mvar.data;

import java.io.IOException;
import java.nio.file.Path;

/** A data file that is missing or malformed; the message names the file and what is wrong with it. */
public final class DataException extends IOException {

    public DataException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
