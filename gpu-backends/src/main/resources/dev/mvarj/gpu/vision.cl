// Convolution lowering (im2col / col2im) and group norm. See ReferenceVision for the definitions.

// x (B, C, H, W) -> cols (B, C·kh·kw, OH·OW); one work-item per element of cols, zero in the padding
__kernel void im2col(__global float* cols, int co, __global const float* x, int xo, int B, int C, int H, int W,
                     int kh, int kw, int stride, int padTop, int padLeft, int OH, int OW) {
    int e = get_global_id(0), P = OH * OW, K = C * kh * kw;
    if (e >= B * K * P) {
        return;
    }
    int p = e % P, row = (e / P) % K, b = e / (P * K);
    int j = row % kw, i = (row / kw) % kh, c = row / (kw * kh);
    int ih = (p / OW) * stride - padTop + i, iw = (p % OW) * stride - padLeft + j;
    bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
    cols[co + e] = inside ? x[xo + ((b * C + c) * H + ih) * W + iw] : 0.0f;
}

// cols (B, C·kh·kw, OH·OW) -> dx (B, C, H, W) +=; one work-item per element of dx, which adds its taps in (i, j)
// order (each tap has at most one (oh, ow)), the reference's order: bit-identical, no atomics
__kernel void col2im(__global float* dx, int dxo, __global const float* cols, int co, int B, int C, int H, int W,
                     int kh, int kw, int stride, int padTop, int padLeft, int OH, int OW) {
    int e = get_global_id(0);
    if (e >= B * C * H * W) {
        return;
    }
    int iw = e % W, ih = (e / W) % H, c = (e / (W * H)) % C, b = e / (W * H * C);
    int P = OH * OW, K = C * kh * kw;
    float acc = dx[dxo + e];
    for (int i = 0; i < kh; i++) {
        int th = ih + padTop - i;                 // = oh · stride
        if (th < 0 || th % stride != 0 || th / stride >= OH) {
            continue;
        }
        for (int j = 0; j < kw; j++) {
            int tw = iw + padLeft - j;
            if (tw < 0 || tw % stride != 0 || tw / stride >= OW) {
                continue;
            }
            acc += cols[co + (b * K + (c * kh + i) * kw + j) * P + (th / stride) * OW + tw / stride];
        }
    }
    dx[dxo + e] = acc;
}

// x (B, C, HW) -> out (B, C, HW), mean, rstd (B, G); one work-group per (b, g) over its (C/G)·HW elements
__kernel void group_norm_forward(__global float* out, int oo, __global float* mean, int mo, __global float* rstd,
                                 int ro, __global const float* x, int xo, __global const float* w, int wo,
                                 __global const float* b, int bo, int C, int HW, int G, float eps) {
    __local float s[WG];
    int bg = get_group_id(0), l = get_local_id(0), g = bg % G, cpg = C / G, n = cpg * HW;
    int base = (bg / G * C + g * cpg) * HW;
    float sum = 0.0f;
    for (int k = l; k < n; k += WG) {
        sum += x[xo + base + k];
    }
    float mu = wg_sum(sum, s) / n;
    float var = 0.0f;
    for (int k = l; k < n; k += WG) {
        float d = x[xo + base + k] - mu;
        var += d * d;
    }
    var = wg_sum(var, s) / n;
    float rs = 1.0f / sqrt(var + eps);
    for (int k = l; k < n; k += WG) {
        int c = g * cpg + k / HW;
        float v = (x[xo + base + k] - mu) * rs;
        out[oo + base + k] = w == 0 ? v : v * w[wo + c] + (b == 0 ? 0.0f : b[bo + c]);
    }
    if (l == 0) {
        mean[mo + bg] = mu;
        rstd[ro + bg] = rs;
    }
}

// dout, x (B, C, HW), mean, rstd (B, G) -> dx (B, C, HW); per group with g = dout w[c], xh = (x - mean) rstd:
// dx = rstd (g - mean(g) - xh mean(g xh))
__kernel void group_norm_backward_dx(__global float* dx, int dxo, __global const float* dout, int doo,
                                     __global const float* x, int xo, __global const float* mean, int mo,
                                     __global const float* rstd, int ro, __global const float* w, int wo,
                                     int C, int HW, int G) {
    __local float s[WG];
    int bg = get_group_id(0), l = get_local_id(0), g = bg % G, cpg = C / G, n = cpg * HW;
    int base = (bg / G * C + g * cpg) * HW;
    float mu = mean[mo + bg], rs = rstd[ro + bg];
    float gs = 0.0f, gxs = 0.0f;
    for (int k = l; k < n; k += WG) {
        int c = g * cpg + k / HW;
        float xh = (x[xo + base + k] - mu) * rs, gk = dout[doo + base + k] * (w == 0 ? 1.0f : w[wo + c]);
        gs += gk;
        gxs += gk * xh;
    }
    float gMean = wg_sum(gs, s) / n, gxMean = wg_sum(gxs, s) / n;
    for (int k = l; k < n; k += WG) {
        int c = g * cpg + k / HW;
        float xh = (x[xo + base + k] - mu) * rs, gk = dout[doo + base + k] * (w == 0 ? 1.0f : w[wo + c]);
        dx[dxo + base + k] = rs * (gk - gMean - xh * gxMean);
    }
}

// dw = sum_{b, hw} dout xh, db = sum_{b, hw} dout (C); one work-group per channel, batch by batch
__kernel void group_norm_backward_dwdb(__global float* dw, int dwo, __global float* db, int dbo,
                                       __global const float* dout, int doo, __global const float* x, int xo,
                                       __global const float* mean, int mo, __global const float* rstd, int ro,
                                       int B, int C, int HW, int G) {
    __local float s[WG];
    int c = get_group_id(0), l = get_local_id(0), g = c / (C / G);
    float sw = 0.0f, sb = 0.0f;
    for (int b = 0; b < B; b++) {
        float mu = mean[mo + b * G + g], rs = rstd[ro + b * G + g];
        int base = (b * C + c) * HW;
        for (int k = l; k < HW; k += WG) {
            float d = dout[doo + base + k];
            sw += d * (x[xo + base + k] - mu) * rs;
            sb += d;
        }
    }
    sw = wg_sum(sw, s);
    sb = wg_sum(sb, s);
    if (l == 0) {
        dw[dwo + c] = sw;
        if (db != 0) {
            db[dbo + c] = sb;
        }
    }
}
