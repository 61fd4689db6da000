// Layer norm and fused softmax cross-entropy. Row kernels: one work-group of WG items per row.

// x (rows, C) -> out (rows, C), mean (rows), rstd (rows); out = (x - mean) rstd w + b (w, b may be NULL)
__kernel void layer_norm_forward(__global float* out, int oo, __global float* mean, int mo, __global float* rstd,
                                 int ro, __global const float* x, int xo, __global const float* w, int wo,
                                 __global const float* b, int bo, int C, float eps) {
    __local float s[WG];
    int r = get_group_id(0), l = get_local_id(0);
    __global const float* px = x + xo + r * C;
    __global float* po = out + oo + r * C;
    float sum = 0.0f;
    for (int c = l; c < C; c += WG) {
        sum += px[c];
    }
    float mu = wg_sum(sum, s) / C;
    float var = 0.0f;
    for (int c = l; c < C; c += WG) {
        float d = px[c] - mu;
        var += d * d;
    }
    var = wg_sum(var, s) / C;
    float rs = 1.0f / sqrt(var + eps);
    for (int c = l; c < C; c += WG) {
        float nrm = (px[c] - mu) * rs;
        po[c] = w == 0 ? nrm : nrm * w[wo + c] + (b == 0 ? 0.0f : b[bo + c]);
    }
    if (l == 0) {
        mean[mo + r] = mu;
        rstd[ro + r] = rs;
    }
}

// dout, x (rows, C), mean, rstd (rows) -> dx (rows, C)
// with g = dout w and xh = (x - mean) rstd: dx = rstd (g - mean(g) - xh mean(g xh))
__kernel void layer_norm_backward_dx(__global float* dx, int dxo, __global const float* dout, int doo,
                                     __global const float* x, int xo, __global const float* mean, int mo,
                                     __global const float* rstd, int ro, __global const float* w, int wo, int C) {
    __local float s[WG];
    int r = get_group_id(0), l = get_local_id(0);
    __global const float* px = x + xo + r * C;
    __global const float* pd = dout + doo + r * C;
    float mu = mean[mo + r], rs = rstd[ro + r];
    float gs = 0.0f, gxs = 0.0f;
    for (int c = l; c < C; c += WG) {
        float xh = (px[c] - mu) * rs, g = pd[c] * (w == 0 ? 1.0f : w[wo + c]);
        gs += g;
        gxs += g * xh;
    }
    float gMean = wg_sum(gs, s) / C, gxMean = wg_sum(gxs, s) / C;
    for (int c = l; c < C; c += WG) {
        float xh = (px[c] - mu) * rs, g = pd[c] * (w == 0 ? 1.0f : w[wo + c]);
        dx[dxo + r * C + c] = rs * (g - gMean - xh * gxMean);
    }
}

// dout, x (rows, C), mean, rstd (rows) -> part (2, chunks, C): per chunk of rows, Σ dout xh (dw) and Σ dout (db);
// pass 1 of the two-pass column reduction of reduce.cl (same layout, global (roundUp(C, NC), NL, chunks), local
// (NC, NL)); reduce_cols_final adds the chunks in order into dw and db.
#define NC (WG < 32 ? WG : 32)
#define NL (WG / NC)
__kernel __attribute__((reqd_work_group_size(NC, NL, 1)))
void layer_norm_backward_dwdb_partial(__global float* part, __global const float* dout, int doo,
                                      __global const float* x, int xo, __global const float* mean, int mo,
                                      __global const float* rstd, int ro, int rows, int C, int chunks) {
    __local float sw[NL][NC + 1], sb[NL][NC + 1];
    int c = get_global_id(0), lc = get_local_id(0), lane = get_local_id(1), chunk = get_group_id(2);
    int per = (rows + chunks - 1) / chunks, r0 = chunk * per, r1 = min(rows, r0 + per);
    float w = 0.0f, b = 0.0f;
    if (c < C) {
        for (int r = r0 + lane; r < r1; r += NL) {
            float d = dout[doo + r * C + c];
            w += d * ((x[xo + r * C + c] - mean[mo + r]) * rstd[ro + r]);
            b += d;
        }
    }
    sw[lane][lc] = w;
    sb[lane][lc] = b;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = NL / 2; h > 0; h >>= 1) {
        if (lane < h) {
            sw[lane][lc] += sw[lane + h][lc];
            sb[lane][lc] += sb[lane + h][lc];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && c < C) {
        part[chunk * C + c] = sw[0][lc];
        part[(chunks + chunk) * C + c] = sb[0][lc];
    }
}

// logits (N, V), target (N) I32, weight (N) -> loss (N), lse (N)
// loss = w ((1 - eps) (lse - z_t) + eps (lse - mean_v z))
__kernel void cross_entropy_forward(__global float* loss, int lo, __global float* lse, int so,
                                    __global const float* logits, int zo, __global const int* target, int to,
                                    __global const float* weight, int wo, int V, float smoothing,
                                    volatile __global int* err) {
    __local float s[WG];
    int r = get_group_id(0), l = get_local_id(0);
    __global const float* z = logits + zo + r * V;
    float m = -INFINITY;
    for (int v = l; v < V; v += WG) {
        m = nan_max(m, z[v]);
    }
    m = wg_max(m, s);
    float sum = 0.0f, zsum = 0.0f;
    for (int v = l; v < V; v += WG) {
        sum += exp(z[v] - m);
        zsum += z[v];
    }
    sum = wg_sum(sum, s);
    float mean = wg_sum(zsum, s) / V;
    if (l == 0) {
        float L = m + log(sum);
        int t = target[to + r];
        if (t < 0 || t >= V) {
            report_bad_index(err, t);
            t = 0;
        }
        float ce = (1.0f - smoothing) * (L - z[t]) + smoothing * (L - mean);
        loss[lo + r] = weight[wo + r] * ce;
        lse[so + r] = L;
    }
}

// dloss (N) -> dlogits (N, V) = dloss w (softmax - (1 - eps) onehot_t - eps / V); global (V, N)
__kernel void cross_entropy_backward(__global float* dz, int dzo, __global const float* dloss, int dlo,
                                     __global const float* logits, int zo, __global const float* lse, int so,
                                     __global const int* target, int to, __global const float* weight, int wo,
                                     int N, int V, float smoothing) {
    int v = get_global_id(0), r = get_global_id(1);
    if (v >= V || r >= N) {
        return;
    }
    float scale = dloss[dlo + r] * weight[wo + r];
    float p = exp(logits[zo + r * V + v] - lse[so + r]) - smoothing / V
            - (v == target[to + r] ? 1.0f - smoothing : 0.0f);
    dz[dzo + r * V + v] = scale * p;
}
