package dev.mvarj.tensor.random;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based generator.
 * Block {@code counter} under key {@code seed} yields four 32-bit words that depend only on (seed, counter), so any
 * element of a random tensor can be computed independently of thread count, chunking or device.
 */
public final class Philox {

    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {
    }

    /** The four words of block {@code counter} under {@code seed}, written into {@code out[0..4)}. */
    public static void block(long seed, long counter, int[] out) {
        block((int) seed, (int) (seed >>> 32), (int) counter, (int) (counter >>> 32), 0, 0, out);
    }

    /** The full 4-word counter, 2-word key form (as in Random123), for known-answer tests. */
    static void block(int k0, int k1, int c0, int c1, int c2, int c3, int[] out) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /** A uniform float in [0, 1) from the top 24 bits of a word. */
    public static float toUnit(int word) {
        return (word >>> 8) * 0x1.0p-24f;
    }
}
