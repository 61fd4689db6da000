// Dense and neighbourhood attention, forward and backward (see ReferenceAttention for the definitions).
// One work-group per query row (forward, dq) or key row (dk, dv). Logits are recomputed, never stored: no
// (Lq, Lk) matrix. Probabilities of a chunk of WG keys (or queries) go through local memory, then each work-item
// accumulates its channels c = l, l + WG, ... over the chunk, in key (query) order: deterministic, no atomics.
//
// Which keys a query sees:
//   grid == 0 (dense): keys [start_i, end_i) from `ranges` (start (Lq) then end (Lq)), or all Lk when ranges is NULL;
//                      `bias` (Lq, Lk), when not NULL, is added to the scaled logits.
//   grid > 0 (neighbourhood, N = grid²): the win × win window (win = the kernel size; `kernel` is an OpenCL C
//   keyword) at a = clamp(pos - win/2, 0, grid - win).

typedef struct {
    int start, n, ai, aj;
} Keys;

inline int window_start(int i, int grid, int win) {
    return clamp(i - win / 2, 0, grid - win);
}

inline Keys keys_of(int i, __global const int* ranges, int ro, int Lq, int Lk, int grid, int win) {
    Keys r;
    if (grid > 0) {
        r.start = 0;
        r.n = win * win;
        r.ai = window_start(i / grid, grid, win);
        r.aj = window_start(i % grid, grid, win);
    } else {
        r.start = ranges == 0 ? 0 : ranges[ro + i];
        r.n = (ranges == 0 ? Lk : ranges[ro + Lq + i]) - r.start;
        r.ai = 0;
        r.aj = 0;
    }
    return r;
}

inline int key_at(Keys r, int t, int grid, int win) {
    return grid > 0 ? (r.ai + t / win) * grid + r.aj + t % win : r.start + t;
}

inline float dot_rows(__global const float* a, __global const float* b, int d) {
    float s = 0.0f;
    for (int c = 0; c < d; c++) {
        s += a[c] * b[c];
    }
    return s;
}

// s_ij = scale q_i·k_j + bias_ij
inline float logit(__global const float* qi, __global const float* kb, int j, int d, float scale,
                   __global const float* bias, int bo, int i, int Lk) {
    float s = scale * dot_rows(qi, kb + j * d, d);
    return bias == 0 ? s : s + bias[bo + i * Lk + j];
}

