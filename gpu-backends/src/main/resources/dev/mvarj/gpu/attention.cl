// Dense and neighbourhood attention, forward and backward, as tiled (flash-style) kernels. The definitions are
// ReferenceAttention's; docs/gpu.md#attention has the tiling and the cost model.
//
// A work-group owns a block of AR "rows" (queries in the forward and dq kernels, keys in the dk/dv kernel) with AT
// work-items per row, and streams tiles of AC "columns" (keys, or queries) through local memory: each tile is
// loaded once by the whole group with consecutive work-items reading consecutive floats (coalesced), its AR x AC
// logits are computed once into local memory, and each work-item keeps the channels c = t, t + AT, ... of its row
// in registers. Rows of the local tiles are DH + 1 floats long, so the AT lanes of a row reading AT different tile
// rows hit AT different banks. No (Lq, Lk) matrix, no float atomics: every output has one writer and sums run in
// a fixed order, so results do not depend on timing.
//
// Build options (OpenClBackend.AttentionConfig): AR (a square: the neighbourhood tiles are APATCH x APATCH),
// AT, AC, DH (a power of two >= the head dim d; the kernels loop to d).
//
// Which keys a query i sees:
//   grid == 0 (dense): keys [start_i, end_i) from `ranges` (start (Lq) then end (Lq)), or all Lk when ranges is NULL;
//                      `bias` (Lq, Lk), when not NULL, is added to the scaled logits.
//   grid > 0 (neighbourhood, N = grid²): the win × win window (win = the kernel size; `kernel` is an OpenCL C
//   keyword) at a = clamp(pos - win/2, 0, grid - win) in both axes.

#ifndef AR
#define AR 16
#define AT 16
#define AC 32
#define DH 64
#endif
#define APATCH (AR == 16 ? 4 : (AR == 4 ? 2 : 1))
#define ANT (AR * AT)
#define DP (DH + 1)
#define CPT (DH / AT)

inline int window_start(int x, int grid, int win) {
    return clamp(x - win / 2, 0, grid - win);
}

// The grid rows (or columns) x whose window covers position pos: [lo, hi) (window starts are monotone in x).
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

// A block of rows: dense, rows [first, first + AR) of L; neighbourhood, the APATCH x APATCH patch `block` of the
// grid (patches row-major). Row r of the block is position row_at(..) or -1 past the edge.
inline int row_at(int block, int r, int L, int grid) {
    if (grid == 0) {
        int i = block * AR + r;
        return i < L ? i : -1;
    }
    int tiles = (grid + APATCH - 1) / APATCH;
    int y = (block / tiles) * APATCH + r / APATCH, x = (block % tiles) * APATCH + r % APATCH;
    return y < grid && x < grid ? y * grid + x : -1;
}

inline int blocks_of(int L, int grid) {
    int tiles = (grid + APATCH - 1) / APATCH;
    return grid == 0 ? (L + AR - 1) / AR : tiles * tiles;
}

// The columns a block streams: dense, [lo, lo + n); neighbourhood, the rectangle rows [y0, y0 + n / w) x columns
// [x0, x0 + w) of the grid, row-major.
typedef struct {
    int lo, n, y0, x0, w;
} Span;

inline int span_at(Span s, int u, int grid) {
    return grid == 0 ? s.lo + u : (s.y0 + u / s.w) * grid + s.x0 + u % s.w;
}

// The neighbourhood rectangle of a patch: `holders` 0 gives the union of the patch's windows (the keys its queries
// see), 1 the union of the queries whose windows hold a key of the patch.
inline Span patch_span(int block, int grid, int win, int holders) {
    int tiles = (grid + APATCH - 1) / APATCH;
    int y0 = (block / tiles) * APATCH, x0 = (block % tiles) * APATCH;
    int y1 = min(grid, y0 + APATCH) - 1, x1 = min(grid, x0 + APATCH) - 1;
    Span s;
    s.lo = 0;
    if (holders) {
        int2 ry = (int2)(window_holders(y0, grid, win).x, window_holders(y1, grid, win).y);
        int2 rx = (int2)(window_holders(x0, grid, win).x, window_holders(x1, grid, win).y);
        s.y0 = ry.x;
        s.x0 = rx.x;
        s.w = rx.y - rx.x;
        s.n = (ry.y - ry.x) * s.w;
    } else {
        s.y0 = window_start(y0, grid, win);
        s.x0 = window_start(x0, grid, win);
        s.w = window_start(x1, grid, win) + win - s.x0;
        s.n = (window_start(y1, grid, win) + win - s.y0) * s.w;
    }
    return s;
}

