package dev.mvarj.autograd;

import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.BatchShard;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Data-parallel shards draw per-sample randomness as one process does (docs/distributed.md): the drop-path masks of
 * the shards of a batch, concatenated, are the whole batch's mask, and the generator ends at the same offset.
 */
class BatchShardDrawsTest {

    @Test
    void shardsOfABatchDrawTheWholeBatchsDropPathMask() {
        int B = 6;
        float p = 0.5f;
        Variable x = Variable.constant(Tensor.ones(B, 3));
        Rng whole = new Rng(11);
        float[] expected = F.dropPath(x, p, whole, true).data().toFloatArray();
        float[] joined = new float[B * 3];
        for (int r = 0; r < 3; r++) {
            Rng rng = new Rng(11);
            BatchShard shard = new BatchShard(r, 3);
            Variable part = Variable.constant(Tensor.ones(B / 3, 3));
            float[] got = F.dropPath(part, p, rng, true, shard).data().toFloatArray();
            System.arraycopy(got, 0, joined, shard.from(B) * 3, got.length);
            assertThat(rng.offset()).as("offset after shard %d", r).isEqualTo(whole.offset());
        }
        assertThat(joined).containsExactly(expected);
        assertThat(expected).as("the mask drops some rows and keeps others").contains(0f, 2f);
    }

    @Test
    void aBatchThatDoesNotSplitEvenlyIsRefused() {
        assertThatThrownBy(() -> new BatchShard(1, 4).rows(6)).hasMessage("a batch of 6 does not split into 4 equal"
                + " shards");
        assertThatThrownBy(() -> new BatchShard(2, 2)).hasMessageContaining("need 0 <= index < count");
    }
}
