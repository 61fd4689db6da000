package dev.mvarj.tensor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemoryScopeTest {

    @Test
    void closeReleasesWhatTheScopeAllocatedAndNothingElse() {
        Tensor before = Tensor.zeros(10);
        Tensor a, b;
        try (MemoryScope scope = MemoryScope.open()) {
            a = Tensor.zeros(100);
            b = a.add(1f);                                   // b and the scalar 1
            assertThat(scope.size()).isEqualTo(3);
        }
        assertThat(a.storage().isReleased()).isTrue();
        assertThat(b.storage().isReleased()).isTrue();
        assertThat(before.storage().isReleased()).as("allocated outside").isFalse();
        assertThatThrownBy(b::toFloatArray).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already released");
    }

    @Test
    void keptStorageMovesToTheEnclosingScope() {
        Tensor inner;
        try (MemoryScope outer = MemoryScope.open()) {
            try (MemoryScope scope = MemoryScope.open()) {
                inner = scope.keep(Tensor.full(2f, 4).mul(3f));
            }
            assertThat(inner.storage().isReleased()).isFalse();
            assertThat(inner.toFloatArray()).containsOnly(6f);
            assertThat(outer.size()).isEqualTo(1);
        }
        assertThat(inner.storage().isReleased()).as("the outer scope released it").isTrue();
    }

    @Test
    void aWeakScopeReleasesWhatIsStillReachableAndKeepsWhatItHandsOn() {
        Tensor held, kept;
        try (MemoryScope scope = MemoryScope.openWeak()) {
            held = Tensor.zeros(16);
            kept = scope.keep(Tensor.zeros(16));
            for (int i = 0; i < 100; i++) {
                Tensor.zeros(1 << 16);                       // garbage the scope does not keep alive
            }
        }
        assertThat(held.storage().isReleased()).isTrue();
        assertThat(kept.storage().isReleased()).isFalse();
    }

    @Test
    void ownsIsTrueOnlyForStorageAllocatedInTheScopeAndNotKept() {
        Tensor outside = Tensor.zeros(4);
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor a = Tensor.zeros(4), view = a.reshape(2, 2), kept = Tensor.zeros(4);
            scope.keep(kept);
            assertThat(scope.owns(a)).isTrue();
            assertThat(scope.owns(view)).as("a view shares its storage").isTrue();
            assertThat(scope.owns(kept)).isFalse();
            assertThat(scope.owns(outside)).isFalse();
        }
    }

    @Test
    void untrackedWorkOutlivesTheScope() {
        Tensor cache;
        try (MemoryScope ignored = MemoryScope.open()) {
            cache = MemoryScope.untracked(() -> Tensor.zeros(8));
        }
        assertThat(cache.storage().isReleased()).isFalse();
    }

    @Test
    void scopedCountersAreExact() {
        long base = MemoryStats.scopedLiveBytes(Device.CPU);
        MemoryStats.resetScopedPeak(Device.CPU);
        try (MemoryScope ignored = MemoryScope.open()) {
            Tensor.zeros(1000);
            Tensor.zeros(Device.CPU, DType.I32, 500);
            assertThat(MemoryStats.scopedLiveBytes(Device.CPU) - base).isEqualTo(4000 + 2000);
        }
        assertThat(MemoryStats.scopedLiveBytes(Device.CPU)).isEqualTo(base);
        assertThat(MemoryStats.scopedPeakBytes(Device.CPU) - base).isEqualTo(6000);
    }

    @Test
    void scopesMustCloseInOrder() {
        MemoryScope outer = MemoryScope.open();
        MemoryScope inner = MemoryScope.open();
        assertThatThrownBy(outer::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("order");
        inner.close();
        outer.close();
    }
}
