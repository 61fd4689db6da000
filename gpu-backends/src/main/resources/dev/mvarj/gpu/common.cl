// Shared by every program (prepended by ProgramCache). Built with -D WG=<work-group size for row kernels>,
// a power of two chosen from the device's CL_DEVICE_MAX_WORK_GROUP_SIZE.

// Java never contracts a * b + c into an FMA; neither do these kernels, unless they call fma() themselves.
#pragma OPENCL FP_CONTRACT OFF

#ifndef WG
#define WG 256
#endif

// NaN-propagating max/min, as Java's Math.max/min and torch.maximum (fmax would drop the NaN).
inline float nan_max(float a, float b) {
    return a != a ? a : (b != b ? b : (a > b ? a : (b > a ? b : (signbit(a) ? b : a))));
}

inline float nan_min(float a, float b) {
    return a != a ? a : (b != b ? b : (a < b ? a : (b < a ? b : (signbit(a) ? a : b))));
}

// Tree reductions over one work-group of WG items through local memory `s` (WG floats). Every work-item gets the
// result. The order of additions is fixed, so results do not change between runs.
inline float wg_sum(float v, __local float* s) {
    int l = get_local_id(0);
    s[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = WG / 2; h > 0; h >>= 1) {
        if (l < h) {
            s[l] += s[l + h];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float wg_max(float v, __local float* s) {
    int l = get_local_id(0);
    s[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = WG / 2; h > 0; h >>= 1) {
        if (l < h) {
            s[l] = nan_max(s[l], s[l + h]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// Records the first out-of-range index an indexing kernel meets: err[0] = 1, err[1] = the index.
inline void report_bad_index(volatile __global int* err, int idx) {
    if (atomic_cmpxchg(err, 0, 1) == 0) {
        err[1] = idx;
    }
}

// ---------------------------------------------------------------------------------------------- strided layouts

// Up to 4 operands, each with its own (coalesced) shape and strides in elements; element i of an operand is its
// i-th element in row-major order. Packed by StridedLayout.java: keep the two in step.
#define MAX_RANK 8
typedef struct {
    int n;                          // number of elements
    int rank[4];
    int shape[4][MAX_RANK];
    int stride[4][MAX_RANK];
    int offset[4];
} Strided;

inline int elem_offset(const Strided* L, int op, int i) {
    int off = L->offset[op];
    for (int d = L->rank[op] - 1; d >= 0; d--) {
        int s = L->shape[op][d];
        off += (i % s) * L->stride[op][d];
        i /= s;
    }
    return off;
}
