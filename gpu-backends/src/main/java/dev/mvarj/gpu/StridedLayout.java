package dev.mvarj.gpu;

import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;

/**
 * Packs up to four strided operands into the {@code Strided} struct of {@code common.cl}, passed to element-wise
 * kernels by value. Each operand keeps its own shape and strides (a copy may reshape), coalesced: size-1 axes are
 * dropped and neighbouring axes that are contiguous with each other merge, so a contiguous operand becomes rank 1
 * and its offset costs one division per element.
 *
 * <p>Layout (ints): {@code n, rank[4], shape[4][8], stride[4][8], offset[4]}.
 */
final class StridedLayout {

    static final int MAX_RANK = 8;
    static final int OPERANDS = 4;
    static final int INTS = 1 + OPERANDS + 2 * OPERANDS * MAX_RANK + OPERANDS;

    private StridedLayout() {
    }

    /** The struct's bytes for {@code n} elements of each operand (operand 0 is the output). */
    static int[] pack(String op, int n, Tensor... operands) {
        int[] s = new int[INTS];
        s[0] = n;
        for (int k = 0; k < operands.length; k++) {
            Tensor t = operands[k];
            int[][] c = coalesce(t.shape(), t.strides());
            int rank = c[0].length;
            if (rank > MAX_RANK) {
                throw new UnsupportedOperationException(op + " on opencl: operand of shape " + Shape.str(t.shape())
                        + " strides " + Shape.str(t.strides()) + " has more than " + MAX_RANK
                        + " non-mergeable axes");
            }
            s[1 + k] = rank;
            for (int d = 0; d < rank; d++) {
                s[1 + OPERANDS + k * MAX_RANK + d] = c[0][d];
                s[1 + OPERANDS + OPERANDS * MAX_RANK + k * MAX_RANK + d] = c[1][d];
            }
            s[1 + OPERANDS + 2 * OPERANDS * MAX_RANK + k] = t.offset();
        }
        return s;
    }

    /** {shape, strides} with size-1 axes dropped and row-major-adjacent axes merged; rank 1 at least. */
    static int[][] coalesce(int[] shape, int[] strides) {
        int[] sh = new int[shape.length], st = new int[shape.length];
        int r = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (r > 0 && st[r - 1] == (long) strides[d] * shape[d]) {
                sh[r - 1] *= shape[d];
                st[r - 1] = strides[d];
            } else {
                sh[r] = shape[d];
                st[r] = strides[d];
                r++;
            }
        }
        if (r == 0) {
            return new int[][]{{1}, {1}};
        }
        return new int[][]{java.util.Arrays.copyOf(sh, r), java.util.Arrays.copyOf(st, r)};
    }
}
