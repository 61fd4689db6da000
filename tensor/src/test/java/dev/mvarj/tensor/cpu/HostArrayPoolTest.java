package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HostArrayPoolTest {

    private static final int N = HostArrayPool.MIN_LENGTH + 3;   // an odd length nothing else in the JVM uses
    private long previous;

    @BeforeEach
    void emptyPool() {
        previous = HostArrayPool.setCapacityBytes(0);               // drops what is held
        HostArrayPool.setCapacityBytes(64L << 20);
    }

    @AfterEach
    void restore() {
        HostArrayPool.setCapacityBytes(0);
        HostArrayPool.setCapacityBytes(previous);
    }

    private static float[] array(Tensor t) {
        return ((HostStorage) t.storage()).floats();
    }

    @Test
    void aReleasedArrayIsReusedZeroFilledForTheSameLength() {
        float[] first;
        try (MemoryScope ignored = MemoryScope.open()) {
            Tensor t = Tensor.full(7f, N);
            first = array(t);
        }
        assertThat(HostArrayPool.heldBytes()).isEqualTo(4L * N);
        Tensor again = Tensor.zeros(N);
        assertThat(array(again)).isSameAs(first);
        assertThat(again.toFloatArray()).containsOnly(0f);          // no value of the old tensor survives
        assertThat(HostArrayPool.heldBytes()).isZero();
        assertThat(array(Tensor.zeros(N))).as("nothing left to reuse").isNotSameAs(first);
    }

    @Test
    void anUninitializedTensorTakesTheReleasedArrayAsItWas() {
        float[] first;
        try (MemoryScope ignored = MemoryScope.open()) {
            first = array(Tensor.full(7f, N));
        }
        Tensor again = Tensor.empty(dev.mvarj.tensor.Device.CPU, dev.mvarj.tensor.DType.F32, N);
        assertThat(array(again)).isSameAs(first);
        assertThat(again.toFloatArray()).as("no zero fill").containsOnly(7f);
    }

    /** Releases {@code count} NaN-filled arrays of {@code length} floats into the pool. */
    private static void poison(int length, int count) {
        for (int i = 0; i < count; i++) {
            Tensor t = Tensor.full(Float.NaN, length);
            t.storage().release();
        }
    }

    @Test
    void theOpsThatSkipTheZeroFillWriteEveryElementOfARecycledArray() {
        dev.mvarj.tensor.random.Rng rng = new dev.mvarj.tensor.random.Rng(3);
        Tensor a = rng.normal(0f, 1f, 256, 257), b = rng.normal(0f, 1f, 257), m = rng.normal(0f, 1f, 257, 256);
        java.util.List<java.util.function.Supplier<Tensor>> ops = java.util.List.of(
                () -> a.add(b),                                   // broadcast binary
                () -> a.mul(a),                                   // same-shape binary
                () -> a.map(dev.mvarj.tensor.UnaryOp.EXP),        // unary
                () -> a.matmul(m),                                // GEMM, beta 0 (256, 256)
                () -> m.transpose(0, 1).copy());                  // strided copy (256, 257)
        for (java.util.function.Supplier<Tensor> op : ops) {
            float[] want = op.get().toFloatArray();
            poison(want.length, 2);
            Tensor got = op.get();
            assertThat(got.toFloatArray()).as("%s on a recycled array", java.util.Arrays.toString(got.shape()))
                    .isEqualTo(want);
        }
    }

    @Test
    void releasingTwiceRecyclesOnce() {
        Tensor t = Tensor.zeros(N);
        t.storage().release();
        t.storage().release();
        assertThat(HostArrayPool.heldBytes()).isEqualTo(4L * N);
        assertThat(array(Tensor.zeros(N))).isNotSameAs(array(Tensor.zeros(N)));
    }

    @Test
    void otherLengthsSmallArraysAndAFullPoolAllocateAnew() {
        Tensor big = Tensor.zeros(N);
        float[] a = array(big);
        big.storage().release();
        assertThat(array(Tensor.zeros(N + 1))).isNotSameAs(a);      // exact length only

        Tensor small = Tensor.zeros(100);
        small.storage().release();
        assertThat(HostArrayPool.heldBytes()).as("small arrays are not pooled").isEqualTo(4L * N);

        HostArrayPool.setCapacityBytes(0);                           // off: drops the held array, keeps nothing
        assertThat(HostArrayPool.heldBytes()).isZero();
        Tensor t = Tensor.zeros(N);
        t.storage().release();
        assertThat(HostArrayPool.heldBytes()).isZero();
        assertThat(array(Tensor.zeros(N))).isNotSameAs(a);
    }

    @Test
    void aFullPoolMakesRoomByDroppingTheOldestOtherLengths() {
        HostArrayPool.setCapacityBytes(4L * (3 * N + 6));              // room for the three longest
        Tensor a = Tensor.zeros(N), b = Tensor.zeros(N + 1), c = Tensor.zeros(N + 2);
        float[] fa = array(a), fb = array(b), fc = array(c);
        a.storage().release();
        b.storage().release();
        Tensor d = Tensor.zeros(N + 3);
        c.storage().release();                                         // fits: a, b, c held
        d.storage().release();                                         // does not: a (the oldest other) goes
        assertThat(HostArrayPool.heldBytes()).isEqualTo(4L * (3 * N + 6));
        assertThat(array(Tensor.zeros(N))).as("evicted").isNotSameAs(fa);
        assertThat(array(Tensor.zeros(N + 1))).isSameAs(fb);
        assertThat(array(Tensor.zeros(N + 2))).isSameAs(fc);
    }

    @Test
    void theBoundIsRespected() {
        HostArrayPool.setCapacityBytes(4L * N + 4);                  // room for one
        Tensor a = Tensor.zeros(N), b = Tensor.zeros(N);
        a.storage().release();
        b.storage().release();
        assertThat(HostArrayPool.heldBytes()).isEqualTo(4L * N);
    }
}
