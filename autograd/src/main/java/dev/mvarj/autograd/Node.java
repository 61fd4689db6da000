package dev.mvarj.autograd;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One recorded op: the inputs it was applied to and the backward function that maps the gradient of its output to
 * the gradients of its inputs. The backward function is a closure over exactly the tensors the op saved; it is
 * dropped (and with it the saved tensors) as soon as it has run.
 */
public final class Node {

    /** Gradient of the output (shape of the output) -> gradients of the inputs (null where not needed). */
    @FunctionalInterface
    public interface Backward {
        dev.mvarj.tensor.Tensor[] apply(dev.mvarj.tensor.Tensor gradOutput);
    }

    private static final AtomicLong IDS = new AtomicLong();

    final long id = IDS.incrementAndGet();
    final String op;
    Variable[] inputs;
    Backward backward;
    private dev.mvarj.tensor.Storage output;

    /**
     * Set when the node's output is the elements [start, end) along {@code axis} of its single input (a slice): the
     * engine may then add the node's gradient straight into that region of the input's pending gradient instead of
     * calling backward, which builds a zero gradient of the input's full shape around it.
     */
    record Region(int axis, int start, int end) {
    }

    final Region region;

    Node(String op, Variable[] inputs, Backward backward, dev.mvarj.tensor.Storage output) {
        this(op, inputs, backward, output, null);
    }

    Node(String op, Variable[] inputs, Backward backward, dev.mvarj.tensor.Storage output, Region region) {
        this.region = region;
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
        this.output = output;
        GraphMemory.current().retain(output);
    }

    /** The name of the op that made this node ("matmul", "layer_norm", ...). */
    public String op() {
        return op;
    }

    /** Drops the saved tensors and the links to the inputs. */
    void release() {
        inputs = null;
        backward = null;
        if (output != null) {
            GraphMemory.current().release(output);
            output = null;
        }
    }

    boolean released() {
        return backward == null;
    }
}
