package dev.mvarj.tensor;

import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * F64: held by the CPU backends, computed by the reference backend (the double-precision gradient checks run there),
 * converted to and from F32 exactly as a cast, promoted like PyTorch, refused with a clear message by F32 kernels.
 */
class Float64Test {

    private static final Backend REFERENCE = new ReferenceBackend();

    @Test
    void valuesRoundTripAndConvert() {
        double third = 1.0 / 3;
        Tensor d = Tensor.of(new double[]{third, -2.5, 1e-300}, 3);
        assertThat(d.dtype()).isEqualTo(DType.F64);
        assertThat(d.toDoubleArray()).containsExactly(third, -2.5, 1e-300);

        Tensor f = d.to(DType.F32);                       // rounds to nearest; 1e-300 underflows to 0
        assertThat(f.dtype()).isEqualTo(DType.F32);
        assertThat(f.toFloatArray()).containsExactly((float) third, -2.5f, 0f);
        assertThat(f.to(DType.F64).toDoubleArray()).containsExactly((double) (float) third, -2.5, 0.0); // exact
        assertThat(d.to(DType.F64)).isSameAs(d);
        assertThat(Tensor.of(new double[]{third}).item()).isEqualTo((float) third);
        assertThat(d.toString()).startsWith("Tensor(F64[3], [0.3333333333333333");
    }

    @Test
    void stridedViewsConvertElementByElement() {
        Tensor d = Tensor.of(new double[]{0, 1, 2, 3, 4, 5}, 2, 3).transpose(0, 1);
        assertThat(d.toDoubleArray()).containsExactly(0, 3, 1, 4, 2, 5);
        assertThat(d.to(DType.F32).toFloatArray()).containsExactly(0, 3, 1, 4, 2, 5);
        assertThat(d.contiguous().toDoubleArray()).containsExactly(0, 3, 1, 4, 2, 5);
    }

    @Test
    void theReferenceBackendComputesInDoubleAndPromotesLikePyTorch() {
        try (var ignored = Backends.useCpu(REFERENCE)) {
            double tiny = 1e-12;
            Tensor one = Tensor.of(new double[]{1.0}, 1);
            // 1 + 1e-12 is 1 in float, not in double
            double sum = one.add(Tensor.of(new double[]{tiny}, 1)).toDoubleArray()[0];
            assertThat(sum - 1.0).isCloseTo(tiny, within(1e-15));
            // F32 ∘ F64 → F64, either way round
            Tensor f = Tensor.of(new float[]{2f}, 1);
            assertThat(f.mul(one).dtype()).isEqualTo(DType.F64);
            assertThat(one.mul(f).dtype()).isEqualTo(DType.F64);
            assertThat(one.mul(0.1f).toDoubleArray()[0]).isEqualTo((double) 0.1f); // a float scalar is an F32 operand
            // kernels: exp, matmul, sum, softmax all in double
            Tensor x = Tensor.of(new double[]{0.1, 0.2, 0.3, 0.4}, 2, 2);
            assertThat(x.exp().toDoubleArray()[0]).isEqualTo(Math.exp(0.1));
            assertThat(x.matmul(x).toDoubleArray()[0]).isCloseTo(0.1 * 0.1 + 0.2 * 0.3, within(1e-16));
            assertThat(x.sum().toDoubleArray()[0]).isCloseTo(1.0, within(1e-15));
            double[] p = x.softmax().toDoubleArray();
            assertThat(p[0]).isCloseTo(Math.exp(0.1) / (Math.exp(0.1) + Math.exp(0.2)), within(1e-16));
            assertThat(x.map(UnaryOp.GELU_TANH).dtype()).isEqualTo(DType.F64);
        }
    }

    @Test
    void anF32KernelRefusesF64NamingTheWayOut() {
        try (var ignored = Backends.useCpu(new SimdBackend(WorkerPool.shared()))) {
            Tensor d = Tensor.of(new double[]{1, 2, 3}, 3);            // stored and converted: fine
            assertThat(d.to(DType.F32).toFloatArray()).containsExactly(1f, 2f, 3f);
            assertThatThrownBy(d::exp).hasMessageContaining("F64").hasMessageContaining("reference backend");
        }
    }

    @Test
    void indicesDoNotConvertOrComputeAsFloats() {
        Tensor ids = Tensor.ofInts(new int[]{1, 2}, 2);
        assertThatThrownBy(() -> ids.to(DType.F64)).hasMessageContaining("expected a floating-point tensor");
        assertThatThrownBy(() -> Tensor.zeros(2).to(DType.I32)).hasMessageContaining("only F32 and F64");
        assertThatThrownBy(ids::exp).hasMessageContaining("exp").hasMessageContaining("I32");
    }
}
