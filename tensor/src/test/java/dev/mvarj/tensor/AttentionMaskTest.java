package dev.mvarj.tensor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scale-schedule masks and the neighbourhood window rule. */
class AttentionMaskTest {

    private static final int[] SCALES = {1, 4, 9, 16};

    private static int[] levels(int... counts) {
        int L = 0;
        for (int n : counts) {
            L += n;
        }
        int[] lv = new int[L];
        for (int s = 0, p = 0; s < counts.length; s++) {
            for (int t = 0; t < counts[s]; t++) {
                lv[p++] = s;
            }
        }
        return lv;
    }

    @Test
    void blockCausalLetsATokenSeeItsOwnAndEarlierScales() {
        int[] lv = levels(SCALES);
        float[] m = AttentionMask.blockCausal(SCALES).toAdditive(lv.length, lv.length).toFloatArray();
        for (int p = 0; p < lv.length; p++) {
            for (int q = 0; q < lv.length; q++) {
                float want = lv[q] <= lv[p] ? 0f : Float.NEGATIVE_INFINITY;
                assertThat(m[p * lv.length + q]).as("allow(%d, %d)", p, q).isEqualTo(want);
            }
        }
    }

    @Test
    void blockDiagonalLetsATokenSeeOnlyItsOwnScale() {
        int[] lv = levels(SCALES);
        float[] m = AttentionMask.blockDiagonal(SCALES).toAdditive(lv.length, lv.length).toFloatArray();
        for (int p = 0; p < lv.length; p++) {
            for (int q = 0; q < lv.length; q++) {
                float want = lv[q] == lv[p] ? 0f : Float.NEGATIVE_INFINITY;
                assertThat(m[p * lv.length + q]).as("allow(%d, %d)", p, q).isEqualTo(want);
            }
        }
    }

    @Test
    void varScheduleRangesAreTheBlockBoundaries() {
        AttentionMask.KeyRanges r = AttentionMask.blockCausal(1, 4, 16, 64, 256);
        assertThat(r.rows()).isEqualTo(341);
        assertThat(new int[]{r.start(0), r.end(0), r.start(5), r.end(5), r.start(340), r.end(340)})
                .containsExactly(0, 1, 0, 21, 0, 341);
        AttentionMask.KeyRanges d = AttentionMask.blockDiagonal(1, 4, 16, 64, 256);
        assertThat(new int[]{d.start(0), d.end(0), d.start(5), d.end(5), d.start(340), d.end(340)})
                .containsExactly(0, 1, 5, 21, 85, 341);
    }

    @Test
    void neighbourhoodWindowsAreShiftedInwardAtTheBorders() {
        // grid 16, kernel 7: a_i = clamp(i − 3, 0, 9)
        int[] want = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9};
        for (int i = 0; i < 16; i++) {
            assertThat(Neighborhood.windowStart(i, 16, 7)).as("a_%d", i).isEqualTo(want[i]);
        }
        int[] t = Neighborhood.table(16, 7);
        assertThat(t).hasSize(256 * 49);
        // query (0, 15): rows 0..6, cols 9..15
        assertThat(t[15 * 49]).isEqualTo(9);
        assertThat(t[15 * 49 + 48]).isEqualTo(6 * 16 + 15);
    }

    @Test
    void neighbourhoodNeedsTheKernelToFitTheGrid() {
        assertThatThrownBy(() -> Neighborhood.table(3, 5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kernel <= grid");
    }

    @Test
    void maskOfTheWrongSizeIsRejected() {
        assertThatThrownBy(() -> AttentionMask.blockCausal(1, 4).check(6, 6))
                .isInstanceOf(ShapeMismatchException.class);
        assertThatThrownBy(() -> AttentionMask.additive(Tensor.zeros(4, 5)).check(5, 5))
                .isInstanceOf(ShapeMismatchException.class);
    }
}
