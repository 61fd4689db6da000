package dev.mvarj.tensor.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import static dev.mvarj.tensor.cpu.simd.SimdBackend.L;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.S;

/**
 * Transcendental functions and lane sums built only from IEEE-exact vector operations (add, mul, fma, compare,
 * blend, integer bit moves), so that a result never depends on whether the JIT has compiled the code yet.
 *
 * <p>Why: the Vector API's own {@code lanewise(EXP)} / {@code TANH} run Intel SVML-style intrinsics once C2 has
 * compiled the caller, but {@code Math.exp} per lane before that, and {@code reduceLanes(ADD)} may add in a different
 * order in the two paths; results then differ in the last bit between a warm and a cold JVM (seen as a bit-exact
 * resume that was not). Everything here gives the same bits in the interpreter, C1 and C2.
 */
final class SimdMath {

    private SimdMath() {
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 · 2^23: adding it rounds a float in (−2^22, 2^22) to an integer, which then sits in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final float EXP_HI = 88.3762626647949f, EXP_LO = -87.3365447505531f;

    /**
     * e^x per lane (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial for e^r, then the exponent bits),
     * within 2 ulp of the true value for x in [−87.3, 88.4]; 0 below, +inf above, NaN for NaN.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
        VectorMask<Float> over = x.compare(VectorOperators.GT, EXP_HI);
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector t = xc.mul(LOG2E).add(ROUNDER);                 // round(x · log2 e) in the low bits
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);   // x − n·ln2, in two exact-ish parts
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, 1.9875691500E-4f);   // Horner, coefficients from Cephes
        p = p.fma(r, FloatVector.broadcast(S, 1.3981999507E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894E-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459E-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201E-1f));
        FloatVector e = p.mul(r.mul(r)).add(r).add(1f);              // e^r
        IntVector bits = t.reinterpretAsInts().sub(0x4B400000);     // n as an int
        FloatVector scale = bits.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector y = e.mul(scale);
        y = y.blend(0f, under);
        y = y.blend(Float.POSITIVE_INFINITY, over);
        return y.blend(x, x.compare(VectorOperators.NE, x));        // NaN lanes: the only ones unequal to themselves
    }

    /** tanh x = sign(x) · (1 − 2 / (e^{2|x|} + 1)), through {@link #exp}. */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector t = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(a.mul(2f)).add(1f)));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, 0f)).blend(x, x.compare(VectorOperators.NE, x));
    }

    /** Swaps lanes i ↔ i ^ d, for the fixed reduction tree of {@link #sum}. */
    private static final VectorShuffle<Float>[] BUTTERFLY = butterflies();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterflies() {
        int steps = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int k = 0; k < steps; k++) {
            int d = L >> (k + 1);
            s[k] = VectorShuffle.fromOp(S, i -> i ^ d);
        }
        return s;
    }

    /** The sum of the lanes in one fixed order (a butterfly tree), unlike {@code reduceLanes(ADD)}. */
    static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : BUTTERFLY) {
            v = v.add(v.rearrange(s));
        }
        return v.lane(0);
    }
}
