package dev.mvarj.autograd;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Neighborhood;
import dev.mvarj.tensor.Resampling;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;
import dev.mvarj.tensor.random.BatchShard;
import dev.mvarj.tensor.random.Rng;

import java.util.Arrays;

import static dev.mvarj.autograd.Engine.record;
import static dev.mvarj.autograd.Engine.sumTo;

/**
 * The differentiable op set, in the spirit of {@code torch.nn.functional}: each op computes its forward with backend
 * kernels and records a backward closure over exactly what it saves. Forward and backward sit side by side; the
 * backward restates the line it differentiates. Shapes use the llm.c notation.
 */
public final class F {

    private F() {
    }

    private static Variable[] in(Variable... v) {
        return v;
    }

    private static Tensor newLike(Tensor t) {
        return Tensor.zerosLike(t);
    }

    /**
     * A zero-filled tensor of {@code shape} with {@code like}'s device and dtype: every op allocates where its input
     * lives, in its input's precision (F32, or F64 under the double-precision gradient checks).
     */
    private static Tensor zerosOn(Tensor like, int... shape) {
        return Tensor.zeros(like.device(), like.dtype(), shape);
    }

    // ============================================================================================ element-wise

    /** a + b, broadcast. */
    public static Variable add(Variable a, Variable b) {
        int[] sa = a.shape(), sb = b.shape();
        return record("add", a.data().add(b.data()), in(a, b),
                g -> new Tensor[]{sumTo(g, sa), sumTo(g, sb)});
    }

    /** a − b, broadcast. */
    public static Variable sub(Variable a, Variable b) {
        int[] sa = a.shape(), sb = b.shape();
        return record("sub", a.data().sub(b.data()), in(a, b),
                g -> new Tensor[]{sumTo(g, sa), sumTo(g.neg(), sb)});
    }

    /** a ⊙ b, broadcast. */
    public static Variable mul(Variable a, Variable b) {
        Tensor x = a.data(), y = b.data();
        return record("mul", x.mul(y), in(a, b), g -> new Tensor[]{
                a.requiresGrad() ? sumTo(g.mul(y), x.shape()) : null,
                b.requiresGrad() ? sumTo(g.mul(x), y.shape()) : null});
    }

    /** a / b, broadcast. */
    public static Variable div(Variable a, Variable b) {
        Tensor x = a.data(), y = b.data();
        return record("div", x.div(y), in(a, b), g -> new Tensor[]{
                // d(x/y)/dx = 1/y ; d(x/y)/dy = −x/y²
                a.requiresGrad() ? sumTo(g.div(y), x.shape()) : null,
                b.requiresGrad() ? sumTo(g.mul(x).div(y.mul(y)).neg(), y.shape()) : null});
    }

    /** x + c. */
    public static Variable add(Variable x, float c) {
        return record("add_scalar", x.data().add(c), in(x), g -> new Tensor[]{g});
    }

    /** x · c. */
    public static Variable mul(Variable x, float c) {
        return record("mul_scalar", x.data().mul(c), in(x), g -> new Tensor[]{g.mul(c)});
    }

    public static Variable neg(Variable x) {
        return record("neg", x.data().neg(), in(x), g -> new Tensor[]{g.neg()});
    }

    /** x^e for a scalar exponent. */
    public static Variable pow(Variable x, float e) {
        Tensor xd = x.data();
        // d(x^e)/dx = e · x^(e−1)
        return record("pow", xd.pow(e), in(x), g -> new Tensor[]{g.mul(xd.pow(e - 1)).mul(e)});
    }

    public static Variable exp(Variable x) {
        Tensor y = x.data().exp();
        return record("exp", y, in(x), g -> new Tensor[]{g.mul(y)});
    }

    public static Variable log(Variable x) {
        Tensor xd = x.data();
        return record("log", xd.log(), in(x), g -> new Tensor[]{g.div(xd)});
    }

    public static Variable sqrt(Variable x) {
        Tensor y = x.data().sqrt();
        // d√x/dx = 1 / (2√x)
        return record("sqrt", y, in(x), g -> new Tensor[]{g.div(y).mul(0.5f)});
    }

