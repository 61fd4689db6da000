// Reductions along the middle axis of x (outer, n, inner), softmax-family row kernels and sumOfSquares.
// Row kernels run one work-group of WG items per row and reduce through local memory in a fixed order.

#define R_SUM 0
#define R_MEAN 1
#define R_MAX 2

// Column reductions x (outer, n, inner) -> out (outer, inner) in two passes with a fixed order (bit-identical
// from run to run). Pass 1: a work-group of RC columns x RL lanes takes rows [chunk·rows, (chunk + 1)·rows) of RC
// adjacent columns (consecutive work-items read consecutive floats); lane l sums rows l, l + RL, ..., then a tree
// over the lanes -> part (outer, chunks, inner). Pass 2 (reduce_cols_final): each output combines its chunks in
// order. The host picks chunks from n alone (OpenClBackend.reduceChunks), so a bias gradient over 20 000 rows
// runs as hundreds of work-groups instead of one work-item per column.
#define RC (WG < 32 ? WG : 32)
#define RL (WG / RC)

// x (outer, n, inner) -> part (outer, chunks, inner); global (roundUp(inner, RC), RL, outer·chunks), local (RC, RL)
__kernel __attribute__((reqd_work_group_size(RC, RL, 1)))
void reduce_cols_partial(__global float* part, __global const float* x, int xo, int n, int inner, int chunks,
                         int op) {
    __local float s[RL][RC + 1];
    int col = get_global_id(0), lc = get_local_id(0), lane = get_local_id(1);
    int o = get_group_id(2) / chunks, chunk = get_group_id(2) % chunks, rows = (n + chunks - 1) / chunks;
    int k0 = chunk * rows, k1 = min(n, k0 + rows);
    float v = op == R_MAX ? -INFINITY : 0.0f;
    if (col < inner) {
        __global const float* p = x + xo + o * n * inner + col;
        for (int k = k0 + lane; k < k1; k += RL) {
            v = op == R_MAX ? nan_max(v, p[k * inner]) : v + p[k * inner];
        }
    }
    s[lane][lc] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = RL / 2; h > 0; h >>= 1) {
        if (lane < h) {
            s[lane][lc] = op == R_MAX ? nan_max(s[lane][lc], s[lane + h][lc]) : s[lane][lc] + s[lane + h][lc];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && col < inner) {
        part[(o * chunks + chunk) * inner + col] = s[0][lc];
    }
}

// part (outer, chunks, inner) at offset po -> out (outer, inner): chunks combined in order; R_MEAN divides the sum
// by `count`; accumulate 1 adds the result to out (the index kernels' pass 2). One work-item per output.
__kernel void reduce_cols_final(__global float* out, int oo, __global const float* part, int po, int outer,
                                int chunks, int inner, int op, int count, int accumulate) {
    int e = get_global_id(0);
    if (e >= outer * inner) {
        return;
    }
    int o = e / inner, in = e % inner;
    __global const float* p = part + po + o * chunks * inner + in;
    float r = op == R_MAX ? -INFINITY : 0.0f;
    for (int c = 0; c < chunks; c++) {
        r = op == R_MAX ? nan_max(r, p[c * inner]) : r + p[c * inner];
    }
    if (op == R_MEAN) {
        r /= count;
    }
    out[oo + e] = accumulate ? out[oo + e] + r : r;
}

// x (rows, n) -> out (rows): the inner == 1 case, one work-group per row.
__kernel void reduce_rows(__global float* out, int oo, __global const float* x, int xo, int n, int op) {
    __local float s[WG];
    int r = get_group_id(0), l = get_local_id(0);
    __global const float* p = x + xo + r * n;
    float v;
    if (op == R_MAX) {
        v = -INFINITY;
        for (int k = l; k < n; k += WG) {
            v = nan_max(v, p[k]);
        }
        v = wg_max(v, s);
    } else {
        v = 0.0f;
        for (int k = l; k < n; k += WG) {
            v += p[k];
        }
        v = wg_sum(v, s);
        if (op == R_MEAN) {
            v /= n;
        }
    }
    if (l == 0) {
        out[oo + r] = v;
    }
}

// x (outer, n, inner) -> out (outer, inner) I32: first index of the maximum; a NaN counts as the maximum.
__kernel void argmax_cols(__global int* out, int oo, __global const float* x, int xo, int outer, int n, int inner) {
    int e = get_global_id(0);
    if (e >= outer * inner) {
        return;
    }
    int o = e / inner, in = e % inner;
    __global const float* p = x + xo + o * n * inner + in;
    int best = 0;
    float m = p[0];
    for (int k = 1; k < n && m == m; k++) {
        float v = p[k * inner];
        if (v > m || v != v) {
            m = v;
            best = k;
        }
    }
    out[oo + e] = best;
}

// x (rows, n) -> out (rows, n): softmax (logarithmic == 0) or log-softmax (logarithmic == 1), max-subtracted.
__kernel void softmax_rows(__global float* out, int oo, __global const float* x, int xo, int n, int logarithmic) {
    __local float s[WG];
    int r = get_group_id(0), l = get_local_id(0);
    __global const float* px = x + xo + r * n;
    __global float* po = out + oo + r * n;
    float m = -INFINITY;
    for (int k = l; k < n; k += WG) {
        m = nan_max(m, px[k]);
    }
    m = wg_max(m, s);
    float sum = 0.0f;
    for (int k = l; k < n; k += WG) {
        sum += exp(px[k] - m);
    }
    sum = wg_sum(sum, s);
    if (logarithmic) {
        float lse = m + log(sum);
        for (int k = l; k < n; k += WG) {
            po[k] = px[k] - lse;
        }
    } else {
        for (int k = l; k < n; k += WG) {
            po[k] = exp(px[k] - m) / sum;
        }
    }
}

// y, dy (rows, n) -> dx (rows, n). softmax: dx = y (dy - sum(dy y)); log-softmax: dx = dy - exp(y) sum(dy).
__kernel void softmax_backward_rows(__global float* dx, int dxo, __global const float* y, int yo,
                                    __global const float* dy, int dyo, int n, int logarithmic) {
    __local float s[WG];
    int r = get_group_id(0), l = get_local_id(0);
    __global const float* py = y + yo + r * n;
    __global const float* pdy = dy + dyo + r * n;
    __global float* pdx = dx + dxo + r * n;
    float acc = 0.0f;
    for (int k = l; k < n; k += WG) {
        acc += logarithmic ? pdy[k] : pdy[k] * py[k];
    }
    acc = wg_sum(acc, s);
    for (int k = l; k < n; k += WG) {
        pdx[k] = logarithmic ? pdy[k] - exp(py[k]) * acc : py[k] * (pdy[k] - acc);
    }
}

// sum of x^2 over x (n): group g sums the elements k with k % (groups·WG) in its slice, then a tree;
// partials (groups) come back to the host, which adds them in order in double.
__kernel void sum_squares(__global float* partials, __global const float* x, int xo, int n) {
    __local float s[WG];
    int stride = get_global_size(0);
    float acc = 0.0f;
    for (int k = get_global_id(0); k < n; k += stride) {
        float v = x[xo + k];
        acc += v * v;
    }
    acc = wg_sum(acc, s);
    if (get_local_id(0) == 0) {
        partials[get_group_id(0)] = acc;
    }
}
