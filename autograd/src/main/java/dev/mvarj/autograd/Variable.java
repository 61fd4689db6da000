package dev.mvarj.autograd;

import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;

/**
 * A tensor that takes part in automatic differentiation: its value, its accumulated gradient (for leaves that
 * require one), and the {@link Node} that produced it (null for leaves).
 *
 * <p>Ops live in {@link F}; the instance methods here are shorthands for the most common ones.
 */
public final class Variable {

    private Tensor data;
    private final boolean requiresGrad;
    final Node node;
    private Tensor grad;

    Variable(Tensor data, boolean requiresGrad, Node node) {
        this.data = data;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A leaf that accumulates a gradient (a parameter or an input under test). */
    public static Variable leaf(Tensor data) {
        return new Variable(data, true, null);
    }

    /** A leaf that takes no gradient (data, labels, masks). */
    public static Variable constant(Tensor data) {
        return new Variable(data, false, null);
    }

    public Tensor data() {
        return data;
    }

    /** The accumulated gradient of a leaf, or null if backward has not reached it. */
    public Tensor grad() {
        return grad;
    }

    /**
     * Replaces the value of a leaf by a tensor of the same shape, as PyTorch's {@code p.data = ...}; used to move
     * parameters into one flat storage and to load checkpoints. Not allowed on op outputs.
     */
    public void setData(Tensor newData) {
        if (node != null) {
            throw new IllegalStateException("setData: only leaves can be rebound, this variable was made by " + node.op);
        }
        if (!newData.sameShape(data)) {
            throw new dev.mvarj.tensor.ShapeMismatchException("setData: new shape " + Shape.str(newData.shape())
                    + " differs from " + Shape.str(data.shape()));
        }
        data = newData;
    }

    /** Forgets the accumulated gradient. */
    public void zeroGrad() {
        grad = null;
    }

    /** Replaces the gradient (used by the optimiser's flat gradient storage). */
    public void setGrad(Tensor grad) {
        if (grad != null && !grad.sameShape(data)) {
            throw new dev.mvarj.tensor.ShapeMismatchException("setGrad: gradient shape " + Shape.str(grad.shape())
                    + " differs from the variable's " + Shape.str(data.shape()));
        }
        this.grad = grad;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** True for variables not produced by a recorded op. */
    public boolean isLeaf() {
        return node == null;
    }

    /** The op that produced this variable, or null for a leaf. */
    public String op() {
        return node == null ? null : node.op;
    }

    public int[] shape() {
        return data.shape();
    }

    public int size(int d) {
        return data.size(d);
    }

    public int rank() {
        return data.rank();
    }

    /** The same value, cut from the graph. */
    public Variable detach() {
        return constant(data);
    }

    /**
     * Adds {@code g} into this leaf's gradient: in place when a gradient tensor exists (for parameters, a view of
     * the flat gradient storage), otherwise into a fresh copy (g itself may be shared with other inputs). The copy
     * belongs to the leaf, not to the {@link MemoryScope} of the step that made it.
     */
    void accumulate(Tensor g) {
        if (grad == null) {
            // a gradient has its leaf's dtype (an F32 leaf in an F64 graph gets its gradient rounded to F32)
            grad = MemoryScope.untracked(() -> g.dtype() == data.dtype() ? g.copy() : g.to(data.dtype()));
        } else {
            grad.backend().binary(dev.mvarj.tensor.BinaryOp.ADD, grad, grad, g);
        }
    }

    /** Backpropagates from this scalar (gradient 1). */
    public void backward() {
        if (data.numel() != 1) {
            throw new IllegalStateException("backward() without a gradient needs a one-element output, got shape "
                    + Shape.str(data.shape()) + "; pass the gradient of the output");
        }
        backward(Tensor.fullLike(data, 1f));
    }

    /** Backpropagates {@code gradOutput} (the shape of this variable) through the recorded graph. */
    public void backward(Tensor gradOutput) {
        Engine.backward(this, gradOutput);
    }

    // ------------------------------------------------------------------------------------------------ shorthands

    public Variable add(Variable o) {
        return F.add(this, o);
    }

    public Variable sub(Variable o) {
        return F.sub(this, o);
    }

    public Variable mul(Variable o) {
        return F.mul(this, o);
    }

    public Variable div(Variable o) {
        return F.div(this, o);
    }

    public Variable matmul(Variable o) {
        return F.matmul(this, o);
    }

    public Variable reshape(int... shape) {
        return F.reshape(this, shape);
    }

    public Variable sum() {
        return F.sum(this);
    }

    public Variable mean() {
        return F.mean(this);
    }

    @Override
    public String toString() {
        return "Variable(" + (node == null ? (requiresGrad ? "leaf" : "constant") : node.op) + ", " + data + ")";
    }
}
