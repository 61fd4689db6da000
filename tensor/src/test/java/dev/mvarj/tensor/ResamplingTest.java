package dev.mvarj.tensor;

import dev.mvarj.tensor.Resampling.Mode;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

/** The AREA and BICUBIC matrices of docs/model.md#resampling and the separable resize built on them. */
class ResamplingTest {

    private static final int[] SIZES = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 32};

    private static float[][] rows(Tensor m) {
        int o = m.size(0), n = m.size(1);
        float[] v = m.toFloatArray();
        float[][] r = new float[o][n];
        for (int i = 0; i < o; i++) {
            System.arraycopy(v, i * n, r[i], 0, n);
        }
        return r;
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void sameSizeIsTheIdentityMatrix(Mode mode) {
        for (int n : SIZES) {
            float[][] m = rows(Resampling.matrix(mode, n, n));
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    assertThat(m[i][j]).as("%s %d->%d [%d,%d]", mode, n, n, i, j).isEqualTo(i == j ? 1f : 0f);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void everyRowSumsToOneSoConstantMapsStayConstant(Mode mode) {
        for (int n : SIZES) {
            for (int o : SIZES) {
                float[][] m = rows(Resampling.matrix(mode, n, o));
                for (int i = 0; i < o; i++) {
                    double s = 0;
                    for (float v : m[i]) {
                        s += v;
                    }
                    assertThat(s).as("%s %d->%d row %d", mode, n, o, i).isCloseTo(1.0, offset(1e-6));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void resizingAConstantMapGivesTheSameConstant(Mode mode) {
        Tensor x = Tensor.full(0.7f, 2, 3, 5, 16);
        for (int[] size : new int[][]{{1, 1}, {3, 13}, {16, 10}, {6, 32}}) {
            float[] y = Resampling.resize(x, mode, size[0], size[1]).toFloatArray();
            for (float v : y) {
                assertThat(v).as("%s to %dx%d", mode, size[0], size[1]).isCloseTo(0.7f, offset(1e-6f));
            }
        }
    }

    @Test
    void bicubicFromOnePixelToSixteenIsConstant() {
        Tensor x = Tensor.of(new float[]{-0.3f, 2.5f}, 1, 2, 1, 1);
        Tensor y = Resampling.resize(x, Mode.BICUBIC, 16, 16);
        assertThat(y.shape()).containsExactly(1, 2, 16, 16);
        float[] v = y.toFloatArray();
        for (int k = 0; k < v.length; k++) {
            assertThat(v[k]).as("element %d", k).isCloseTo(k < 256 ? -0.3f : 2.5f, offset(1e-6f));
        }
    }

    @Test
    void area16To13HasTheOverlappingWindowsOfTheSpec() {
        float[][] m = rows(Resampling.area(16, 13));
        for (int i = 0; i < 13; i++) {
            int start = Math.floorDiv(i * 16, 13), end = -Math.floorDiv(-(i + 1) * 16, 13);
            for (int j = 0; j < 16; j++) {
                float want = j >= start && j < end ? 1f / (end - start) : 0f;
                assertThat(m[i][j]).as("row %d [%d, %d) col %d", i, start, end, j).isCloseTo(want, offset(1e-7f));
            }
        }
        // windows 0 = [0, 2) and 1 = [1, 3) share input 1
        assertThat(m[0][1]).isEqualTo(0.5f);
        assertThat(m[1][1]).isEqualTo(0.5f);
    }

    @Test
    void bicubicUsesKeysMinusThreeQuartersWithClampedTaps() {
        // 4 -> 8: u = (j + 0.5)/2 − 0.5; j = 0: u = −0.25, i0 = −1, t = 0.75, taps −2..1 clamp to 0,0,0,1
        double a = -0.75, t = 0.75;
        double w0 = far(a, 1 + t), w1 = near(a, t), w2 = near(a, 1 - t), w3 = far(a, 2 - t);
        float[][] m = rows(Resampling.bicubic(4, 8));
        assertThat(m[0][0]).isCloseTo((float) (w0 + w1 + w2), offset(1e-7f));
        assertThat(m[0][1]).isCloseTo((float) w3, offset(1e-7f));
        assertThat(m[0][2]).isZero();
        // downsampling overshoots: 8 -> 3 has negative lobes
        float[][] d = rows(Resampling.bicubic(8, 3));
        float min = Float.MAX_VALUE;
        for (float v : d[1]) {
            min = Math.min(min, v);
        }
        assertThat(min).as("smallest weight of 8->3 row 1").isNegative();
    }

    private static double near(double a, double d) {
        return (a + 2) * d * d * d - (a + 3) * d * d + 1;
    }

    private static double far(double a, double d) {
        return a * d * d * d - 5 * a * d * d + 8 * a * d - 4 * a;
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void resizeIsTheSeparableProductAndItsBackwardTheTranspose(Mode mode) {
        Rng rng = new Rng(7);
        int h = 5, w = 8, oh = 13, ow = 6;
        Tensor x = rng.normal(0f, 1f, 2, 3, h, w), g = rng.normal(0f, 1f, 2, 3, oh, ow);
        Tensor y = Resampling.resize(x, mode, oh, ow);
        Tensor dx = Resampling.resizeBackward(g, mode, h, w);
        // <resize(x), g> = <x, resizeBackward(g)>
        double lhs = dot(y.toFloatArray(), g.toFloatArray()), rhs = dot(x.toFloatArray(), dx.toFloatArray());
        assertThat(lhs).isCloseTo(rhs, offset(1e-4));
        // one plane by hand: A_h · X · A_wᵀ
        float[][] ah = rows(Resampling.matrix(mode, h, oh)), aw = rows(Resampling.matrix(mode, w, ow));
        float[] xv = x.toFloatArray(), yv = y.toFloatArray();
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                double s = 0;
                for (int p = 0; p < h; p++) {
                    for (int q = 0; q < w; q++) {
                        s += (double) ah[i][p] * xv[p * w + q] * aw[j][q];
                    }
                }
                assertThat((double) yv[i * ow + j]).isCloseTo(s, offset(1e-5));
            }
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
