package dev.mvarj.tensor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TensorViewTest {

    private static Tensor iota(int... shape) {
        return Tensor.arange(Shape.numel(shape)).reshape(shape);
    }

    @Test
    void reshapeOfAContiguousTensorIsAViewSharingStorage() {
        Tensor x = iota(2, 3, 4);
        Tensor y = x.reshape(6, -1);
        assertThat(y.storage()).isSameAs(x.storage());
        assertThat(y.shape()).containsExactly(6, 4);
        assertThat(y.get(5, 3)).isEqualTo(23f);
    }

    @Test
    void permuteAndTransposeChangeOnlyMetadata() {
        Tensor x = iota(2, 3, 4);
        Tensor p = x.permute(2, 0, 1);
        assertThat(p.storage()).isSameAs(x.storage());
        assertThat(p.shape()).containsExactly(4, 2, 3);
        assertThat(p.strides()).containsExactly(1, 12, 4);
        assertThat(p.get(3, 1, 2)).isEqualTo(x.get(1, 2, 3));
        Tensor t = x.transpose(0, 2);
        assertThat(t.get(3, 2, 1)).isEqualTo(x.get(1, 2, 3));
        assertThat(t.isContiguous()).isFalse();
    }

    @Test
    void contiguousCopiesOnlyWhenNeeded() {
        Tensor x = iota(3, 5);
        assertThat(x.contiguous()).isSameAs(x);
        Tensor t = x.transpose(0, 1);
        Tensor c = t.contiguous();
        assertThat(c.storage()).isNotSameAs(x.storage());
        assertThat(c.isContiguous()).isTrue();
        assertThat(c.toFloatArray()).containsExactly(0, 5, 10, 1, 6, 11, 2, 7, 12, 3, 8, 13, 4, 9, 14);
        // reshape of a non-contiguous view copies, like torch.reshape
        assertThat(t.reshape(15).storage()).isNotSameAs(x.storage());
    }

    @Test
    void sliceIsAViewWithAnOffset() {
        Tensor x = iota(4, 5);
        Tensor s = x.slice(0, 1, 3).slice(1, 2, 5);
        assertThat(s.storage()).isSameAs(x.storage());
        assertThat(s.offset()).isEqualTo(7);
        assertThat(s.toFloatArray()).containsExactly(7, 8, 9, 12, 13, 14);
        assertThat(x.select(1, 4).toFloatArray()).containsExactly(4, 9, 14, 19);
    }

    @Test
    void expandRepeatsWithZeroStride() {
        Tensor x = iota(3, 1);
        Tensor e = x.expand(2, 3, 4);
        assertThat(e.strides()).containsExactly(0, 1, 0);
        assertThat(e.storage()).isSameAs(x.storage());
        assertThat(e.get(1, 2, 3)).isEqualTo(2f);
        assertThat(x.expand(-1, 5).shape()).containsExactly(3, 5);
    }

    @Test
    void unsqueezeAndSqueezeAreInverse() {
        Tensor x = iota(3, 4);
        Tensor u = x.unsqueeze(1).unsqueeze(-1);
        assertThat(u.shape()).containsExactly(3, 1, 4, 1);
        assertThat(u.isContiguous()).isTrue();
        assertThat(u.squeeze().shape()).containsExactly(3, 4);
        assertThat(u.squeeze(1).shape()).containsExactly(3, 4, 1);
    }

    @Test
    void writesThroughAViewAreSeenByTheBase() {
        Tensor x = Tensor.zeros(2, 3);
        Tensor row = x.select(0, 1);
        row.backend().fill(row, 7f);
        assertThat(x.toFloatArray()).containsExactly(0, 0, 0, 7, 7, 7);
    }

    @Test
    void badViewsNameTheShapes() {
        Tensor x = iota(2, 3);
        assertThatThrownBy(() -> x.reshape(4, 2)).isInstanceOf(ShapeMismatchException.class)
                .hasMessageContaining("[2, 3]").hasMessageContaining("[4, 2]");
        assertThatThrownBy(() -> x.expand(4, 3)).isInstanceOf(ShapeMismatchException.class)
                .hasMessageContaining("[2, 3]").hasMessageContaining("[4, 3]");
        assertThatThrownBy(() -> x.squeeze(0)).hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> x.permute(0, 0)).hasMessageContaining("repeated");
        assertThatThrownBy(() -> x.slice(1, 2, 4)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> Tensor.of(new float[5], 2, 3)).hasMessageContaining("[2, 3]");
    }

    @Test
    void aViewCannotReachOutsideItsStorage() {
        Tensor x = iota(6);
        assertThatThrownBy(() -> new Tensor(x.storage(), 4, new int[]{3}, new int[]{1}))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("6 elements");
    }

    @Test
    void toDeviceOnTheSameDeviceIsIdentity() {
        Tensor x = iota(3);
        assertThat(x.to(Device.CPU)).isSameAs(x);
        assertThat(Tensor.ofInts(new int[]{4, 5}, 2).toIntArray()).containsExactly(4, 5);
    }

    @Test
    void memoryStatsCountLiveAndPeakBytes() {
        long before = MemoryStats.liveBytes(Device.CPU);
        MemoryStats.resetPeak(Device.CPU);
        Tensor big = Tensor.zeros(1000, 1000);
        assertThat(MemoryStats.liveBytes(Device.CPU) - before).isGreaterThanOrEqualTo(4_000_000L);
        big.storage().release();
        big.storage().release(); // harmless twice
        assertThat(MemoryStats.liveBytes(Device.CPU)).isLessThan(before + 4_000_000L);
        assertThat(MemoryStats.peakBytes(Device.CPU)).isGreaterThanOrEqualTo(before + 4_000_000L);
    }
}
