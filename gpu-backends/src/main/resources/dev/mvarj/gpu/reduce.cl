// Reductions along the middle axis of x (outer, n, inner), softmax-family row kernels and sumOfSquares.
// Row kernels run one work-group of WG items per row and reduce through local memory in a fixed order.

#define R_SUM 0
#define R_MEAN 1
#define R_MAX 2

// x (outer, n, inner) -> out (outer, inner); one work-item per output, a compensated (Kahan) sum along n.
__kernel void reduce_cols(__global float* out, int oo, __global const float* x, int xo, int outer, int n,
                          int inner, int op) {
    int e = get_global_id(0);
    if (e >= outer * inner) {
        return;
    }
    int o = e / inner, in = e % inner;
    __global const float* p = x + xo + o * n * inner + in;
    float r;
    if (op == R_MAX) {
        r = -INFINITY;
        for (int k = 0; k < n && r == r; k++) {
            r = nan_max(r, p[k * inner]);
        }
    } else {
        float s = 0.0f, c = 0.0f;
        for (int k = 0; k < n; k++) {
            float y = p[k * inner] - c, t = s + y;
            c = (t - s) - y;
            s = t;
        }
        r = op == R_MEAN ? s / n : s;
    }
    out[oo + e] = r;
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
