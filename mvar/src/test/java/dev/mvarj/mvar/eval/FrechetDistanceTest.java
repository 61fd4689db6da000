package dev.mvarj.mvar.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class FrechetDistanceTest {

    /** n vectors of dimension d: x = z·mix + shift with z standard normal. */
    static float[] correlated(int n, int d, long seed, double shift, double scale) {
        Random r = new Random(seed);
        double[][] mix = new double[d][d];
        for (double[] row : mix) {
            for (int j = 0; j < d; j++) {
                row[j] = r.nextGaussian() * scale;
            }
        }
        float[] x = new float[n * d];
        double[] z = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                z[j] = r.nextGaussian();
            }
            for (int j = 0; j < d; j++) {
                double s = shift * (j + 1) / d;
                for (int c = 0; c < d; c++) {
                    s += z[c] * mix[c][j];
                }
                x[i * d + j] = (float) s;
            }
        }
        return x;
    }

    static JsonObject fixture() throws IOException {
        try (Reader r = new InputStreamReader(FrechetDistanceTest.class.getResourceAsStream("/eval/metrics_fixture.json"),
                StandardCharsets.UTF_8)) {
            return JsonParser.parseReader(r).getAsJsonObject();
        }
    }

    static Tensor tensor(JsonArray values, int n, int d) {
        float[] x = new float[values.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = values.get(i).getAsFloat();
        }
        return Tensor.of(x, n, d);
    }

    @Test
    void identicalSetsAreAtDistanceZero() {
        Tensor a = Tensor.of(correlated(200, 16, 1, 0.5, 0.7), 200, 16);
        assertThat(FrechetDistance.between(a, a)).isCloseTo(0, within(1e-9));
    }

    @Test
    void diagonalGaussiansMatchTheClosedForm() {
        // Σ diagonal: d² = Σ_i (μ1_i − μ2_i)² + (σ1_i − σ2_i)²
        double[] m1 = {0, 1, -2, 0.5}, m2 = {1, 1, 0, -0.5}, v1 = {1, 4, 0.25, 2}, v2 = {9, 1, 0.25, 0.5};
        double expected = 0;
        for (int i = 0; i < 4; i++) {
            expected += (m1[i] - m2[i]) * (m1[i] - m2[i]) + Math.pow(Math.sqrt(v1[i]) - Math.sqrt(v2[i]), 2);
        }
        double fd = FrechetDistance.between(stats(m1, v1), stats(m2, v2));
        assertThat(expected).isCloseTo((1 + 4) + 1 + 4 + (1 + 0.5), within(1e-12)); // by hand: (√2 − √½)² = ½
        assertThat(fd).isCloseTo(expected, within(1e-12));
    }

    private static FeatureStats stats(double[] mean, double[] var) {
        double[][] cov = new double[mean.length][mean.length];
        for (int i = 0; i < mean.length; i++) {
            cov[i][i] = var[i];
        }
        return new FeatureStats(mean, cov, 100);
    }

    @Test
    void matchesNumpyOnCorrelatedFeatures() throws IOException {
        JsonObject f = fixture();
        int d = f.get("dim").getAsInt();
        Tensor real = tensor(f.getAsJsonArray("real"), f.get("real_n").getAsInt(), d);
        Tensor gen = tensor(f.getAsJsonArray("generated"), f.get("generated_n").getAsInt(), d);
        double expected = f.get("frechet_distance").getAsDouble();
        assertThat(FrechetDistance.between(real, gen)).as("numpy: %s", expected).isCloseTo(expected, within(1e-9));
        assertThat(FrechetDistance.between(gen, real)).as("symmetric").isCloseTo(expected, within(1e-9));
    }

    @Test
    void covarianceIsTheUnbiasedOne() {
        // x = (0, 2): mean 1, unbiased variance ((−1)² + 1²) / (2 − 1) = 2 (the biased one would be 1)
        FeatureStats s = FeatureStats.of(new float[]{0, 2}, 2, 1);
        assertThat(s.mean()[0]).isEqualTo(1);
        assertThat(s.cov()[0][0]).isEqualTo(2);
        // two dimensions: cov((0,0),(2,−2)) = [[2, −2], [−2, 2]]
        FeatureStats t = FeatureStats.of(new float[]{0, 0, 2, -2}, 2, 2);
        assertThat(t.cov()[0][1]).isEqualTo(-2);
        assertThat(t.cov()[1][0]).isEqualTo(-2);
    }

    @Test
    void isInvariantToRotationsOfTheFeatureSpace() {
        int n = 300, d = 8;
        float[] a = correlated(n, d, 11, 0, 0.8), b = correlated(n, d, 12, 1.5, 0.5);
        double[][] q = SymmetricEigen.of(SymmetricEigenTest.randomSymmetric(d, 5)).vectors(); // orthogonal
        double fd = FrechetDistance.between(Tensor.of(a, n, d), Tensor.of(b, n, d));
        double rotated = FrechetDistance.between(Tensor.of(rotate(a, q, n, d), n, d), Tensor.of(rotate(b, q, n, d), n, d));
        assertThat(fd).isGreaterThan(1);
        assertThat(rotated).isCloseTo(fd, within(1e-4 * fd));
    }

    private static float[] rotate(float[] x, double[][] q, int n, int d) {
        float[] out = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    s += x[i * d + c] * q[c][j];
                }
                out[i * d + j] = (float) s;
            }
        }
        return out;
    }

    @Test
    void scalesWithTheSquareOfTheFeatures() {
        int n = 200, d = 5;
        float[] a = correlated(n, d, 21, 0, 1), b = correlated(n, d, 22, 2, 0.6);
        float[] a3 = a.clone(), b3 = b.clone();
        for (int i = 0; i < a3.length; i++) {
            a3[i] *= 3;
            b3[i] *= 3;
        }
        double fd = FrechetDistance.between(Tensor.of(a, n, d), Tensor.of(b, n, d));
        assertThat(FrechetDistance.between(Tensor.of(a3, n, d), Tensor.of(b3, n, d))).isCloseTo(9 * fd, within(1e-6 * fd));
    }

    @Test
    void staysFiniteAndNonNegativeWithFewerSamplesThanDimensions() {
        int d = 32; // 10 samples: both covariances have rank <= 9
        Tensor a = Tensor.of(correlated(10, d, 31, 0, 1), 10, d), b = Tensor.of(correlated(12, d, 32, 1, 1), 12, d);
        double fd = FrechetDistance.between(a, b);
        assertThat(fd).isFinite().isPositive();
        assertThat(FrechetDistance.between(a, a)).isCloseTo(0, within(1e-8));
    }
}