    /** min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi, as torch.clamp. */
    public static Variable clamp(Variable x, float lo, float hi) {
        Tensor xd = x.data();
        Tensor low = Tensor.scalar(xd.device(), lo), high = Tensor.scalar(xd.device(), hi);
        Tensor out = xd.maximum(low).minimum(high);
        return record("clamp", out, in(x), g -> {
            Tensor inside = compare(BinaryOp.GE, xd, low).mul(compare(BinaryOp.GE, high, xd));
            return new Tensor[]{g.mul(inside)};
        });
    }

    /** 1/0 of a op b (GT, GE, EQ), broadcast. */
    private static Tensor compare(BinaryOp op, Tensor a, Tensor b) {
        int[] shape = Shape.broadcast(op.name().toLowerCase(), a.shape(), b.shape());
        Tensor out = zerosOn(a, shape);
        a.backend().binary(op, out, a.expand(shape), b.expand(shape));
        return out;
    }

    /** cond ? a : b element-wise; cond is I32 (non-zero = true) and everything broadcasts. */
    public static Variable where(Tensor cond, Variable a, Variable b) {
        cond.requireDType("where", DType.I32);
        int[] shape = Shape.broadcast("where", Shape.broadcast("where", cond.shape(), a.shape()), b.shape());
        Tensor c = cond.expand(shape);
        Tensor out = Tensor.zeros(a.data().device(), DType.promote(a.data().dtype(), b.data().dtype()), shape);
        out.backend().where(out, c, a.data().expand(shape), b.data().expand(shape));
        int[] sa = a.shape(), sb = b.shape();
        return record("where", out, in(a, b), g -> {
            Tensor zero = zerosOn(g, shape);
            Tensor ga = null, gb = null;
            if (a.requiresGrad()) {
                ga = zerosOn(g, shape);
                g.backend().where(ga, c, g, zero);
            }
            if (b.requiresGrad()) {
                gb = zerosOn(g, shape);
                g.backend().where(gb, c, zero, g);
            }
            return new Tensor[]{ga == null ? null : sumTo(ga, sa), gb == null ? null : sumTo(gb, sb)};
        });
    }

    /** x with {@code value} where mask (I32, broadcast to x) is non-zero. */
    public static Variable maskedFill(Variable x, Tensor mask, float value) {
        mask.requireDType("maskedFill", DType.I32);
        int[] shape = x.shape();
        Shape.broadcast("maskedFill", shape, mask.shape());
        Tensor m = mask.expand(shape);
        Tensor out = newLike(x.data());
        out.backend().where(out, m, Tensor.scalar(out.device(), value).expand(shape), x.data());
        return record("masked_fill", out, in(x), g -> {
            Tensor gx = newLike(g);
            g.backend().where(gx, m, zerosOn(g, shape), g);
            return new Tensor[]{gx};
        });
    }

    // ============================================================================================ products

    /** (..., M, K) @ (..., K, N) -> (..., M, N), batch axes broadcast. */
    public static Variable matmul(Variable a, Variable b) {
        Tensor x = a.data(), y = b.data();
        return record("matmul", x.matmul(y), in(a, b), g -> new Tensor[]{
                // dA = dC · Bᵀ ; dB = Aᵀ · dC (summed over broadcast batch axes)
                a.requiresGrad() ? sumTo(g.matmul(y.transpose(-1, -2)), x.shape()) : null,
                b.requiresGrad() ? sumTo(x.transpose(-1, -2).matmul(g), y.shape()) : null});
    }

    /** x (..., Cin), w (Cout, Cin), b (Cout) or null -> x · wᵀ + b (..., Cout). */
    public static Variable linear(Variable x, Variable w, Variable b) {
        int cin = w.size(1), cout = w.size(0);
        if (x.size(-1) != cin || w.rank() != 2 || b != null && (b.rank() != 1 || b.size(0) != cout)) {
            throw new ShapeMismatchException("linear: x " + Shape.str(x.shape()) + ", weight " + Shape.str(w.shape())
                    + (b == null ? "" : ", bias " + Shape.str(b.shape())) + ": expected x (..., Cin), weight (Cout, Cin),"
                    + " bias (Cout)");
        }
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = cout;
        Tensor x2 = x.data().reshape(-1, cin);
        int rows = x2.size(0);
        Tensor out = Tensor.empty(x.data().device(), DType.promote(x.data().dtype(), w.data().dtype()), rows, cout);
        Tensor wd = w.data();
        out.backend().linear(out, x2.contiguous(), wd.contiguous(), b == null ? null : b.data().contiguous(),
                rows, cin, cout);
        return record("linear", out.reshape(outShape), b == null ? in(x, w) : in(x, w, b), g -> {
            Tensor g2 = g.reshape(rows, cout);
            Tensor dx = null, dw = null, db = null;
            if (x.requiresGrad()) { // dx = dout · w
                dx = g2.matmul(wd).reshape(x.shape());
            }
            if (w.requiresGrad()) { // dw = doutᵀ · x
                dw = g2.transpose(0, 1).matmul(x2);
            }
            if (b != null && b.requiresGrad()) { // db = Σ_rows dout
                db = g2.sum(0, false);
            }
            return b == null ? new Tensor[]{dx, dw} : new Tensor[]{dx, dw, db};
        });
    }

