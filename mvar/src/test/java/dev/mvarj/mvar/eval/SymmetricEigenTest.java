package dev.mvarj.mvar.eval;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SymmetricEigenTest {

    static double[][] randomSymmetric(int n, long seed) {
        Random r = new Random(seed);
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                a[i][j] = a[j][i] = r.nextGaussian();
            }
        }
        return a;
    }

    @Test
    void twoByTwoHasEigenvaluesOneAndThree() {
        SymmetricEigen e = SymmetricEigen.of(new double[][]{{2, 1}, {1, 2}});
        assertThat(e.values()).containsExactly(new double[]{1, 3}, within(1e-14));
        // eigenvector of 3 is (1, 1)/√2 up to sign
        assertThat(Math.abs(e.vectors()[0][1])).isCloseTo(Math.sqrt(0.5), within(1e-14));
        assertThat(e.vectors()[0][1] * e.vectors()[1][1]).isPositive();
    }

    @Test
    void reconstructsARandomSymmetricMatrixWithOrthonormalVectors() {
        int n = 37;
        double[][] a = randomSymmetric(n, 7);
        SymmetricEigen e = SymmetricEigen.of(a);
        double[][] v = e.vectors();
        double maxErr = 0, maxOrth = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0, dot = 0;
                for (int k = 0; k < n; k++) {
                    s += v[i][k] * e.values()[k] * v[j][k];   // (V Λ Vᵀ)_ij
                    dot += v[k][i] * v[k][j];                 // (Vᵀ V)_ij
                }
                maxErr = Math.max(maxErr, Math.abs(s - a[i][j]));
                maxOrth = Math.max(maxOrth, Math.abs(dot - (i == j ? 1 : 0)));
            }
        }
        assertThat(maxErr).as("max |V Λ Vᵀ − A|").isLessThan(1e-11);
        assertThat(maxOrth).as("max |Vᵀ V − I|").isLessThan(1e-12);
        for (int i = 1; i < n; i++) {
            assertThat(e.values()[i]).as("ascending").isGreaterThanOrEqualTo(e.values()[i - 1]);
        }
    }

    @Test
    void squareRootOfAPsdMatrixSquaresBackToIt() {
        int n = 20;
        double[][] b = randomSymmetric(n, 3);
        double[][] psd = FrechetDistance.multiply(b, b);           // BᵀB = B² is PSD
        double[][] r = SymmetricEigen.of(psd).sqrtPsd();
        double[][] rr = FrechetDistance.multiply(r, r);
        double maxErr = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                maxErr = Math.max(maxErr, Math.abs(rr[i][j] - psd[i][j]));
            }
        }
        assertThat(maxErr).as("max |√A·√A − A|").isLessThan(1e-10);
    }

    @Test
    void sqrtTreatsRoundingNegativeEigenvaluesAsZero() {
        // rank 1: eigenvalues 0 and 2; rounding may make the zero slightly negative
        double[][] r = SymmetricEigen.of(new double[][]{{1, 1}, {1, 1}}).sqrtPsd();
        double s = Math.sqrt(0.5);
        assertThat(new double[]{r[0][0], r[0][1], r[1][0], r[1][1]}).containsExactly(new double[]{s, s, s, s},
                within(1e-12));
    }
}
