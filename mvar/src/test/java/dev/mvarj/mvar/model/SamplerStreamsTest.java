package dev.mvarj.mvar.model;

import dev.mvarj.mvar.vq.ResidualQuantizer;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** Sample i of a seed draws from its own stream: the same tokens alone (as sample i) as within a batch. */
class SamplerStreamsTest {

    @Test
    void eachSampleIsTheSameAloneAsInABatch() {
        ScaleSchedule sch = new ScaleSchedule(new int[]{1, 2, 3, 4});
        TransformerConfig cfg = new TransformerConfig(1, 16, 2, 16, 4, 4, sch, 0f, 0.1f, 1e-3f, 2, 3);
        NextScaleTransformer m = new NextScaleTransformer(cfg, new Rng(1));
        m.eval();
        ResidualQuantizer q = new ResidualQuantizer(16, 4, sch, 0.25f, 0.5f, 4, new Rng(2));
        int[] labels = {0, 1, 2, 3, 1};
        for (AttentionPattern p : AttentionPattern.values()) {
            Sampler.Settings st = new Sampler.Settings(1.5f, 0, 0.95f, 11);
            Sampler.Result batch = Sampler.sample(m, q, p, labels, st);
            for (int i = 0; i < labels.length; i++) {
                Sampler.Result alone = Sampler.sample(m, q, p, new int[]{labels[i]}, st, i);
                for (int s = 0; s < sch.count(); s++) {
                    int n = sch.tokens(s);
                    assertThat(alone.indices()[s].toIntArray()).as("%s sample %d scale %d", p, i, s).containsExactly(
                            Arrays.copyOfRange(batch.indices()[s].toIntArray(), i * n, (i + 1) * n));
                }
            }
            Sampler.Result shifted = Sampler.sample(m, q, p, labels, st, 1);
            assertThat(shifted.indices()[sch.count() - 1].toIntArray()).as("%s: other samples of the seed", p)
                    .isNotEqualTo(batch.indices()[sch.count() - 1].toIntArray());
        }
    }
}
