package dev.mvarj.autograd;

import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Storage;
import dev.mvarj.tensor.Tensor;
import org.eclipse.collections.api.map.primitive.MutableLongObjectMap;
import org.eclipse.collections.api.map.primitive.MutableObjectIntMap;
import org.eclipse.collections.api.set.primitive.MutableLongSet;
import org.eclipse.collections.impl.map.mutable.primitive.LongObjectHashMap;
import org.eclipse.collections.impl.map.mutable.primitive.ObjectIntHashMap;
import org.eclipse.collections.impl.set.mutable.primitive.LongHashSet;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Records ops and runs backward: an iterative topological sort, then one pass in reverse order. */
final class Engine {

    private Engine() {
    }

    /**
     * The output of an op applied to {@code inputs}: recorded with {@code backward} when grad mode is on and some
     * input requires a gradient, otherwise a plain constant (and {@code backward} is never called).
     */
    static Variable record(String op, Tensor out, Variable[] inputs, Node.Backward backward) {
        return record(op, out, inputs, backward, null);
    }

    /** As {@link #record}, for an op whose output is {@code region} of its single input (see {@link Node.Region}). */
    static Variable record(String op, Tensor out, Variable[] inputs, Node.Backward backward, Node.Region region) {
        OpProfiler profiler = OpProfiler.active();
        if (profiler != null) {
            profiler.forward(op, out);
        }
        boolean needsGrad = false;
        if (GradMode.isEnabled()) {
            for (Variable v : inputs) {
                needsGrad |= v != null && v.requiresGrad();
            }
        }
        return needsGrad ? new Variable(out, true, new Node(op, inputs, backward, out.storage(), region))
                : Variable.constant(out);
    }

