package dev.mvarj.tensor.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file that cannot be read: the message starts with the file's path and names the problem. */
public final class SafeTensorsException extends IOException {

    private final Path path;

    /** "{path}: {problem}". */
    public SafeTensorsException(Path path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    /** "{path}: {problem}", keeping the exception that revealed it. */
    public SafeTensorsException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    /** The file that could not be read. */
    public Path path() {
        return path;
    }
}
