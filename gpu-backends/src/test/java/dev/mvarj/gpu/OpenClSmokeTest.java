package dev.mvarj.gpu;

import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static dev.mvarj.gpu.OpenClTestSupport.GPU;
import static org.assertj.core.api.Assertions.assertThat;

class OpenClSmokeTest {
    @Test
    void addsOnTheDevice() {
        OpenClTestSupport.backend();
        Tensor a = Tensor.of(new float[]{1, 2, 3}, 3).to(GPU);
        Tensor b = a.add(a).mul(2f);
        assertThat(b.toFloatArray()).containsExactly(4, 8, 12);
    }
}
