package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.cpu.Host;
import dev.mvarj.tensor.cpu.WorkerPool;

/**
 * Index-select / index-add and gather / scatter-add on the Vector API (definitions in {@code ReferenceBackend}).
 * The accumulating kernels are deterministic: a destination row is only ever written by the task that owns it,
 * which adds the sources in index order.
 */
final class SimdIndexing {

    /** Columns per task of index-add when there is a single outer slice (the embedding backward). */
    private static final int COLUMN_BLOCK = 256;

    private SimdIndexing() {
    }

    // x (outer, n, inner), index (m) -> out (outer, m, inner)
    static void indexSelect(WorkerPool pool, float[] out, int oo, float[] x, int xo, int[] idx, int io,
                            int outer, int n, int inner, int m) {
        pool.parallelFor(outer * m, SimdBackend.rowGrain(inner), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r / m, j = r % m;
                int src = Host.checkIndex("indexSelect", idx[io + j], n);
                System.arraycopy(x, xo + (o * n + src) * inner, out, oo + r * inner, inner);
            }
        });
    }

    // dout (outer, m, inner), index (m) -> dx (outer, n, inner) +=
    static void indexAdd(WorkerPool pool, float[] dx, int dxo, float[] dout, int doo, int[] idx, int io,
                         int outer, int n, int inner, int m) {
        for (int j = 0; j < m; j++) {
            Host.checkIndex("indexAdd", idx[io + j], n);
        }
        int blocks = (inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        pool.parallelFor(outer * blocks, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int o = t / blocks, c0 = (t % blocks) * COLUMN_BLOCK, w = Math.min(COLUMN_BLOCK, inner - c0);
                for (int j = 0; j < m; j++) {
                    int d = dxo + (o * n + idx[io + j]) * inner + c0;
                    SimdBackend.binaryRun(BinaryOp.ADD, dx, d, dout, doo + (o * m + j) * inner + c0, dx, d, w);
                }
            }
        });
    }

    // gather:      x (outer, n, inner), index (outer, m, inner) -> out (outer, m, inner)
    // scatter-add: dout (outer, m, inner), index (outer, m, inner) -> dx (outer, n, inner) +=
    static void gather(WorkerPool pool, float[] a, int ao, float[] b, int bo, int[] idx, int io,
                       int outer, int n, int inner, int m, boolean scatter) {
        pool.parallelFor(outer, SimdBackend.rowGrain(m * inner), (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                for (int j = 0; j < m; j++) {
                    for (int c = 0; c < inner; c++) {
                        int e = (o * m + j) * inner + c;
                        int k = Host.checkIndex(scatter ? "scatterAdd" : "gather", idx[io + e], n);
                        int big = (o * n + k) * inner + c;
                        if (scatter) {
                            a[ao + big] += b[bo + e];
                        } else {
                            a[ao + e] = b[bo + big];
                        }
                    }
                }
            }
        });
    }
}
