package dev.mvarj.tensor.random;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PhiloxTest {

    @Test
    void matchesTheRandom123KnownAnswers() {
        int[] out = new int[4];
        Philox.block(0, 0, 0, 0, 0, 0, out);
        assertThat(out).containsExactly(0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8);
        Philox.block(-1, -1, -1, -1, -1, -1, out);
        assertThat(out).containsExactly(0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd);
        Philox.block(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, out);
        assertThat(out).containsExactly(0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1);
    }

    @Test
    void sameSeedGivesTheSameStreamAndOffsetsResumeIt() {
        Rng a = new Rng(42), b = new Rng(42);
        assertThat(a.uniformArray(1001, 0, 1)).containsExactly(b.uniformArray(1001, 0, 1));
        long offset = a.offset();
        float[] next = a.normalArray(77, 0, 1);
        assertThat(new Rng(42, offset).normalArray(77, 0, 1)).containsExactly(next);
        assertThat(new Rng(43).uniformArray(8, 0, 1)).isNotEqualTo(new Rng(42).uniformArray(8, 0, 1));
    }

    @Test
    void everyElementDependsOnlyOnSeedAndCounter() {
        float[] u = new Rng(7).uniformArray(100_003, 0, 1);
        int[] w = new int[4];
        for (int i : new int[]{0, 3, 4, 50_001, 100_002}) {
            Philox.block(7, i / 4, w);
            assertThat(u[i]).isEqualTo(Philox.toUnit(w[i % 4]));
        }
    }

    @Test
    void uniformAndNormalHaveTheRightMoments() {
        int n = 200_000;
        float[] u = new Rng(1).uniformArray(n, -1, 3);
        float[] z = new Rng(2).normalArray(n, 0.5f, 2f);
        double mu = 0, mz = 0, vz = 0, lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            mu += u[i];
            mz += z[i];
            lo = Math.min(lo, u[i]);
            hi = Math.max(hi, u[i]);
        }
        mu /= n;
        mz /= n;
        for (float v : z) {
            vz += (v - mz) * (v - mz);
        }
        vz /= n;
        assertThat(mu).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.02));
        assertThat(lo).isGreaterThanOrEqualTo(-1);
        assertThat(hi).isLessThan(3);
        assertThat(mz).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.02));
        assertThat(Math.sqrt(vz)).isCloseTo(2.0, org.assertj.core.data.Offset.offset(0.02));
    }

    @Test
    void nextIntStaysInBounds() {
        Rng r = new Rng(3);
        int[] hist = new int[5];
        for (int i = 0; i < 5000; i++) {
            hist[r.nextInt(5)]++;
        }
        for (int h : hist) {
            assertThat(h).isBetween(850, 1150);
        }
    }
}