// q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq); groups: B·H·Lq
__kernel void attention_forward(__global float* out, int oo, __global float* lse, int lo,
                                __global const float* q, int qo, __global const float* k, int ko,
                                __global const float* v, int vo, __global const float* bias, int bo,
                                __global const int* ranges, int ro, int Lq, int Lk, int d, float scale,
                                int grid, int win) {
    __local float s[WG];
    __local float p[WG];
    __local int kj[WG];
    int row = get_group_id(0), l = get_local_id(0), bh = row / Lq, i = row % Lq;
    Keys r = keys_of(i, ranges, ro, Lq, Lk, grid, win);
    __global const float* qi = q + qo + row * d;
    __global const float* kb = k + ko + bh * Lk * d;
    __global const float* vb = v + vo + bh * Lk * d;
    __global float* oi = out + oo + row * d;

    float m = -INFINITY;
    for (int t = l; t < r.n; t += WG) {
        m = fmax(m, logit(qi, kb, key_at(r, t, grid, win), d, scale, bias, bo, i, Lk));
    }
    m = wg_max(m, s);
    if (m == -INFINITY) {
        // fully masked row: output 0, lse -inf
        for (int c = l; c < d; c += WG) {
            oi[c] = 0.0f;
        }
        if (l == 0) {
            lse[lo + row] = -INFINITY;
        }
        return;
    }
    float sum = 0.0f;
    for (int t = l; t < r.n; t += WG) {
        sum += exp(logit(qi, kb, key_at(r, t, grid, win), d, scale, bias, bo, i, Lk) - m);
    }
    float L = m + log(wg_sum(sum, s));
    // out_i = sum_t exp(s_t - lse) v_t
    for (int c0 = 0; c0 < d; c0 += WG) {
        int c = c0 + l;
        float acc = 0.0f;
        for (int t0 = 0; t0 < r.n; t0 += WG) {
            int t = t0 + l;
            if (t < r.n) {
                int j = key_at(r, t, grid, win);
                kj[l] = j;
                p[l] = exp(logit(qi, kb, j, d, scale, bias, bo, i, Lk) - L);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            int chunk = min(WG, r.n - t0);
            if (c < d) {
                for (int u = 0; u < chunk; u++) {
                    acc += p[u] * vb[kj[u] * d + c];
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (c < d) {
            oi[c] = acc;
        }
    }
    if (l == 0) {
        lse[lo + row] = L;
    }
}

// dq_i = scale sum_j dS_ij k_j with P_ij = exp(s_ij - lse_i), dS_ij = P_ij (dout_i·v_j - D_i), D_i = dout_i·out_i;
// also writes D (B,H,Lq) for the dk/dv win. groups: B·H·Lq
__kernel void attention_backward_dq(__global float* dq, int dqo, __global float* D,
                                    __global const float* dout, int doo, __global const float* q, int qo,
                                    __global const float* k, int ko, __global const float* v, int vo,
                                    __global const float* out, int oo, __global const float* lse, int lo,
                                    __global const float* bias, int bo, __global const int* ranges, int ro,
                                    int Lq, int Lk, int d, float scale, int grid, int win) {
    __local float s[WG];
    __local float ds[WG];
    __local int kj[WG];
    int row = get_group_id(0), l = get_local_id(0), bh = row / Lq, i = row % Lq;
    __global const float* qi = q + qo + row * d;
    __global const float* doi = dout + doo + row * d;
    __global const float* oi = out + oo + row * d;
    __global const float* kb = k + ko + bh * Lk * d;
    __global const float* vb = v + vo + bh * Lk * d;
    float part = 0.0f;
    for (int c = l; c < d; c += WG) {
        part += doi[c] * oi[c];
    }
    float Di = wg_sum(part, s);
    if (l == 0) {
        D[row] = Di;
    }
    float L = lse[lo + row];
    Keys r = keys_of(i, ranges, ro, Lq, Lk, grid, win);
    int n = L == -INFINITY ? 0 : r.n;
    for (int c0 = 0; c0 < d; c0 += WG) {
        int c = c0 + l;
        float acc = 0.0f;
        for (int t0 = 0; t0 < n; t0 += WG) {
            int t = t0 + l;
            if (t < n) {
                int j = key_at(r, t, grid, win);
                float pij = exp(logit(qi, kb, j, d, scale, bias, bo, i, Lk) - L);
                kj[l] = j;
                ds[l] = pij * (dot_rows(doi, vb + j * d, d) - Di);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            int chunk = min(WG, n - t0);
            if (c < d) {
                for (int u = 0; u < chunk; u++) {
                    acc += ds[u] * kb[kj[u] * d + c];
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (c < d) {
            dq[dqo + row * d + c] = scale * acc;
        }
    }
}

// The queries that can see key j: dense, all Lq (each checked against its range); neighbourhood, the rows
// [r0, r1) × columns [c0, c1) of queries whose window holds j (window starts are monotone in the position).
inline int2 window_holders(int pos, int grid, int win) {
    int lo = grid, hi = 0;
    for (int x = 0; x < grid; x++) {
        int a = window_start(x, grid, win);
        if (a <= pos && pos < a + win) {
            lo = min(lo, x);
            hi = max(hi, x + 1);
        }
    }
    return (int2)(lo, max(lo, hi));
}

// dv_j = sum_i P_ij dout_i, dk_j = scale sum_i dS_ij q_i; groups: B·H·Lk. Needs D from attention_backward_dq.
__kernel void attention_backward_dkdv(__global float* dk, int dko, __global float* dv, int dvo,
                                      __global const float* D, __global const float* dout, int doo,
                                      __global const float* q, int qo, __global const float* k, int ko,
                                      __global const float* v, int vo, __global const float* lse, int lo,
                                      __global const float* bias, int bo, __global const int* ranges, int ro,
                                      int Lq, int Lk, int d, float scale, int grid, int win) {
    __local float p[WG];
    __local float ds[WG];
    __local int qi_[WG];
    int row = get_group_id(0), l = get_local_id(0), bh = row / Lk, j = row % Lk;
    __global const float* vj = v + vo + row * d;
    __global const float* qb = q + qo + bh * Lq * d;
    __global const float* dob = dout + doo + bh * Lq * d;
    int2 rows = (int2)(0, Lq), cols = (int2)(0, 1);
    if (grid > 0) {
        rows = window_holders(j / grid, grid, win);
        cols = window_holders(j % grid, grid, win);
    }
    int width = cols.y - cols.x, count = (rows.y - rows.x) * width;
    for (int c0 = 0; c0 < d; c0 += WG) {
        int c = c0 + l;
        float accK = 0.0f, accV = 0.0f;
        for (int u0 = 0; u0 < count; u0 += WG) {
            int u = u0 + l;
            float pij = 0.0f, dsij = 0.0f;
            int i = 0;
            if (u < count) {
                i = grid > 0 ? (rows.x + u / width) * grid + cols.x + u % width : u;
                float L = lse[lo + bh * Lq + i];
                bool sees = L != -INFINITY;
                if (sees && grid == 0 && ranges != 0) {
                    sees = ranges[ro + i] <= j && j < ranges[ro + Lq + i];
                }
                if (sees) {
                    __global const float* qrow = qb + i * d;
                    __global const float* dorow = dob + i * d;
                    pij = exp(logit(qrow, k + ko + bh * Lk * d, j, d, scale, bias, bo, i, Lk) - L);
                    dsij = pij * (dot_rows(dorow, vj, d) - D[bh * Lq + i]);
                }
            }
            p[l] = pij;
            ds[l] = dsij;
            qi_[l] = i;
            barrier(CLK_LOCAL_MEM_FENCE);
            int chunk = min(WG, count - u0);
            if (c < d) {
                for (int t = 0; t < chunk; t++) {
                    if (p[t] != 0.0f || ds[t] != 0.0f) {
                        accV += p[t] * dob[qi_[t] * d + c];
                        accK += ds[t] * qb[qi_[t] * d + c];
                    }
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (c < d) {
            dk[dko + row * d + c] = scale * accK;
            dv[dvo + row * d + c] = accV;
        }
    }
}