// Whether query i sees key j (both valid positions), by the rules at the top.
inline bool sees(int i, int j, __global const int* ranges, int Lq, int grid, int win) {
    if (grid > 0) {
        int ay = window_start(i / grid, grid, win), ax = window_start(i % grid, grid, win);
        int y = j / grid, x = j % grid;
        return ay <= y && y < ay + win && ax <= x && x < ax + win;
    }
    return ranges == 0 || (ranges[i] <= j && j < ranges[Lq + i]);
}

// The first key tile at or after t0 that a query of the block sees, or keys.n: a tile that the key-range mask
// hides from every query of the block is skipped (VAR's block-causal and MVAR's block-diagonal masks hide whole
// tiles). The same for every work-item, so the tile loop's barriers stay uniform.
inline int next_key_tile(int t0, Span keys, __local const int* rowIdx, __global const int* ranges, int Lq,
                         int grid) {
    if (grid > 0 || ranges == 0) {
        return t0;
    }
    for (; t0 < keys.n; t0 += AC) {
        int j0 = keys.lo + t0, j1 = keys.lo + min(keys.n, t0 + AC);
        for (int r = 0; r < AR; r++) {
            int i = rowIdx[r];
            if (i >= 0 && ranges[i] < j1 && ranges[Lq + i] > j0) {
                return t0;
            }
        }
    }
    return keys.n;
}

// The first query tile at or after t0 with a query that sees a key in [j0, j1), or n (dense queries 0 .. n - 1).
inline int next_query_tile(int t0, int n, int j0, int j1, __global const int* ranges, int Lq, int grid) {
    if (grid > 0 || ranges == 0) {
        return t0;
    }
    for (; t0 < n; t0 += AC) {
        for (int i = t0; i < min(n, t0 + AC); i++) {
            if (ranges[i] < j1 && ranges[Lq + i] > j0) {
                return t0;
            }
        }
    }
    return n;
}

// s_ij = scale q_i·k_j + bias_ij over rows of local tiles, or -inf where i does not see j
inline float tile_logit(__local const float* qrow, __local const float* krow, int d, float scale, int i, int j,
                        __global const float* bias, int bo, int Lk, __global const int* ranges, int Lq, int grid,
                        int win) {
    if (i < 0 || j < 0 || !sees(i, j, ranges, Lq, grid, win)) {
        return -INFINITY;
    }
    float s = 0.0f;
    for (int c = 0; c < d; c++) {
        s += qrow[c] * krow[c];
    }
    s *= scale;
    return bias == 0 ? s : s + bias[bo + i * Lk + j];
}

// rows (count, d) of src at positions idx[] (-1: zeros) -> dst (count, DP) in local memory; coalesced along d
inline void load_rows(__local float* dst, __global const float* src, __local const int* idx, int count, int d) {
    for (int e = get_local_id(0); e < count * d; e += ANT) {
        int r = e / d, c = e % d, p = idx[r];
        dst[r * DP + c] = p >= 0 ? src[p * d + c] : 0.0f;
    }
}

// The key span of a query block: dense, [min start, max end) over its queries; neighbourhood, the windows' union.
inline Span key_span(__local const int* rowIdx, int block, __global const int* ranges, int Lq, int Lk, int grid,
                     int win) {
    if (grid > 0) {
        return patch_span(block, grid, win, 0);
    }
    Span s;
    s.lo = 0;
    s.n = Lk;
    s.y0 = s.x0 = s.w = 0;
    if (ranges != 0) {
        int lo = Lk, hi = 0;
        for (int r = 0; r < AR; r++) {
            int i = rowIdx[r];
            if (i >= 0 && ranges[Lq + i] > ranges[i]) {
                lo = min(lo, ranges[i]);
                hi = max(hi, ranges[Lq + i]);
            }
        }
        s.lo = lo;
        s.n = max(0, hi - lo);
    }
    return s;
}

