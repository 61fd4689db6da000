package dev.mvarj.tensor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BroadcastTest {

    @Test
    void shapesAlignAtTheLastAxis() {
        assertThat(Shape.broadcast("add", new int[]{3, 1, 5}, new int[]{4, 1})).containsExactly(3, 4, 5);
        assertThat(Shape.broadcast("add", new int[]{}, new int[]{2, 3})).containsExactly(2, 3);
        assertThat(Shape.broadcast("add", new int[]{0, 3}, new int[]{1, 3})).containsExactly(0, 3);
    }

    @Test
    void incompatibleShapesNameTheOpAndBothShapes() {
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(4, 3);
        assertThatThrownBy(() -> a.mul(b)).isInstanceOf(ShapeMismatchException.class)
                .hasMessageContaining("mul").hasMessageContaining("[2, 3]").hasMessageContaining("[4, 3]");
        assertThatThrownBy(() -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 2)))
                .hasMessageContaining("matmul").hasMessageContaining("[2, 3]").hasMessageContaining("[4, 2]");
    }

    @Test
    void bothSidesBroadcastElementByElement() {
        Tensor a = Tensor.arange(3).reshape(3, 1, 1);          // (3,1,1)
        Tensor b = Tensor.arange(4).mul(10f).reshape(4, 1);    // (4,1)
        Tensor c = Tensor.arange(5).mul(100f);                 // (5)
        Tensor s = a.add(b).add(c);
        assertThat(s.shape()).containsExactly(3, 4, 5);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                for (int k = 0; k < 5; k++) {
                    assertThat(s.get(i, j, k)).isEqualTo(i + 10f * j + 100f * k);
                }
            }
        }
    }

    @Test
    void scalarOpsAndReductions() {
        Tensor x = Tensor.arange(6).reshape(2, 3);
        assertThat(x.sub(1f).div(2f).toFloatArray()).containsExactly(-0.5f, 0f, 0.5f, 1f, 1.5f, 2f);
        assertThat(x.sum(0, false).toFloatArray()).containsExactly(3, 5, 7);
        assertThat(x.mean(1, true).shape()).containsExactly(2, 1);
        assertThat(x.mean(1, true).toFloatArray()).containsExactly(1, 4);
        assertThat(x.max(-1, false).toFloatArray()).containsExactly(2, 5);
        assertThat(x.argmax(0, false).toIntArray()).containsExactly(1, 1, 1);
        assertThat(x.sum().item()).isEqualTo(15f);
    }

    @Test
    void matmulAcceptsTransposedViewsAndBroadcastBatches() {
        Tensor a = Tensor.arange(2 * 3 * 4).reshape(2, 3, 4);
        Tensor w = Tensor.arange(5 * 4).reshape(5, 4);
        Tensor viaView = a.matmul(w.transpose(0, 1));
        Tensor viaCopy = a.matmul(w.transpose(0, 1).contiguous());
        assertThat(viaView.shape()).containsExactly(2, 3, 5);
        assertThat(viaView.toFloatArray()).containsExactly(viaCopy.toFloatArray());
        // (0,0): row 0 of a = [0,1,2,3], row 0 of w = [0,1,2,3] -> 14
        assertThat(viaView.get(0, 0, 0)).isEqualTo(14f);
    }
}