    // ============================================================================================ reductions

    /** The sum of all elements, a scalar (shape []). */
    public static Variable sum(Variable x) {
        int[] shape = x.shape();
        return record("sum", x.data().sum(), in(x), g -> new Tensor[]{g.expand(shape).contiguous()});
    }

    /** The mean of all elements, a scalar (shape []). */
    public static Variable mean(Variable x) {
        int[] shape = x.shape();
        float n = x.data().numel();
        return record("mean", x.data().mean(), in(x), g -> new Tensor[]{g.div(n).expand(shape).contiguous()});
    }

    /** Sum over {@code axes}. */
    public static Variable sum(Variable x, int[] axes, boolean keepDim) {
        return reduceAxes("sum", x, axes, keepDim, false);
    }

    /** Mean over {@code axes}. */
    public static Variable mean(Variable x, int[] axes, boolean keepDim) {
        return reduceAxes("mean", x, axes, keepDim, true);
    }

    private static Variable reduceAxes(String op, Variable x, int[] axes, boolean keepDim, boolean mean) {
        int[] shape = x.shape();
        int[] ax = Arrays.stream(axes).map(a -> Shape.axis(op, a, shape.length, 0)).sorted().distinct().toArray();
        int[] kept = shape.clone();
        int count = 1;
        Tensor r = x.data();
        for (int a : ax) {
            r = r.sum(a, true);
            kept[a] = 1;
            count *= shape[a];
        }
        if (mean) {
            r = r.div(count);
        }
        float scale = mean ? 1f / count : 1f;
        Tensor out = keepDim ? r : r.reshape(dropAxes(shape, ax));
        return record(op, out, in(x), g -> new Tensor[]{g.mul(scale).reshape(kept).expand(shape).contiguous()});
    }

    private static int[] dropAxes(int[] shape, int[] axes) {
        int[] out = new int[shape.length - axes.length];
        for (int d = 0, j = 0; d < shape.length; d++) {
            if (Arrays.binarySearch(axes, d) < 0) {
                out[j++] = shape[d];
            }
        }
        return out;
    }

    // ============================================================================================ views and copies

    public static Variable reshape(Variable x, int... shape) {
        int[] old = x.shape();
        return record("reshape", x.data().reshape(shape), in(x), g -> new Tensor[]{g.reshape(old)});
    }