// The block's rows (row_at, -1 past the edge) into rowIdx; returns this work-item's row. Ends with a barrier.
inline int block_rows(__local int* rowIdx, int block, int L, int grid) {
    int lid = get_local_id(0);
    if (lid < AR) {
        rowIdx[lid] = row_at(block, lid, L, grid);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    return rowIdx[lid / AT];
}

// Key tile t0 of a query block's span: its key indices into colIdx, its K and V rows into Ks and Vs, between
// barriers (the previous tile's readers are done; the next readers see the whole tile).
inline void load_key_tile(__local float* Ks, __local float* Vs, __local int* colIdx, __global const float* k,
                          __global const float* v, Span keys, int t0, int d, int grid) {
    int lid = get_local_id(0), cols = min(AC, keys.n - t0);
    if (lid < AC) {
        colIdx[lid] = lid < cols ? span_at(keys, t0 + lid, grid) : -1;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    load_rows(Ks, k, colIdx, AC, d);
    load_rows(Vs, v, colIdx, AC, d);
    barrier(CLK_LOCAL_MEM_FENCE);
}

// ---------------------------------------------------------------------------------------------- forward

// q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq); groups (blocks_of(Lq), B·H) of ANT work-items.
// Online softmax per query row i over key tiles: m = running max, l = running Σ exp(s - m), acc = Σ exp(s - m) v;
// out_i = acc / l, lse_i = m + log l; a fully masked row gives out 0, lse -inf.
__kernel __attribute__((reqd_work_group_size(ANT, 1, 1)))
void attention_forward(__global float* out, int oo, __global float* lse, int lo,
                       __global const float* q, int qo, __global const float* k, int ko,
                       __global const float* v, int vo, __global const float* bias, int bo,
                       __global const int* ranges, int ro, int Lq, int Lk, int d, float scale, int grid, int win) {
    __local float Qs[AR * DP], Ks[AC * DP], Vs[AC * DP], S[AR * (AC + 1)];
    __local int rowIdx[AR], colIdx[AC];
    int lid = get_local_id(0), r = lid / AT, t = lid % AT, block = get_group_id(0), bh = get_group_id(1);
    ranges = ranges == 0 ? 0 : ranges + ro;
    q += qo + bh * Lq * d;
    k += ko + bh * Lk * d;
    v += vo + bh * Lk * d;
    int i = block_rows(rowIdx, block, Lq, grid);
    load_rows(Qs, q, rowIdx, AR, d);
    Span keys = key_span(rowIdx, block, ranges, Lq, Lk, grid, win);

    float m = -INFINITY, l = 0.0f, acc[CPT];
    for (int x = 0; x < CPT; x++) {
        acc[x] = 0.0f;
    }
    for (int t0 = next_key_tile(0, keys, rowIdx, ranges, Lq, grid); t0 < keys.n;
         t0 = next_key_tile(t0 + AC, keys, rowIdx, ranges, Lq, grid)) {
        load_key_tile(Ks, Vs, colIdx, k, v, keys, t0, d, grid);
        for (int u = t; u < AC; u += AT) {                      // the tile's logits, once
            S[r * (AC + 1) + u] = tile_logit(Qs + r * DP, Ks + u * DP, d, scale, i, colIdx[u], bias, bo, Lk,
                                             ranges, Lq, grid, win);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float mt = m;
        for (int u = 0; u < AC; u++) {
            mt = fmax(mt, S[r * (AC + 1) + u]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int u = t; u < AC; u += AT) {                      // P = exp(S - m_new) in place
            float s = S[r * (AC + 1) + u];
            S[r * (AC + 1) + u] = s == -INFINITY ? 0.0f : exp(s - mt);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float alpha = m == -INFINITY ? 0.0f : exp(m - mt), sum = 0.0f;
        for (int u = 0; u < AC; u++) {
            sum += S[r * (AC + 1) + u];
        }
        l = l * alpha + sum;
        m = mt;
        for (int x = 0; x < CPT; x++) {
            int c = t + x * AT;
            float a = acc[x] * alpha;
            for (int u = 0; u < AC; u++) {
                a += S[r * (AC + 1) + u] * Vs[u * DP + c];
            }
            acc[x] = a;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < 0) {
        return;
    }
    int row = bh * Lq + i;
    for (int x = 0; x < CPT; x++) {
        int c = t + x * AT;
        if (c < d) {
            out[oo + row * d + c] = m == -INFINITY ? 0.0f : acc[x] / l;
        }
    }
    if (t == 0) {
        lse[lo + row] = m == -INFINITY ? -INFINITY : m + log(l);
    }
}

// ---------------------------------------------------------------------------------------------- backward
// FlashAttention-2's backward: P_ij = exp(s_ij - lse_i) recomputed per tile, D_i = dout_i·out_i,
// dS_ij = P_ij (dout_i·v_j - D_i); dq = scale dS k (a group per query block, streaming key tiles), then
// dv = Pᵀ dout and dk = scale dSᵀ q (a group per key block, streaming query tiles): each output row is summed by
// one group in a fixed order, no atomics.

// dout, q, out (B,H,Lq,d), k, v (B,H,Lk,d), lse (B,H,Lq) -> dq (B,H,Lq,d), D (B,H,Lq); groups (blocks_of(Lq), B·H)
__kernel __attribute__((reqd_work_group_size(ANT, 1, 1)))
void attention_backward_dq(__global float* dq, int dqo, __global float* D,
                           __global const float* dout, int doo, __global const float* q, int qo,
                           __global const float* k, int ko, __global const float* v, int vo,
                           __global const float* out, int oo, __global const float* lse, int lo,
                           __global const float* bias, int bo, __global const int* ranges, int ro,
                           int Lq, int Lk, int d, float scale, int grid, int win) {
    __local float Qs[AR * DP], DOs[AR * DP], Ks[AC * DP], Vs[AC * DP], dS[AR * (AC + 1)], part[AR * AT];
    __local int rowIdx[AR], colIdx[AC];
    int lid = get_local_id(0), r = lid / AT, t = lid % AT, block = get_group_id(0), bh = get_group_id(1);
    ranges = ranges == 0 ? 0 : ranges + ro;
    q += qo + bh * Lq * d;
    dout += doo + bh * Lq * d;
    out += oo + bh * Lq * d;
    k += ko + bh * Lk * d;
    v += vo + bh * Lk * d;
    int i = block_rows(rowIdx, block, Lq, grid);
    load_rows(Qs, q, rowIdx, AR, d);
    load_rows(DOs, dout, rowIdx, AR, d);
    // D_i = Σ_c dout_ic out_ic: lanes' partial sums, then added in lane order
    float pd = 0.0f;
    for (int c = t; c < d; c += AT) {
        pd += i >= 0 ? dout[i * d + c] * out[i * d + c] : 0.0f;
    }
    part[lid] = pd;
    barrier(CLK_LOCAL_MEM_FENCE);
    float Di = 0.0f;
    for (int u = 0; u < AT; u++) {
        Di += part[r * AT + u];
    }
    float L = i >= 0 ? lse[lo + bh * Lq + i] : -INFINITY;
    if (i >= 0 && t == 0) {
        D[bh * Lq + i] = Di;
    }
    Span keys = key_span(rowIdx, block, ranges, Lq, Lk, grid, win);

    float acc[CPT];
    for (int x = 0; x < CPT; x++) {
        acc[x] = 0.0f;
    }
    for (int t0 = next_key_tile(0, keys, rowIdx, ranges, Lq, grid); t0 < keys.n;
         t0 = next_key_tile(t0 + AC, keys, rowIdx, ranges, Lq, grid)) {
        load_key_tile(Ks, Vs, colIdx, k, v, keys, t0, d, grid);
        for (int u = t; u < AC; u += AT) {
            float s = tile_logit(Qs + r * DP, Ks + u * DP, d, scale, i, colIdx[u], bias, bo, Lk, ranges, Lq, grid,
                                 win);
            float ds = 0.0f;
            if (s != -INFINITY && L != -INFINITY) {
                float p = exp(s - L), dp = 0.0f;
                for (int c = 0; c < d; c++) {
                    dp += DOs[r * DP + c] * Vs[u * DP + c];
                }
                ds = p * (dp - Di);
            }
            dS[r * (AC + 1) + u] = ds;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int x = 0; x < CPT; x++) {
            int c = t + x * AT;
            float a = acc[x];
            for (int u = 0; u < AC; u++) {
                a += dS[r * (AC + 1) + u] * Ks[u * DP + c];
            }
            acc[x] = a;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i >= 0) {
        for (int x = 0; x < CPT; x++) {
            int c = t + x * AT;
            if (c < d) {
                dq[dqo + (bh * Lq + i) * d + c] = scale * acc[x];
            }
        }
    }
}

// dout, q (B,H,Lq,d), k, v (B,H,Lk,d), lse, D (B,H,Lq) -> dk, dv (B,H,Lk,d); groups (blocks_of(Lk), B·H).
// Needs D from attention_backward_dq. The block's rows are keys; query tiles stream through local memory.
__kernel __attribute__((reqd_work_group_size(ANT, 1, 1)))
void attention_backward_dkdv(__global float* dk, int dko, __global float* dv, int dvo,
                             __global const float* D, __global const float* dout, int doo,
                             __global const float* q, int qo, __global const float* k, int ko,
                             __global const float* v, int vo, __global const float* lse, int lo,
                             __global const float* bias, int bo, __global const int* ranges, int ro,
                             int Lq, int Lk, int d, float scale, int grid, int win) {
    __local float Ks[AR * DP], Vs[AR * DP], Qs[AC * DP], DOs[AC * DP], P[AR * (AC + 1)], dS[AR * (AC + 1)];
    __local float Ls[AC], Ds[AC];
    __local int rowIdx[AR], colIdx[AC];
    int lid = get_local_id(0), r = lid / AT, t = lid % AT, block = get_group_id(0), bh = get_group_id(1);
    ranges = ranges == 0 ? 0 : ranges + ro;
    q += qo + bh * Lq * d;
    dout += doo + bh * Lq * d;
    k += ko + bh * Lk * d;
    v += vo + bh * Lk * d;
    int j = block_rows(rowIdx, block, Lk, grid);
    load_rows(Ks, k, rowIdx, AR, d);
    load_rows(Vs, v, rowIdx, AR, d);
    // the queries that can see a key of the block: dense, all Lq (tiles tested against the ranges below);
    // neighbourhood, the rectangle of queries whose windows hold a key of the patch
    int jlo = Lk, jhi = 0;
    for (int u = 0; u < AR; u++) {
        if (rowIdx[u] >= 0) {
            jlo = min(jlo, rowIdx[u]);
            jhi = max(jhi, rowIdx[u] + 1);
        }
    }
    Span queries;
    if (grid > 0) {
        queries = patch_span(block, grid, win, 1);
    } else {
        queries.lo = 0;
        queries.n = Lq;
        queries.y0 = queries.x0 = queries.w = 0;
    }

    float accK[CPT], accV[CPT];
    for (int x = 0; x < CPT; x++) {
        accK[x] = 0.0f;
        accV[x] = 0.0f;
    }
    for (int t0 = next_query_tile(0, queries.n, jlo, jhi, ranges, Lq, grid); t0 < queries.n;
         t0 = next_query_tile(t0 + AC, queries.n, jlo, jhi, ranges, Lq, grid)) {
        int cols = min(AC, queries.n - t0);
        if (lid < AC) {
            int i = lid < cols ? span_at(queries, t0 + lid, grid) : -1;
            colIdx[lid] = i;
            Ls[lid] = i >= 0 ? lse[lo + bh * Lq + i] : -INFINITY;
            Ds[lid] = i >= 0 ? D[bh * Lq + i] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        load_rows(Qs, q, colIdx, AC, d);
        load_rows(DOs, dout, colIdx, AC, d);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int u = t; u < AC; u += AT) {
            int i = colIdx[u];
            float s = tile_logit(Qs + u * DP, Ks + r * DP, d, scale, i, j, bias, bo, Lk, ranges, Lq, grid, win);
            float p = 0.0f, ds = 0.0f;
            if (s != -INFINITY && Ls[u] != -INFINITY) {
                float dp = 0.0f;
                p = exp(s - Ls[u]);
                for (int c = 0; c < d; c++) {
                    dp += DOs[u * DP + c] * Vs[r * DP + c];
                }
                ds = p * (dp - Ds[u]);
            }
            P[r * (AC + 1) + u] = p;
            dS[r * (AC + 1) + u] = ds;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int x = 0; x < CPT; x++) {
            int c = t + x * AT;
            float ak = accK[x], av = accV[x];
            for (int u = 0; u < AC; u++) {
                av += P[r * (AC + 1) + u] * DOs[u * DP + c];
                ak += dS[r * (AC + 1) + u] * Qs[u * DP + c];
            }
            accK[x] = ak;
            accV[x] = av;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (j >= 0) {
        for (int x = 0; x < CPT; x++) {
            int c = t + x * AT;
            if (c < d) {
                dk[dko + (bh * Lk + j) * d + c] = scale * accK[x];
                dv[dvo + (bh * Lk + j) * d + c] = accV[x];
            }
        }
    }
}
