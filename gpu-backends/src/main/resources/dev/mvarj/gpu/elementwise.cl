// Element-wise kernels over strided operands (see Strided in common.cl). One work-item per output element.
// Operand 0 is the output; the others are inputs, possibly with zero strides (broadcast).

// dst (shape) <- src (shape), 32-bit elements of either dtype
__kernel void copy32(__global uint* dst, __global const uint* src, Strided L) {
    int i = get_global_id(0);
    if (i < L.n) {
        dst[elem_offset(&L, 0, i)] = src[elem_offset(&L, 1, i)];
    }
}

// Codes: keep in step with OpenClBackend.unaryCode (UnaryOp's scalar definitions).
#define U_NEG 0
#define U_ABS 1
#define U_SQUARE 2
#define U_RECIPROCAL 3
#define U_EXP 4
#define U_LOG 5
#define U_SQRT 6
#define U_TANH 7
#define U_SIGMOID 8
#define U_RELU 9
#define U_SILU 10
#define U_GELU_TANH 11

#define GELU_C 0.7978845608028654f

inline float unary_apply(int op, float x) {
    switch (op) {
        case U_NEG: return -x;
        case U_ABS: return fabs(x);
        case U_SQUARE: return x * x;
        case U_RECIPROCAL: return 1.0f / x;
        case U_EXP: return exp(x);
        case U_LOG: return log(x);
        case U_SQRT: return sqrt(x);
        case U_TANH: return tanh(x);
        case U_SIGMOID: return 1.0f / (1.0f + exp(-x));
        case U_RELU: return x > 0.0f ? x : 0.0f;
        case U_SILU: return x / (1.0f + exp(-x));
        case U_GELU_TANH: return 0.5f * x * (1.0f + tanh(GELU_C * (x + 0.044715f * x * x * x)));
        default: return NAN;
    }
}

// out (shape) = op(x (shape))
__kernel void unary_f32(__global float* out, __global const float* x, Strided L, int op) {
    int i = get_global_id(0);
    if (i < L.n) {
        out[elem_offset(&L, 0, i)] = unary_apply(op, x[elem_offset(&L, 1, i)]);
    }
}

// out (n) = op(x (n)), both contiguous: the fast path, no index arithmetic per element
__kernel void unary_flat(__global float* out, int oo, __global const float* x, int xo, int n, int op) {
    int i = get_global_id(0);
    if (i < n) {
        out[oo + i] = unary_apply(op, x[xo + i]);
    }
}

// Codes: keep in step with OpenClBackend.binaryCode (BinaryOp's scalar definitions).
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_POW 4
#define B_MAX 5
#define B_MIN 6
#define B_GT 7
#define B_GE 8
#define B_EQ 9
#define B_GELU_TANH_GRAD 10
#define B_SILU_GRAD 11

inline float binary_apply(int op, float a, float b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_POW: return pow(a, b);
        case B_MAX: return nan_max(a, b);
        case B_MIN: return nan_min(a, b);
        case B_GT: return a > b ? 1.0f : 0.0f;
        case B_GE: return a >= b ? 1.0f : 0.0f;
        case B_EQ: return a == b ? 1.0f : 0.0f;
        case B_GELU_TANH_GRAD: {
            // a = x, b = dy: dy · d/dx [0.5 x (1 + tanh(u))], u = c (x + 0.044715 x³)
            float u = GELU_C * (a + 0.044715f * a * a * a), t = tanh(u);
            float du = GELU_C * (1.0f + 3.0f * 0.044715f * a * a);
            return b * (0.5f * (1.0f + t) + 0.5f * a * (1.0f - t * t) * du);
        }
        case B_SILU_GRAD: {
            // a = x, b = dy: dy · σ(x) (1 + x (1 − σ(x)))
            float s = 1.0f / (1.0f + exp(-a));
            return b * s * (1.0f + a * (1.0f - s));
        }
        default: return NAN;
    }
}

// out (shape) = op(a (shape), b (shape))
__kernel void binary_f32(__global float* out, __global const float* a, __global const float* b, Strided L,
                         int op) {
    int i = get_global_id(0);
    if (i < L.n) {
        out[elem_offset(&L, 0, i)] = binary_apply(op, a[elem_offset(&L, 1, i)], b[elem_offset(&L, 2, i)]);
    }
}

// out (n) = op(a, b): contiguous operands, or a broadcast scalar (step 0): the fast path
__kernel void binary_flat(__global float* out, int oo, __global const float* a, int ao, int as,
                          __global const float* b, int bo, int bs, int n, int op) {
    int i = get_global_id(0);
    if (i < n) {
        out[oo + i] = binary_apply(op, a[ao + i * as], b[bo + i * bs]);
    }
}

// out (shape) = cond != 0 ? a : b
__kernel void where_f32(__global float* out, __global const int* cond, __global const float* a,
                        __global const float* b, Strided L) {
    int i = get_global_id(0);
    if (i < L.n) {
        out[elem_offset(&L, 0, i)] = cond[elem_offset(&L, 1, i)] != 0 ? a[elem_offset(&L, 2, i)]
                                                                       : b[elem_offset(&L, 3, i)];
    }
}

// One AdamW step over n elements, PyTorch's order of operations (see Backend.adamwStep):
// g' = gradScale g; p -= lr wd p; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
// p -= stepSize m / (sqrt(v) / bc2Sqrt + eps), stepSize = lr / (1 - b1^t), bc2Sqrt = sqrt(1 - b2^t)
__kernel void adamw_step(__global float* p, int po, __global const float* g, int go, __global float* m, int mo,
                         __global float* v, int vo, int n, float lr, float beta1, float beta2, float eps,
                         float weightDecay, float stepSize, float bc2Sqrt, float gradScale) {
    int k = get_global_id(0);
    if (k >= n) {
        return;
    }
    float grad = g[go + k] * gradScale;
    float pk = p[po + k] * (1.0f - lr * weightDecay);
    float mk = m[mo + k] * beta1 + (1.0f - beta1) * grad;
    float vk = v[vo + k] * beta2 + (1.0f - beta2) * grad * grad;
    float denom = sqrt(vk) / bc2Sqrt + eps;
    p[po + k] = pk - stepSize * (mk / denom);
    m[mo + k] = mk;
    v[vo + k] = vk;
}