    public static Variable permute(Variable x, int... dims) {
        int[] inverse = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            inverse[Shape.axis("permute", dims[i], dims.length, 0)] = i;
        }
        return record("permute", x.data().permute(dims), in(x), g -> new Tensor[]{g.permute(inverse)});
    }

    public static Variable transpose(Variable x, int d0, int d1) {
        return record("transpose", x.data().transpose(d0, d1), in(x), g -> new Tensor[]{g.transpose(d0, d1)});
    }

    /** Elements [start, end) along {@code axis}. */
    public static Variable slice(Variable x, int axis, int start, int end) {
        int[] shape = x.shape();
        int a = Shape.axis("slice", axis, shape.length, 0);
        return Engine.record("slice", x.data().slice(axis, start, end), in(x), g -> {
            Tensor dx = zerosOn(g, shape);
            dx.backend().copy(dx.slice(axis, start, end), g);
            return new Tensor[]{dx};
        }, new Node.Region(a, start, end));
    }

    /** Joins the inputs along an existing axis. */
    public static Variable concat(int axis, Variable... xs) {
        int[] shape = xs[0].shape();
        int a = Shape.axis("concat", axis, shape.length, 0);
        int total = 0;
        for (Variable v : xs) {
            int[] s = v.shape();
            s[a] = shape[a];
            if (!Arrays.equals(s, shape)) {
                throw new ShapeMismatchException("concat: shapes " + Shape.str(xs[0].shape()) + " and "
                        + Shape.str(v.shape()) + " differ outside axis " + a);
            }
            total += v.size(a);
        }
        int[] outShape = shape.clone();
        outShape[a] = total;
        Tensor out = zerosOn(xs[0].data(), outShape);
        int[] starts = new int[xs.length + 1];
        for (int i = 0; i < xs.length; i++) {
            starts[i + 1] = starts[i] + xs[i].size(a);
            out.backend().copy(out.slice(a, starts[i], starts[i + 1]), xs[i].data());
        }
        return record("concat", out, xs, g -> {
            Tensor[] gs = new Tensor[xs.length];
            for (int i = 0; i < xs.length; i++) {
                gs[i] = g.slice(a, starts[i], starts[i + 1]).contiguous();
            }
            return gs;
        });
    }

    /** Joins the inputs along a new axis. */
    public static Variable stack(int axis, Variable... xs) {
        int a = Shape.axis("stack", axis, xs[0].rank(), 1);
        Variable[] u = new Variable[xs.length];
        for (int i = 0; i < xs.length; i++) {
            if (!Arrays.equals(xs[i].shape(), xs[0].shape())) {
                throw new ShapeMismatchException("stack: shapes " + Shape.str(xs[0].shape()) + " and "
                        + Shape.str(xs[i].shape()) + " differ");
            }
            int[] s = xs[i].shape();
            int[] us = new int[s.length + 1];
            for (int d = 0, j = 0; d < us.length; d++) {
                us[d] = d == a ? 1 : s[j++];
            }
            u[i] = reshape(xs[i], us);
        }
        return concat(a, u);
    }

    // ============================================================================================ indexing

    /** Rows {@code index} (I32, 1-D) of x along {@code axis}: x (.., n, ..) -> (.., m, ..). */
    public static Variable indexSelect(Variable x, int axis, Tensor index) {
        index.requireDType("indexSelect", DType.I32);
        if (index.rank() != 1) {
            throw new ShapeMismatchException("indexSelect: index must be 1-D, got " + Shape.str(index.shape()));
        }
        int[] shape = x.shape();
        int a = Shape.axis("indexSelect", axis, shape.length, 0);
        int outer = Shape.prod(shape, 0, a), n = shape[a], inner = Shape.prod(shape, a + 1, shape.length);
        int m = index.size(0);
        int[] outShape = shape.clone();
        outShape[a] = m;
        Tensor idx = index.contiguous(), xd = x.data().contiguous();
        Tensor out = zerosOn(xd, outShape);
        out.backend().indexSelect(out, xd, idx, outer, n, inner, m);
        return record("index_select", out, in(x), g -> {
            Tensor dx = zerosOn(g, shape);
            dx.backend().indexAdd(dx, g.contiguous(), idx, outer, n, inner, m);
            return new Tensor[]{dx};
        });
    }

    /** torch.gather: out[.., j, ..] = x[.., index[.., j, ..], ..] along {@code axis}; index has x's rank. */
    public static Variable gather(Variable x, int axis, Tensor index) {
        index.requireDType("gather", DType.I32);
        int[] shape = x.shape(), ishape = index.shape();
        int a = Shape.axis("gather", axis, shape.length, 0);
        for (int d = 0; d < shape.length; d++) {
            if (ishape.length != shape.length || d != a && ishape[d] != shape[d]) {
                throw new ShapeMismatchException("gather: index shape " + Shape.str(ishape) + " must equal x shape "
                        + Shape.str(shape) + " except along axis " + a);
            }
        }
        int outer = Shape.prod(shape, 0, a), n = shape[a], inner = Shape.prod(shape, a + 1, shape.length);
        int m = ishape[a];
        Tensor idx = index.contiguous(), xd = x.data().contiguous();
        Tensor out = zerosOn(xd, ishape);
        out.backend().gather(out, xd, idx, outer, n, inner, m);
        return record("gather", out, in(x), g -> {
            Tensor dx = zerosOn(g, shape);
            dx.backend().scatterAdd(dx, g.contiguous(), idx, outer, n, inner, m);
            return new Tensor[]{dx};
        });
    }

    /** weight (V, C), index (any shape) I32 -> (index shape..., C). */
    public static Variable embedding(Variable weight, Tensor index) {
        if (weight.rank() != 2) {
            throw new ShapeMismatchException("embedding: weight must be (V, C), got " + Shape.str(weight.shape()));
        }
        int[] outShape = Arrays.copyOf(index.shape(), index.rank() + 1);
        outShape[index.rank()] = weight.size(1);
        return reshape(indexSelect(weight, 0, index.reshape(index.numel())), outShape);
    }

    // ============================================================================================ activations

    /** GELU, tanh approximation (as PyTorch's approximate='tanh'). */
    public static Variable gelu(Variable x) {
        Tensor xd = x.data();
        return record("gelu_tanh", xd.map(UnaryOp.GELU_TANH), in(x), g -> new Tensor[]{binary(BinaryOp.GELU_TANH_GRAD, xd, g)});
    }

    /** x · σ(x). */
    public static Variable silu(Variable x) {
        Tensor xd = x.data();
        return record("silu", xd.map(UnaryOp.SILU), in(x), g -> new Tensor[]{binary(BinaryOp.SILU_GRAD, xd, g)});
    }

    /** op(a, b) for same-shape a, b. */
    private static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = newLike(a);
        a.backend().binary(op, out, a, b.contiguous());
        return out;
    }

    /** Softmax over the last axis. */
    public static Variable softmax(Variable x) {
        Tensor y = x.data().softmax();
        int n = x.size(-1), rows = y.numel() / n;
        return record("softmax", y, in(x), g -> {
            Tensor dx = newLike(y);
            dx.backend().softmaxBackward(dx, y, g.contiguous(), rows, n);
            return new Tensor[]{dx};
        });
    }

    /** Log-softmax over the last axis. */
    public static Variable logSoftmax(Variable x) {
        Tensor y = x.data().logSoftmax();
        int n = x.size(-1), rows = y.numel() / n;
        return record("log_softmax", y, in(x), g -> {
            Tensor dx = newLike(y);
            dx.backend().logSoftmaxBackward(dx, y, g.contiguous(), rows, n);
            return new Tensor[]{dx};
        });
    }

    // ============================================================================================ normalisation

    /** Layer norm over the last axis; w and b (C) may be null (no affine parameters, as VAR's AdaLN blocks). */
    public static Variable layerNorm(Variable x, Variable w, Variable b, float eps) {
        int C = x.size(-1);
        if (w != null && !Arrays.equals(w.shape(), new int[]{C}) || b != null && !Arrays.equals(b.shape(), new int[]{C})) {
            throw new ShapeMismatchException("layerNorm: x " + Shape.str(x.shape()) + " needs weight and bias of shape ["
                    + C + "], got " + (w == null ? "none" : Shape.str(w.shape())) + " and "
                    + (b == null ? "none" : Shape.str(b.shape())));
        }
        Tensor xd = x.data().contiguous();
        int rows = xd.numel() / C;
        Tensor out = newLike(xd), mean = zerosOn(xd, rows), rstd = zerosOn(xd, rows);
        Tensor wd = w == null ? null : w.data().contiguous(), bd = b == null ? null : b.data().contiguous();
        out.backend().layerNormForward(out, mean, rstd, xd, wd, bd, rows, C, eps);
        Variable[] inputs = w == null ? in(x) : b == null ? in(x, w) : in(x, w, b);
        return record("layer_norm", out, inputs, g -> {
            Tensor dx = newLike(xd);
            Tensor dw = wd == null ? null : zerosOn(xd, C), db = wd == null ? null : zerosOn(xd, C);
            dx.backend().layerNormBackward(dx, dw, db, g.contiguous(), xd, mean, rstd, wd, rows, C);
            return w == null ? new Tensor[]{dx} : b == null ? new Tensor[]{dx, dw} : new Tensor[]{dx, dw, db};
        });
    }

    /**
     * y = x / c with c = max(‖x‖₂, eps) along {@code axis}, as torch.nn.functional.normalize; one node. Backward,
     * with m = 1 where ‖x‖ ≥ eps (the gradient passes the clamp there, as torch.clamp's) and 0 where the norm is
     * clamped: dx = (g − m · y · Σ_axis(g · y)) / c. Where m = 1, c = ‖x‖ and this is the projection of g off y
     * scaled by 1/‖x‖; where m = 0, c = eps is a constant. No division by ‖x‖ itself, so a zero row is safe.
     */
    public static Variable l2Normalize(Variable x, int axis, float eps) {
        Tensor xd = x.data();
        int ax = Shape.axis("l2_normalize", axis, xd.rank(), 0);
        if (ax == xd.rank() - 1) {
            // the last axis: the backend's row kernels (one pass for the norms, one for y; one for dx)
            Tensor xc = xd.contiguous();
            int n = xd.size(ax), rows = xd.numel() / Math.max(1, n);
            Tensor y = Tensor.zeros(xd.device(), xd.dtype(), xd.shape()), norm = Tensor.zeros(xd.device(), xd.dtype(), rows);
            xc.backend().l2NormalizeForward(y, norm, xc, rows, n, eps);
            return record("l2_normalize", y, in(x), g -> {
                Tensor dx = Tensor.zeros(g.device(), g.dtype(), g.shape());
                g.backend().l2NormalizeBackward(dx, g.contiguous(), y, norm, rows, n, eps);
                return new Tensor[]{dx};
            });
        }
        Tensor norm = xd.mul(xd).sum(ax, true).sqrt();                     // ‖x‖, the axis kept as 1
        Tensor low = Tensor.scalar(xd.device(), eps);
        Tensor c = norm.maximum(low);
        Tensor y = xd.div(c);
        return record("l2_normalize", y, in(x), g -> {
            Tensor dot = g.mul(y).sum(ax, true).mul(compare(BinaryOp.GE, norm, low));   // m · Σ(g · y)
            return new Tensor[]{g.sub(y.mul(dot)).div(c)};
        });
    }

    // ============================================================================================ regularisation

    /** Dropout with probability p: x · mask / (1 − p), the mask drawn from {@code rng}; identity when not training. */
    public static Variable dropout(Variable x, float p, Rng rng, boolean training) {
        return dropout(x, p, rng, training, BatchShard.WHOLE);
    }

    /** Dropout of x (B, ...), a {@code shard} of a larger batch: the mask is that part of the whole batch's. */
    public static Variable dropout(Variable x, float p, Rng rng, boolean training, BatchShard shard) {
        if (!training || p == 0f) {
            return x;
        }
        Tensor mask = keepMask(rng, p, x.data().device(), shard, x.shape());
        return dropout(x, mask, p);
    }

    /** Dropout with a given 0/1 mask (x's shape): x · mask / (1 − p). */
    public static Variable dropout(Variable x, Tensor mask, float p) {
        Tensor scaled = mask.mul(1f / (1f - p));
        return record("dropout", x.data().mul(scaled), in(x), g -> new Tensor[]{g.mul(scaled)});
    }

    /** Stochastic depth: each sample of x (B, ...) is kept with probability 1 − p and rescaled by 1/(1 − p). */
    public static Variable dropPath(Variable x, float p, Rng rng, boolean training) {
        return dropPath(x, p, rng, training, BatchShard.WHOLE);
    }

    /** Drop path of x (B, ...), a {@code shard} of a larger batch: each sample keeps its draw from the whole batch's. */
    public static Variable dropPath(Variable x, float p, Rng rng, boolean training, BatchShard shard) {
        if (!training || p == 0f) {
            return x;
        }
        return dropPath(x, keepMask(rng, p, x.data().device(), shard, x.size(0)), p);
    }

    /** Drop path with a given per-sample 0/1 {@code keep} (B). */
    public static Variable dropPath(Variable x, Tensor keep, float p) {
        int[] s = new int[x.rank()];
        Arrays.fill(s, 1);
        s[0] = x.size(0);
        Tensor scaled = keep.reshape(s).mul(1f / (1f - p));
        return record("drop_path", x.data().mul(scaled), in(x), g -> new Tensor[]{g.mul(scaled)});
    }

    /**
     * 1 with probability 1 − p, else 0, drawn on the host (one stream whatever the device) and placed on
     * {@code device}; {@code shape} is this shard's part of the whole batch's mask (the leading dimension the batch).
     */
    private static Tensor keepMask(Rng rng, float p, Device device, BatchShard shard, int... shape) {
        float[] u = shard.uniform(rng, Shape.numel(shape));
        for (int i = 0; i < u.length; i++) {
            u[i] = u[i] >= p ? 1f : 0f;
        }
        return Tensor.of(u, shape).to(device);
    }

    // ============================================================================================ losses

    /**
     * Σ_i weight_i · CE(logits_i, target_i) with label smoothing ε, a scalar. logits (N, V), target (N) I32,
     * weight (N) (e.g. 1/(B·L) for VAR's per-token mean). Fused with the softmax.
     */
    public static Variable crossEntropy(Variable logits, Tensor target, Tensor weight, float smoothing) {
        int N = logits.size(0), V = logits.size(1);
        if (logits.rank() != 2 || !Arrays.equals(target.shape(), new int[]{N}) || !Arrays.equals(weight.shape(), new int[]{N})) {
            throw new ShapeMismatchException("crossEntropy: logits " + Shape.str(logits.shape()) + ", target "
                    + Shape.str(target.shape()) + ", weight " + Shape.str(weight.shape())
                    + ": expected (N, V), (N), (N)");
        }
        target.requireDType("crossEntropy", DType.I32);
        Tensor z = logits.data().contiguous(), t = target.contiguous(), w = weight.contiguous();
        Tensor loss = zerosOn(z, N), lse = zerosOn(z, N);
        z.backend().crossEntropyForward(loss, lse, z, t, w, N, V, smoothing);
        return record("cross_entropy", loss.sum(), in(logits), g -> {
            Tensor dz = newLike(z);
            z.backend().crossEntropyBackward(dz, g.expand(N).contiguous(), z, lse, t, w, N, V, smoothing);
            return new Tensor[]{dz};
        });
    }

    /** mean((a − b)²), a scalar. */
    public static Variable mse(Variable a, Variable b) {
        Variable d = sub(a, b);
        return mean(mul(d, d));
    }

    // ============================================================================================ gradient routing

    /** x + stopgrad(q − x): the value of q, the gradient of the identity to x and none to q. */
    public static Variable straightThrough(Variable x, Variable q) {
        if (!Arrays.equals(x.shape(), q.shape())) {
            throw new ShapeMismatchException("straightThrough: x " + Shape.str(x.shape()) + " and q "
                    + Shape.str(q.shape()) + " differ");
        }
        return record("straight_through", q.data(), in(x), g -> new Tensor[]{g});
    }

    /** The value of x, with no gradient. */
    public static Variable stopGradient(Variable x) {
        return x.detach();
    }

    // ============================================================================================ attention

    /**
     * Scaled dot-product attention softmax(scale · q·kᵀ + mask)·v, fused (no (Lq, Lk) matrix is kept):
     * {@code q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d)}. The mask broadcasts over (B, H); a fully masked row
     * gives 0. Saves q, k, v, out and the row log-sum-exp (B,H,Lq) for backward.
     */
    public static Variable attention(Variable q, Variable k, Variable v, AttentionMask mask, float scale) {
        if (q.rank() != 4 || k.rank() != 4 || !Arrays.equals(k.shape(), v.shape())
                || q.size(0) != k.size(0) || q.size(1) != k.size(1) || q.size(3) != k.size(3)) {
            throw new ShapeMismatchException("attention: q " + Shape.str(q.shape()) + ", k " + Shape.str(k.shape())
                    + ", v " + Shape.str(v.shape()) + ": expected (B,H,Lq,d), (B,H,Lk,d), (B,H,Lk,d)");
        }
        int B = q.size(0), H = q.size(1), Lq = q.size(2), Lk = k.size(2), d = q.size(3);
        mask.check(Lq, Lk);
        Tensor qd = q.data().contiguous(), kd = k.data().contiguous(), vd = v.data().contiguous();
        Tensor out = newLike(qd), lse = zerosOn(qd, B, H, Lq);
        out.backend().attentionForward(out, lse, qd, kd, vd, mask, B, H, Lq, Lk, d, scale);
        return record("attention", out, in(q, k, v), g -> {
            // out = softmax(scale · q·kᵀ + mask)·v
            Tensor dq = newLike(qd), dk = newLike(kd), dv = newLike(vd);
            dq.backend().attentionBackward(dq, dk, dv, g.contiguous(), qd, kd, vd, out, lse, mask,
                    B, H, Lq, Lk, d, scale);
            return new Tensor[]{dq, dk, dv};
        });
    }

    /**
     * 2-D neighbourhood attention (MVAR's spatial-Markov attention, NATTEN's clamped window, see
     * {@link Neighborhood}): {@code q, k, v (B,H,N,d), N = grid² row-major -> out (B,H,N,d)}; each query attends to
     * its kernel × kernel window at O(N·k²·d) cost. Saves q, k, v, out and lse (B,H,N).
     */
    public static Variable neighborhoodAttention(Variable q, Variable k, Variable v, int grid, int kernel,
                                                 float scale) {
        Neighborhood.check(grid, kernel);
        int N = grid * grid;
        if (q.rank() != 4 || q.size(2) != N || !Arrays.equals(q.shape(), k.shape())
                || !Arrays.equals(q.shape(), v.shape())) {
            throw new ShapeMismatchException("neighborhoodAttention: q " + Shape.str(q.shape()) + ", k "
                    + Shape.str(k.shape()) + ", v " + Shape.str(v.shape()) + ": expected three (B,H," + N
                    + ",d) tensors for a " + grid + "x" + grid + " grid");
        }
        int B = q.size(0), H = q.size(1), d = q.size(3);
        Tensor qd = q.data().contiguous(), kd = k.data().contiguous(), vd = v.data().contiguous();
        Tensor out = newLike(qd), lse = zerosOn(qd, B, H, N);
        out.backend().neighborhoodAttentionForward(out, lse, qd, kd, vd, B, H, grid, kernel, d, scale);
        return record("neighborhood_attention", out, in(q, k, v), g -> {
            // out_n = softmax_t(scale · q_n·k_{table[n,t]})·v_{table[n,t]}
            Tensor dq = newLike(qd), dk = newLike(kd), dv = newLike(vd);
            dq.backend().neighborhoodAttentionBackward(dq, dk, dv, g.contiguous(), qd, kd, vd, out, lse,
                    B, H, grid, kernel, d, scale);
            return new Tensor[]{dq, dk, dv};
        });
    }

    // ============================================================================================ vision

    /**
     * 2-D convolution with zero padding (im2col + GEMM): x (B, Cin, H, W), w (Cout, Cin, kh, kw), b (Cout) or null
     * -> (B, Cout, OH, OW), OH = (H + padTop + padBottom − kh) / stride + 1. Padding may be asymmetric (the VQ-VAE
     * downsample pads [0, 1, 0, 1] with stride 2). A 1×1 conv with stride 1 and no padding skips im2col.
     */
    public static Variable conv2d(Variable x, Variable w, Variable b, int stride,
                                  int padTop, int padBottom, int padLeft, int padRight) {
        return Vision.conv2d(x, w, b, stride, padTop, padBottom, padLeft, padRight);
    }

    /** Nearest-neighbour ×2 upsampling: x (B, C, H, W) -> (B, C, 2H, 2W); backward sums each 2×2 block. */
    public static Variable upsampleNearest2x(Variable x) {
        return Vision.upsampleNearest2x(x);
    }

    /**
     * {@code F.interpolate(x, size=(oh, ow), mode='area')}: x (B, C, H, W) -> (B, C, oh, ow), as A_h · X · A_wᵀ
     * per plane with the matrices of {@link Resampling#area}.
     */
    public static Variable areaResample(Variable x, int oh, int ow) {
        return Vision.resample("area_resample", Resampling.Mode.AREA, x, oh, ow);
    }

    /**
     * {@code F.interpolate(x, size=(oh, ow), mode='bicubic', align_corners=False)}: x (B, C, H, W) -> (B, C, oh, ow),
     * as B_h · X · B_wᵀ per plane with the matrices of {@link Resampling#bicubic}.
     */
    public static Variable bicubicResample(Variable x, int oh, int ow) {
        return Vision.resample("bicubic_resample", Resampling.Mode.BICUBIC, x, oh, ow);
    }

    /**
     * Group norm as torch's F.group_norm: x (B, C, H, W) normalised over each group of C/groups channels and all
     * positions (biased variance), then w[c] · x̂ + b[c]; w and b (C) may be null.
     */
    public static Variable groupNorm(Variable x, int groups, Variable w, Variable b, float eps) {
        return Vision.groupNorm(x, groups, w, b, eps);
    }
}
