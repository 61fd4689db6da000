package dev.mvarj.mvar.eval;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClassConsistencyTest {

    @Test
    void countsRequestedAgainstPredictedClasses() {
        int[] requested = {0, 0, 0, 1, 1, 2, 2, 2};
        int[] predicted = {0, 0, 1, 1, 2, 2, 2, 2};
        ClassConsistency c = ClassConsistency.of(requested, predicted, 3);
        assertThat(c.total()).isEqualTo(8);
        assertThat(c.consistency()).isEqualTo(6.0 / 8);
        assertThat(c.requestedPerClass()).containsExactly(3, 2, 3);
        assertThat(c.consistentPerClass()).containsExactly(2, 1, 3);
        assertThat(c.predictedPerClass()).containsExactly(2, 2, 4);
        assertThat(c.confusion()[1]).containsExactly(0, 1, 1);
    }

    @Test
    void rejectsLabelsOutsideTheClasses() {
        assertThatThrownBy(() -> ClassConsistency.of(new int[]{0, 10}, new int[]{0, 1}, 10))
                .hasMessageContaining("item 1").hasMessageContaining("requested class 10");
    }
}
