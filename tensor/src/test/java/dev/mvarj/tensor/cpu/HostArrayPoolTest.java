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
