package dev.mvarj.tensor;

import java.util.Arrays;

/**
 * A strided n-dimensional array: storage + offset + shape + strides + dtype + device. No gradients (those live in
 * {@code autograd}).
 *
 * <p>Views ({@link #reshape}, {@link #permute}, {@link #transpose}, {@link #slice}, {@link #expand},
 * {@link #unsqueeze}, {@link #squeeze}) change metadata only and share storage; {@link #contiguous()} copies only
 * when the layout is not already row-major. Arithmetic follows NumPy broadcasting and runs on the backend of the
 * tensor's device; a shape mismatch throws a {@link ShapeMismatchException} naming the op and both shapes.
 * {@link #toFloatArray()}, {@link #toDoubleArray()}, {@link #toIntArray()} and {@link #item()} are the only ways to
 * read values on the host.
 */
public final class Tensor {

    private final Storage storage;
    private final int offset;
    private final int[] shape;
    private final int[] strides;

    /** A view of {@code storage}; checks that every addressable element lies inside it. */
    public Tensor(Storage storage, int offset, int[] shape, int[] strides) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Shape.str(shape) + " and strides " + Shape.str(strides)
                    + " differ in rank");
        }
        int numel = Shape.numel(shape);
        if (numel > 0) {
            long lo = offset, hi = offset;
            for (int d = 0; d < shape.length; d++) {
                long span = (long) (shape[d] - 1) * strides[d];
                if (span < 0) {
                    lo += span;
                } else {
                    hi += span;
                }
            }
            if (lo < 0 || hi >= storage.length()) {
                throw new IndexOutOfBoundsException("view shape " + Shape.str(shape) + " strides "
                        + Shape.str(strides) + " offset " + offset + " reaches outside a storage of "
                        + storage.length() + " elements");
            }
        }
        this.storage = storage;
        this.offset = offset;
        this.shape = shape.clone();
        this.strides = strides.clone();
    }

    // ---------------------------------------------------------------------------------------------------- creation

    /** A new zero-filled contiguous tensor. */
    public static Tensor zeros(Device device, DType dtype, int... shape) {
        Storage s = Backends.forDevice(device).allocate(dtype, Shape.numel(shape));
        return new Tensor(s, 0, shape, Shape.contiguousStrides(shape));
    }

    /**
     * A new contiguous tensor whose elements are unspecified until written: for the output of a kernel that writes
     * every element, which then skips the zero fill (on the CPU, a recycled array is handed back as it was).
     */
    public static Tensor empty(Device device, DType dtype, int... shape) {
        Storage s = Backends.forDevice(device).allocateUninitialized(dtype, Shape.numel(shape));
        return new Tensor(s, 0, shape, Shape.contiguousStrides(shape));
    }

    /** A new zero-filled F32 tensor on the CPU. */
    public static Tensor zeros(int... shape) {
        return zeros(Device.CPU, DType.F32, shape);
    }

    /** A new zero-filled F32 tensor on {@code device}. */
    public static Tensor zeros(Device device, int... shape) {
        return zeros(device, DType.F32, shape);
    }

    /** A new F32 tensor on the CPU with every element {@code value}. */
    public static Tensor full(float value, int... shape) {
        return full(Device.CPU, value, shape);
    }

    /** A new F32 tensor on {@code device} with every element {@code value}. */
    public static Tensor full(Device device, float value, int... shape) {
        Tensor t = zeros(device, shape);
        t.backend().fill(t, value);
        return t;
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    /** A zero-filled tensor with this tensor's device and dtype. */
    public static Tensor zerosLike(Tensor t) {
        return zeros(t.device(), t.dtype(), t.shape);
    }

    /** A tensor with {@code t}'s device, dtype and shape, every element {@code value}. */
    public static Tensor fullLike(Tensor t, float value) {
        Tensor out = zerosLike(t);
        out.backend().fill(out, value);
        return out;
    }

    /** [0, 1, ..., n-1] as F32. */
    public static Tensor arange(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return of(v, n);
    }

    /** A scalar (shape []) F32 tensor on the CPU. */
    public static Tensor scalar(float value) {
        return of(new float[]{value});
    }

    /** A scalar (shape []) F32 tensor on {@code device}. */
    public static Tensor scalar(Device device, float value) {
        return full(device, value);
    }

    /** An F32 CPU tensor holding a copy of {@code data}, of the given shape (a scalar when no shape is given). */
    public static Tensor of(float[] data, int... shape) {
        checkLength(data.length, shape);
        Tensor t = zeros(Device.CPU, DType.F32, shape);
        t.backend().upload(t, data);
        return t;
    }

    /**
     * An F64 CPU tensor holding a copy of {@code data}. F64 is computed by the reference backend only (the
     * double-precision gradient checks); the fast backends store and convert it ({@link #to(DType)}).
     */
    public static Tensor of(double[] data, int... shape) {
        checkLength(data.length, shape);
        Tensor t = zeros(Device.CPU, DType.F64, shape);
        t.backend().upload(t, data);
        return t;
    }

    /** An I32 CPU tensor holding a copy of {@code data}. */
    public static Tensor ofInts(int[] data, int... shape) {
        checkLength(data.length, shape);
        Tensor t = zeros(Device.CPU, DType.I32, shape);
        t.backend().upload(t, data);
        return t;
    }

    private static void checkLength(int length, int[] shape) {
        if (length != Shape.numel(shape)) {
            throw new ShapeMismatchException("of: " + length + " values do not fill shape " + Shape.str(shape)
                    + " (" + Shape.numel(shape) + " elements)");
        }
    }

    // ---------------------------------------------------------------------------------------------------- metadata

    public Storage storage() {
        return storage;
    }

    public int offset() {
        return offset;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int[] strides() {
        return strides.clone();
    }

    /** Size of axis {@code d} (negative counts from the end). */
    public int size(int d) {
        return shape[Shape.axis("size", d, shape.length, 0)];
    }

    /** Stride of axis {@code d} (negative counts from the end). */
    public int stride(int d) {
        return strides[Shape.axis("stride", d, shape.length, 0)];
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return Shape.numel(shape);
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    /** The backend of this tensor's device. */
    public Backend backend() {
        return Backends.forDevice(device());
    }

    /** True when the elements are laid out row-major without gaps (size-1 axes may have any stride). */
    public boolean isContiguous() {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    // ---------------------------------------------------------------------------------------------------- views

    /**
     * The same elements with a new shape (one size may be -1). A view when the tensor is contiguous, otherwise a
     * contiguous copy, as {@code torch.reshape}.
     */
    public Tensor reshape(int... newShape) {
        int[] s = newShape.clone();
        int infer = -1, known = 1;
        for (int d = 0; d < s.length; d++) {
            if (s[d] == -1) {
                if (infer >= 0) {
                    throw new ShapeMismatchException("reshape: more than one -1 in " + Shape.str(newShape));
                }
                infer = d;
            } else {
                known *= s[d];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new ShapeMismatchException("reshape: cannot reshape " + Shape.str(shape) + " into "
                        + Shape.str(newShape));
            }
            s[infer] = numel() / known;
        }
        if (Shape.numel(s) != numel()) {
            throw new ShapeMismatchException("reshape: cannot reshape " + Shape.str(shape) + " (" + numel()
                    + " elements) into " + Shape.str(newShape));
        }
        Tensor c = contiguous();
        return new Tensor(c.storage, c.offset, s, Shape.contiguousStrides(s));
    }

    /** Reorders the axes: result axis i is this tensor's axis {@code dims[i]}. */
    public Tensor permute(int... dims) {
        if (dims.length != shape.length) {
            throw new ShapeMismatchException("permute: " + Shape.str(dims) + " does not name every axis of "
                    + Shape.str(shape));
        }
        int[] s = new int[dims.length], st = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shape.axis("permute", dims[i], shape.length, 0);
            if (seen[d]) {
                throw new ShapeMismatchException("permute: axis " + d + " repeated in " + Shape.str(dims));
            }
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return new Tensor(storage, offset, s, st);
    }

    /** Swaps two axes. */
    public Tensor transpose(int d0, int d1) {
        int a = Shape.axis("transpose", d0, shape.length, 0), b = Shape.axis("transpose", d1, shape.length, 0);
        int[] dims = new int[shape.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = i;
        }
        dims[a] = b;
        dims[b] = a;
        return permute(dims);
    }

    /** Elements {@code [start, end)} along {@code dim}, as a view. */
    public Tensor slice(int dim, int start, int end) {
        int d = Shape.axis("slice", dim, shape.length, 0);
        if (start < 0 || end > shape[d] || start > end) {
            throw new IndexOutOfBoundsException("slice: [" + start + ", " + end + ") out of range for axis " + d
                    + " of size " + shape[d] + " in shape " + Shape.str(shape));
        }
        int[] s = shape.clone();
        s[d] = end - start;
        return new Tensor(storage, offset + start * strides[d], s, strides);
    }

    /** Element {@code index} along {@code dim}, with that axis removed. */
    public Tensor select(int dim, int index) {
        return slice(dim, index, index + 1).squeeze(dim);
    }

    /**
     * A broadcast view: size-1 axes (and new leading axes) are repeated with stride 0. A size of -1 keeps the axis.
     */
    public Tensor expand(int... newShape) {
        if (newShape.length < shape.length) {
            throw new ShapeMismatchException("expand: cannot expand " + Shape.str(shape) + " to fewer axes "
                    + Shape.str(newShape));
        }
        int lead = newShape.length - shape.length;
        int[] s = new int[newShape.length], st = new int[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            if (i < lead) {
                if (newShape[i] < 0) {
                    throw new ShapeMismatchException("expand: -1 not allowed for new axis " + i + " in "
                            + Shape.str(newShape));
                }
                s[i] = newShape[i];
                st[i] = 0;
            } else {
                int have = shape[i - lead], want = newShape[i] == -1 ? have : newShape[i];
                if (have == want) {
                    s[i] = have;
                    st[i] = strides[i - lead];
                } else if (have == 1) {
                    s[i] = want;
                    st[i] = 0;
                } else {
                    throw new ShapeMismatchException("expand: cannot expand " + Shape.str(shape) + " to "
                            + Shape.str(newShape) + " (axis " + i + ": " + have + " vs " + want + ")");
                }
            }
        }
        return new Tensor(storage, offset, s, st);
    }

    /** A new size-1 axis at {@code dim} (0..rank). */
    public Tensor unsqueeze(int dim) {
        int d = Shape.axis("unsqueeze", dim, shape.length, 1);
        int[] s = new int[shape.length + 1], st = new int[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) {
                s[i] = 1;
                st[i] = j < shape.length ? strides[j] * shape[j] : 1;
            } else {
                s[i] = shape[j];
                st[i] = strides[j];
                j++;
            }
        }
        return new Tensor(storage, offset, s, st);
    }

    /** Removes axis {@code dim}, which must have size 1. */
    public Tensor squeeze(int dim) {
        int d = Shape.axis("squeeze", dim, shape.length, 0);
        if (shape[d] != 1) {
            throw new ShapeMismatchException("squeeze: axis " + d + " of " + Shape.str(shape) + " has size "
                    + shape[d] + ", not 1");
        }
        int[] s = new int[shape.length - 1], st = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) {
                s[j] = shape[i];
                st[j++] = strides[i];
            }
        }
        return new Tensor(storage, offset, s, st);
    }

    /** Removes every size-1 axis. */
    public Tensor squeeze() {
        Tensor t = this;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                t = t.squeeze(d);
            }
        }
        return t;
    }

    /** This tensor if it is contiguous, otherwise a contiguous copy. */
    public Tensor contiguous() {
        return isContiguous() ? this : copy();
    }

    /** A contiguous copy with its own storage. */
    public Tensor copy() {
        Tensor out = empty(device(), dtype(), shape);
        backend().copy(out, this);
        return out;
    }

    /** This tensor on {@code target} (itself when it is already there). */
    public Tensor to(Device target) {
        if (target.equals(device())) {
            return this;
        }
        Tensor out = zeros(target, dtype(), shape);
        switch (dtype()) {
            case F32 -> out.backend().upload(out, toFloatArray());
            case F64 -> out.backend().upload(out, toDoubleArray());
            case I32 -> out.backend().upload(out, toIntArray());
        }
        return out;
    }

    /**
     * This tensor converted to the floating dtype {@code target} (itself when it already has it): F32 → F64 is
     * exact, F64 → F32 rounds to nearest. Runs on the tensor's device.
     */
    public Tensor to(DType target) {
        if (target == dtype()) {
            return this;
        }
        requireFloating("to(" + target + ")");
        if (!target.isFloating()) {
            throw new IllegalArgumentException("to(" + target + "): only F32 and F64 convert into each other");
        }
        Tensor out = zeros(device(), target, shape);
        backend().copy(out, this);
        return out;
    }

    // ---------------------------------------------------------------------------------------------------- reading

    /** All elements in row-major order, as floats (F32 only). */
    public float[] toFloatArray() {
        requireDType("toFloatArray", DType.F32);
        return backend().downloadFloats(this);
    }

    /** All elements in row-major order, as doubles (F64, or F32 widened exactly). */
    public double[] toDoubleArray() {
        if (dtype() == DType.F32) {
            float[] f = toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        requireDType("toDoubleArray", DType.F64);
        return backend().downloadDoubles(this);
    }

    /** All elements in row-major order, as ints (I32 only). */
    public int[] toIntArray() {
        requireDType("toIntArray", DType.I32);
        return backend().downloadInts(this);
    }

    /** The value of a one-element tensor (an F64 value rounded to float). */
    public float item() {
        if (numel() != 1) {
            throw new ShapeMismatchException("item: tensor of shape " + Shape.str(shape) + " has " + numel()
                    + " elements, not 1");
        }
        return switch (dtype()) {
            case F32 -> toFloatArray()[0];
            case F64 -> (float) toDoubleArray()[0];
            case I32 -> toIntArray()[0];
        };
    }

    /** The element at {@code index} (one index per axis). */
    public float get(int... index) {
        if (index.length != shape.length) {
            throw new ShapeMismatchException("get: " + index.length + " indices for shape " + Shape.str(shape));
        }
        Tensor t = this;
        for (int d = index.length - 1; d >= 0; d--) {
            t = t.select(d, index[d]);
        }
        return t.item();
    }

    // ---------------------------------------------------------------------------------------------------- arithmetic

    /** {@code op(this, other)} broadcast; F32 with F64 gives F64 (PyTorch's type promotion). */
    private Tensor binary(BinaryOp op, Tensor other) {
        requireFloating(op.name().toLowerCase());
        other.requireFloating(op.name().toLowerCase());
        requireSameDevice(op.name().toLowerCase(), other);
        int[] outShape = Shape.broadcast(op.name().toLowerCase(), shape, other.shape);
        Tensor out = empty(device(), DType.promote(dtype(), other.dtype()), outShape);       // every element written
        backend().binary(op, out, expand(outShape), other.expand(outShape));
        return out;
    }

    public Tensor add(Tensor other) {
        return binary(BinaryOp.ADD, other);
    }

    public Tensor sub(Tensor other) {
        return binary(BinaryOp.SUB, other);
    }

    public Tensor mul(Tensor other) {
        return binary(BinaryOp.MUL, other);
    }

    public Tensor div(Tensor other) {
        return binary(BinaryOp.DIV, other);
    }

    public Tensor pow(Tensor exponent) {
        return binary(BinaryOp.POW, exponent);
    }

    /** Element-wise maximum (NaN-propagating). */
    public Tensor maximum(Tensor other) {
        return binary(BinaryOp.MAX, other);
    }

    /** Element-wise minimum (NaN-propagating). */
    public Tensor minimum(Tensor other) {
        return binary(BinaryOp.MIN, other);
    }

    public Tensor add(float value) {
        return binary(BinaryOp.ADD, scalar(device(), value));
    }

    public Tensor sub(float value) {
        return binary(BinaryOp.SUB, scalar(device(), value));
    }

    public Tensor mul(float value) {
        return binary(BinaryOp.MUL, scalar(device(), value));
    }

    public Tensor div(float value) {
        return binary(BinaryOp.DIV, scalar(device(), value));
    }

    public Tensor pow(float exponent) {
        return binary(BinaryOp.POW, scalar(device(), exponent));
    }

    /** Element-wise {@code op(x)}. */
    public Tensor map(UnaryOp op) {
        requireFloating(op.name().toLowerCase());
        Tensor out = empty(device(), dtype(), shape);
        backend().unary(op, out, this);
        return out;
    }

    public Tensor neg() {
        return map(UnaryOp.NEG);
    }

    public Tensor exp() {
        return map(UnaryOp.EXP);
    }

    public Tensor log() {
        return map(UnaryOp.LOG);
    }

    public Tensor sqrt() {
        return map(UnaryOp.SQRT);
    }

    /**
     * Matrix product with batch broadcasting: {@code (..., M, K) @ (..., K, N) -> (..., M, N)}; 1-D operands are
     * not promoted. A transposed view is passed to GEMM with a transpose flag instead of being copied.
     */
    public Tensor matmul(Tensor other) {
        requireFloating("matmul");
        other.requireFloating("matmul");
        requireSameDevice("matmul", other);
        if (rank() < 2 || other.rank() < 2) {
            throw new ShapeMismatchException("matmul: needs rank >= 2, got " + Shape.str(shape) + " and "
                    + Shape.str(other.shape));
        }
        int M = size(-2), K = size(-1), N = other.size(-1);
        if (other.size(-2) != K) {
            throw new ShapeMismatchException("matmul: inner sizes differ: " + Shape.str(shape) + " @ "
                    + Shape.str(other.shape));
        }
        int[] batch = Shape.broadcast("matmul", Arrays.copyOf(shape, rank() - 2),
                Arrays.copyOf(other.shape, other.rank() - 2));
        int nb = Shape.numel(batch);
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = M;
        outShape[batch.length + 1] = N;
        Tensor out = empty(device(), DType.promote(dtype(), other.dtype()), outShape);       // beta 0: written
        GemmOperand a = GemmOperand.of(this, batch), b = GemmOperand.of(other, batch);
        backend().gemm(a.trans, b.trans, nb, M, N, K, 1f, a.t, a.ld, a.batchStride, b.t, b.ld, b.batchStride,
                0f, out, N, M * N);
        return out;
    }

    /** How one matmul operand is handed to GEMM: possibly transposed, with one stride across the flat batch. */
    private record GemmOperand(Tensor t, boolean trans, int ld, int batchStride) {
        static GemmOperand of(Tensor x, int[] batch) {
            int[] full = Arrays.copyOf(batch, batch.length + 2);
            full[batch.length] = x.size(-2);
            full[batch.length + 1] = x.size(-1);
            Tensor e = x.expand(full);
            GemmOperand g = tryView(e, batch.length);
            return g != null ? g : tryView(e.contiguous(), batch.length);
        }

        private static GemmOperand tryView(Tensor e, int nbatch) {
            int r = e.size(-2), c = e.size(-1);
            int sr = e.stride(-2), sc = e.stride(-1);
            boolean trans;
            int ld;
            if (sc == 1 || c == 1) {
                trans = false;
                ld = r == 1 ? Math.max(c, 1) : sr;
                if (ld < c) {
                    return null;
                }
            } else if (sr == 1 || r == 1) {
                trans = true;
                ld = sc;
                if (ld < r) {
                    return null;
                }
            } else {
                return null;
            }
            // the batch axes must collapse into one stride (or all be broadcast)
            int stride = -1;
            boolean ok = true;
            int expected = -1;
            for (int d = nbatch - 1; d >= 0; d--) {
                if (e.shape[d] == 1) {
                    continue;
                }
                if (stride < 0) {
                    stride = e.strides[d];
                    expected = stride * e.shape[d];
                } else if (e.strides[d] != expected || stride == 0 && e.strides[d] != 0) {
                    ok = false;
                    break;
                } else {
                    expected = e.strides[d] * e.shape[d];
                }
            }
            if (!ok) {
                return null;
            }
            return new GemmOperand(e, trans, ld, Math.max(stride, 0));
        }
    }

    // ---------------------------------------------------------------------------------------------------- reductions

    private Tensor reduce(ReduceOp op, int axis, boolean keepDim) {
        requireFloating(op.name().toLowerCase());
        int d = Shape.axis(op.name().toLowerCase(), axis, rank(), 0);
        Tensor x = contiguous();
        Tensor out = zeros(device(), dtype(), reducedShape(d, keepDim));
        backend().reduce(op, out, x, Shape.prod(shape, 0, d), shape[d], Shape.prod(shape, d + 1, rank()));
        return out;
    }

    private int[] reducedShape(int d, boolean keepDim) {
        int[] s = keepDim ? shape.clone() : new int[rank() - 1];
        if (keepDim) {
            s[d] = 1;
        } else {
            for (int i = 0, j = 0; i < rank(); i++) {
                if (i != d) {
                    s[j++] = shape[i];
                }
            }
        }
        return s;
    }

    public Tensor sum(int axis, boolean keepDim) {
        return reduce(ReduceOp.SUM, axis, keepDim);
    }

    public Tensor mean(int axis, boolean keepDim) {
        return reduce(ReduceOp.MEAN, axis, keepDim);
    }

    public Tensor max(int axis, boolean keepDim) {
        return reduce(ReduceOp.MAX, axis, keepDim);
    }

    /** The sum of all elements, as a scalar tensor. */
    public Tensor sum() {
        return reshape(numel()).sum(0, false);
    }

    /** The mean of all elements, as a scalar tensor. */
    public Tensor mean() {
        return reshape(numel()).mean(0, false);
    }

    /** The index (I32) of the first maximum along {@code axis}. */
    public Tensor argmax(int axis, boolean keepDim) {
        requireFloating("argmax");
        int d = Shape.axis("argmax", axis, rank(), 0);
        Tensor x = contiguous();
        Tensor out = zeros(device(), DType.I32, reducedShape(d, keepDim));
        backend().argmax(out, x, Shape.prod(shape, 0, d), shape[d], Shape.prod(shape, d + 1, rank()));
        return out;
    }

    /** Softmax over the last axis. */
    public Tensor softmax() {
        requireFloating("softmax");
        Tensor x = contiguous();
        Tensor out = zerosLike(x);
        int n = rank() == 0 ? 1 : size(-1);
        backend().softmax(out, x, numel() / Math.max(n, 1), n);
        return out;
    }

    /** Log-softmax over the last axis. */
    public Tensor logSoftmax() {
        requireFloating("logSoftmax");
        Tensor x = contiguous();
        Tensor out = zerosLike(x);
        int n = rank() == 0 ? 1 : size(-1);
        backend().logSoftmax(out, x, numel() / Math.max(n, 1), n);
        return out;
    }

    // ---------------------------------------------------------------------------------------------------- checks

    /** Throws unless this tensor's dtype is {@code expected}. */
    public Tensor requireDType(String op, DType expected) {
        if (dtype() != expected) {
            throw new IllegalArgumentException(op + ": expected " + expected + ", got " + dtype() + " tensor of shape "
                    + Shape.str(shape));
        }
        return this;
    }

    /** Throws unless this tensor is F32 or F64. */
    public Tensor requireFloating(String op) {
        if (!dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating-point tensor (F32 or F64), got " + dtype()
                    + " tensor of shape " + Shape.str(shape));
        }
        return this;
    }

    /** Throws unless this tensor has exactly {@code expected} as its shape. */
    public Tensor requireShape(String op, int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new ShapeMismatchException(op + ": expected shape " + Shape.str(expected) + ", got "
                    + Shape.str(shape));
        }
        return this;
    }

    private void requireSameDevice(String op, Tensor other) {
        if (!device().equals(other.device())) {
            throw new IllegalArgumentException(op + ": tensors on different devices (" + device() + " and "
                    + other.device() + "); move one with to(device)");
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(Shape.str(shape));
        if (!device().isCpu()) {
            sb.append(", ").append(device());
        }
        int n = Math.min(numel(), 8);
        if (n > 0) {
            sb.append(", [");
            Tensor flat = reshape(numel()).slice(0, 0, n);
            if (dtype() == DType.F32) {
                float[] v = flat.toFloatArray();
                for (int i = 0; i < n; i++) {
                    sb.append(i > 0 ? ", " : "").append(v[i]);
                }
            } else if (dtype() == DType.F64) {
                double[] v = flat.toDoubleArray();
                for (int i = 0; i < n; i++) {
                    sb.append(i > 0 ? ", " : "").append(v[i]);
                }
            } else {
                int[] v = flat.toIntArray();
                for (int i = 0; i < n; i++) {
                    sb.append(i > 0 ? ", " : "").append(v[i]);
                }
            }
            sb.append(numel() > n ? ", ...]" : "]");
        }
        return sb.append(')').toString();
    }
}
