package dev.mvarj.tensor;

/** Thrown when the shapes given to an op do not fit; the message names the op and every shape involved. */
public class ShapeMismatchException extends IllegalArgumentException {

    public ShapeMismatchException(String message) {
        super(message);
    }
}
