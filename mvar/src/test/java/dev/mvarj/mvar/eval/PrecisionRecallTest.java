package dev.mvarj.mvar.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class PrecisionRecallTest {

    static Tensor gaussian(int n, int d, long seed, float shift) {
        Random r = new Random(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() + shift;
        }
        return Tensor.of(x, n, d);
    }

    /** Points 0, 1, ..., n−1 on the first axis of a 3-D space, shifted by {@code offset}. */
    static Tensor line(int n, float offset) {
        float[] x = new float[n * 3];
        for (int i = 0; i < n; i++) {
            x[i * 3] = i + offset;
        }
        return Tensor.of(x, n, 3);
    }

    @Test
    void identicalSetsHavePrecisionAndRecallOne() {
        Tensor x = gaussian(300, 16, 1, 0);
        PrecisionRecall.Result r = PrecisionRecall.compute(x, x, 3);
        assertThat(r.precision()).isEqualTo(1.0);
        assertThat(r.recall()).isEqualTo(1.0);
    }

    @Test
    void farApartSetsHavePrecisionAndRecallZero() {
        PrecisionRecall.Result r = PrecisionRecall.compute(gaussian(200, 8, 2, 0), gaussian(150, 8, 3, 100), 3);
        assertThat(r.precision()).isEqualTo(0.0);
        assertThat(r.recall()).isEqualTo(0.0);
        assertThat(r.real()).isEqualTo(200);
        assertThat(r.generated()).isEqualTo(150);
    }

    @Test
    void radiusIsTheDistanceToTheKthNearestOtherPoint() {
        // points 0..9 on a line: with k = 2 the end points' second neighbour is 2 away, the others' is 1 away
        PrecisionRecall.Manifold m = PrecisionRecall.Manifold.of(line(10, 0), 2);
        assertThat(m.radius(0)).isCloseTo(2, within(1e-6));
        assertThat(m.radius(9)).isCloseTo(2, within(1e-6));
        for (int i = 1; i < 9; i++) {
            assertThat(m.radius(i)).as("point %d", i).isCloseTo(1, within(1e-6));
        }
    }

    @Test
    void generatedSamplesOutsideEveryBallLowerPrecisionOnly() {
        // real: 0..9 (radius 1 for k = 1); generated: 0.5..9.5, a mirror of the real set shifted by half a step,
        // plus 5 points 50 units away. Precision = 10/15; recall: each real point is within 1 of a generated one
        Tensor real = line(10, 0);
        float[] g = new float[15 * 3];
        for (int i = 0; i < 10; i++) {
            g[i * 3] = i + 0.5f;
        }
        for (int i = 10; i < 15; i++) {
            g[i * 3] = 50 + 3 * i;   // far away, 3 apart: their own radius (k = 1) is 3
        }
        PrecisionRecall.Result r = PrecisionRecall.compute(real, Tensor.of(g, 15, 3), 1);
        assertThat(r.precision()).isCloseTo(10.0 / 15, within(1e-12));
        assertThat(r.recall()).isEqualTo(1.0);
    }

    @Test
    void matchesNumpyBruteForce() throws IOException {
        JsonObject f = FrechetDistanceTest.fixture();
        int d = f.get("dim").getAsInt(), k = f.get("k").getAsInt();
        Tensor real = FrechetDistanceTest.tensor(f.getAsJsonArray("real"), f.get("real_n").getAsInt(), d);
        Tensor gen = FrechetDistanceTest.tensor(f.getAsJsonArray("generated"), f.get("generated_n").getAsInt(), d);
        PrecisionRecall.Manifold m = PrecisionRecall.Manifold.of(real, k);
        JsonArray radii = f.getAsJsonArray("real_radii");
        for (int i = 0; i < radii.size(); i++) {
            assertThat(m.radius(i)).as("radius %d", i).isCloseTo(radii.get(i).getAsDouble(), within(1e-5));
        }
        PrecisionRecall.Result r = PrecisionRecall.compute(real, gen, k);
        assertThat(r.precision()).isCloseTo(f.get("precision").getAsDouble(), within(1e-12));
        assertThat(r.recall()).isCloseTo(f.get("recall").getAsDouble(), within(1e-12));
    }

    @Test
    void blockedComputationMatchesBruteForceBeyondOneBlock() {
        int n = PrecisionRecall.BLOCK + 300, m = 700, d = 4, k = 3;
        Tensor real = gaussian(n, d, 5, 0), gen = gaussian(m, d, 6, 0.4f);
        float[] r = real.toFloatArray(), g = gen.toFloatArray();
        double[] rr = bruteRadii(r, n, d, k), rg = bruteRadii(g, m, d, k);
        PrecisionRecall.Result res = PrecisionRecall.compute(real, gen, k);
        assertThat(res.precision()).isEqualTo(bruteCoverage(r, n, rr, g, m, d));
        assertThat(res.recall()).isEqualTo(bruteCoverage(g, m, rg, r, n, d));
        assertThat(res.precision()).isBetween(0.3, 0.99);
    }

    private static double dist2(float[] a, int i, float[] b, int j, int d) {
        double s = 0;
        for (int c = 0; c < d; c++) {
            double t = a[i * d + c] - b[j * d + c];
            s += t * t;
        }
        return s;
    }

    private static double[] bruteRadii(float[] x, int n, int d, int k) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double[] ds = new double[n - 1];
            for (int j = 0, p = 0; j < n; j++) {
                if (j != i) {
                    ds[p++] = dist2(x, i, x, j, d);
                }
            }
            java.util.Arrays.sort(ds);
            out[i] = ds[k - 1];
        }
        return out;
    }

    private static double bruteCoverage(float[] man, int n, double[] radii2, float[] q, int m, int d) {
        int in = 0;
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < n; i++) {
                if (dist2(q, j, man, i, d) <= radii2[i]) {
                    in++;
                    break;
                }
            }
        }
        return (double) in / m;
    }
}
