// Index select / add and gather / scatter-add along the middle axis of (outer, n, inner).
// The accumulating kernels give each work-item one (o, c) column and walk its j in order, so no two work-items
// write one element: no float atomics. With chunks == 1 (few j) they add straight into dx, in the reference's
// order (bit-identical); otherwise each of `chunks` runs of j adds into its own zeroed slice of part
// (chunks, outer, n, inner) and reduce_cols_final adds the slices into dx in chunk order (deterministic, and
// outer·inner·chunks work-items instead of outer·inner).
// A bad index is reported through err (see report_bad_index) and the host throws.

// x (outer, n, inner), index (m) -> out (outer, m, inner)
__kernel void index_select(__global float* out, int oo, __global const float* x, int xo, __global const int* index,
                           int io, int outer, int n, int inner, int m, volatile __global int* err) {
    int e = get_global_id(0);
    if (e >= outer * m * inner) {
        return;
    }
    int c = e % inner, j = (e / inner) % m, o = e / (inner * m);
    int src = index[io + j];
    if (src < 0 || src >= n) {
        report_bad_index(err, src);
        return;
    }
    out[oo + e] = x[xo + (o * n + src) * inner + c];
}

// dout (outer, m, inner), index (m) -> dx (outer, n, inner) += (chunks == 1), or part[chunk] += (chunks > 1);
// global (outer·inner·chunks)
__kernel void index_add(__global float* dx, int dxo, __global const float* dout, int doo, __global const int* index,
                        int io, int outer, int n, int inner, int m, volatile __global int* err, int chunks) {
    int e = get_global_id(0);
    if (e >= outer * inner * chunks) {
        return;
    }
    int chunk = e / (outer * inner), o = (e / inner) % outer, c = e % inner, per = (m + chunks - 1) / chunks;
    if (chunks > 1) {
        dx += chunk * outer * n * inner;
    }
    for (int j = chunk * per; j < min(m, (chunk + 1) * per); j++) {
        int dst = index[io + j];
        if (dst < 0 || dst >= n) {
            report_bad_index(err, dst);
            return;
        }
        dx[dxo + (o * n + dst) * inner + c] += dout[doo + (o * m + j) * inner + c];
    }
}

// x (outer, n, inner), index (outer, m, inner) -> out (outer, m, inner)
__kernel void gather(__global float* out, int oo, __global const float* x, int xo, __global const int* index, int io,
                     int outer, int n, int inner, int m, volatile __global int* err) {
    int e = get_global_id(0);
    if (e >= outer * m * inner) {
        return;
    }
    int c = e % inner, o = e / (inner * m);
    int src = index[io + e];
    if (src < 0 || src >= n) {
        report_bad_index(err, src);
        return;
    }
    out[oo + e] = x[xo + (o * n + src) * inner + c];
}

// dout (outer, m, inner), index (outer, m, inner) -> dx (outer, n, inner) += (chunks == 1), or part[chunk] +=
// (chunks > 1); global (outer·inner·chunks)
__kernel void scatter_add(__global float* dx, int dxo, __global const float* dout, int doo, __global const int* index,
                          int io, int outer, int n, int inner, int m, volatile __global int* err, int chunks) {
    int e = get_global_id(0);
    if (e >= outer * inner * chunks) {
        return;
    }
    int chunk = e / (outer * inner), o = (e / inner) % outer, c = e % inner, per = (m + chunks - 1) / chunks;
    if (chunks > 1) {
        dx += chunk * outer * n * inner;
    }
    for (int j = chunk * per; j < min(m, (chunk + 1) * per); j++) {
        int f = (o * m + j) * inner + c;
        int dst = index[io + f];
        if (dst < 0 || dst >= n) {
            report_bad_index(err, dst);
            return;
        }
        dx[dxo + (o * n + dst) * inner + c] += dout[doo + f];
    }
}