    static void backward(Variable root, Tensor gradOutput) {
        if (!gradOutput.sameShape(root.data())) {
            throw new ShapeMismatchException("backward: gradient shape " + Shape.str(gradOutput.shape())
                    + " differs from the output's " + Shape.str(root.data().shape()));
        }
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the output does not require a gradient (no input requires"
                    + " one, or it was computed under GradMode.off())");
        }
        if (root.isLeaf()) {
            root.accumulate(gradOutput);
            return;
        }
        List<Node> order = topologicalOrder(root.node);
        MutableLongObjectMap<Tensor> grads = new LongObjectHashMap<>();
        grads.put(root.node.id, gradOutput);
        OwnedGradients owned = new OwnedGradients();
        OpProfiler profiler = OpProfiler.active();
        try (var ignored = GradMode.off()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Node node = order.get(i);
                Tensor g = grads.remove(node.id);
                if (g == null) {
                    node.release();
                    continue;
                }
                long start = profiler == null ? 0 : System.nanoTime();
                if (node.region != null && addIntoRegion(node, g, grads, owned)) {
                    node.release();
                    owned.unref(g);
                    if (profiler != null) {
                        profiler.backward(node.op, g, start);
                    }
                    continue;
                }
                Tensor[] gi;
                // what the backward allocates besides the gradients it returns is released when it returns
                try (MemoryScope scope = MemoryScope.open()) {
                    gi = node.backward.apply(g);
                    for (Tensor t : gi) {
                        if (t != null && scope.owns(t)) {
                            owned.adopt(scope.keep(t));
                        }
                    }
                }
                Variable[] inputs = node.inputs;
                node.release();
                if (profiler != null) {
                    profiler.backward(node.op, g, start);
                    start = System.nanoTime();
                }
                for (int k = 0; k < inputs.length; k++) {
                    Variable in = inputs[k];
                    if (in == null || !in.requiresGrad() || gi[k] == null) {
                        continue;
                    }
                    if (!gi[k].sameShape(in.data())) {
                        throw new IllegalStateException(node.op + " backward: gradient of input " + k + " has shape "
                                + Shape.str(gi[k].shape()) + ", input has " + Shape.str(in.data().shape()));
                    }
                    if (in.node == null) {
                        in.accumulate(gi[k]);
                    } else {
                        Tensor prev = grads.get(in.node.id);
                        if (prev == null) {
                            grads.put(in.node.id, gi[k]);
                            owned.ref(gi[k]);
                        } else if (owned.onlyView(prev) && prev.isContiguous() && prev.storage() != gi[k].storage()) {
                            prev.backend().binary(BinaryOp.ADD, prev, prev, gi[k]);    // nobody else sees prev
                        } else {
                            Tensor sum = owned.adopt(prev.add(gi[k]));
                            owned.unref(prev);
                            grads.put(in.node.id, sum);
                            owned.ref(sum);
                        }
                    }
                }
                for (Tensor t : gi) {
                    owned.releaseIfUnused(t);
                }
                owned.unref(g);
                if (profiler != null) {
                    profiler.backward("accumulate_grad", g, start);
                }
            }
        }
    }

    /**
     * The gradient of a slice node added in place into its region of the input's pending gradient, when that gradient
     * exists and is this backward's own, only, view of its storage (the second and later slices of a split: q, k, v
     * of one qkv projection). Work and memory are the slice's size; the slice's backward would allocate a zero
     * tensor of the input's full shape and the engine then add the two full tensors. False when the regular path
     * must run (no pending gradient yet, a shared one, or a leaf input).
     */
    private static boolean addIntoRegion(Node node, Tensor g, MutableLongObjectMap<Tensor> grads,
                                         OwnedGradients owned) {
        Variable in = node.inputs[0];
        if (in == null || !in.requiresGrad() || in.node == null) {
            return false;
        }
        Tensor prev = grads.get(in.node.id);
        if (prev == null || !owned.onlyView(prev) || !prev.isContiguous() || prev.storage() == g.storage()) {
            return false;
        }
        Node.Region r = node.region;
        Tensor region = prev.slice(r.axis(), r.start(), r.end());
        if (!region.sameShape(g)) {
            throw new IllegalStateException(node.op + " backward: gradient of shape " + Shape.str(g.shape())
                    + " for a region of shape " + Shape.str(region.shape()));
        }
        if (region.isContiguous()) {
            region.backend().binary(BinaryOp.ADD, region, region, g);
        } else {
            try (MemoryScope ignored = MemoryScope.open()) {
                region.backend().copy(region, region.add(g));
            }
        }
        return true;
    }

    /**
     * The gradient storage one backward allocated (the tensors nodes returned, and the sums of gradients meeting at a
     * node), each with the number of pending gradients that view it. A storage is released (a device buffer goes back
     * to its pool) as soon as no pending gradient views it: a leaf has copied or added it, or it was summed into
     * another; a gradient that is the only view of its storage takes later contributions in place. The caller's
     * output gradient and anything else not allocated by this backward is never touched.
     */
    private static final class OwnedGradients {
        private final MutableObjectIntMap<Storage> refs = new ObjectIntHashMap<>();

        Tensor adopt(Tensor t) {
            refs.getIfAbsentPut(t.storage(), 0);
            return t;
        }

        /** True when t's storage is this backward's and t is the one pending gradient that views it. */
        boolean onlyView(Tensor t) {
            return refs.containsKey(t.storage()) && refs.get(t.storage()) == 1;
        }

        void ref(Tensor t) {
            if (refs.containsKey(t.storage())) {
                refs.addToValue(t.storage(), 1);
            }
        }

        void unref(Tensor t) {
            if (refs.containsKey(t.storage())) {
                refs.addToValue(t.storage(), -1);
                releaseIfUnused(t);
            }
        }

        void releaseIfUnused(Tensor t) {
            if (t != null && refs.containsKey(t.storage()) && refs.get(t.storage()) == 0) {
                refs.remove(t.storage());
                t.storage().release();
            }
        }
    }

    /** The nodes reachable from root in post-order: every node after the nodes that produced its inputs. */
    private static List<Node> topologicalOrder(Node root) {
        List<Node> order = new ArrayList<>();
        MutableLongSet visited = new LongHashSet();
        // iterative post-order DFS: a frame is a node and the index of the next input to visit
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        if (root.released()) {
            throw released(root);
        }
        visited.add(root.id);
        stack.push(new Object[]{root, 0});
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Node node = (Node) frame[0];
            int next = (Integer) frame[1];
            if (next < node.inputs.length) {
                frame[1] = next + 1;
                Variable in = node.inputs[next];
                if (in != null && in.node != null && in.requiresGrad() && visited.add(in.node.id)) {
                    if (in.node.released()) {
                        throw released(in.node);
                    }
                    stack.push(new Object[]{in.node, 0});
                }
            } else {
                stack.pop();
                order.add(node);
            }
        }
        return order;
    }

    private static IllegalStateException released(Node node) {
        return new IllegalStateException("backward through the graph a second time: the saved tensors of '" + node.op
                + "' were already freed by an earlier backward()");
    }

    /** Sums {@code g} down to {@code shape}, undoing NumPy broadcasting (leading axes and size-1 axes). */
    static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) {
            return g;
        }
        int lead = gs.length - shape.length;
        Tensor r = g;
        for (int d = 0; d < lead; d++) {
            r = r.sum(0, false);
        }
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1 && r.size(d) != 1) {
                r = r.sum(d, true);
            }
        }
        return r;
    }
}
