package dev.mvarj.autograd;

import dev.mvarj.tensor.AttentionMask;

import java.util.Map;

/** Dense and neighbourhood attention. */
final class AttentionFixtureOps implements FixtureOps {

    /** Outputs and gradients against PyTorch's float64 (fused float32 kernels, rows of ≤ 49 keys). */
    private static final double TOL = 1e-5;

    @Override
    public void register(Map<String, Spec> ops) {
        ops.put("attention", new Spec((in, f) -> F.attention(in.get("q"), in.get("k"), in.get("v"),
                f.inputNames().contains("mask") ? AttentionMask.additive(f.input("mask")) : AttentionMask.none(),
                f.param("scale")), TOL, TOL));
        ops.put("neighborhood_attention", new Spec((in, f) -> F.neighborhoodAttention(in.get("q"), in.get("k"),
                in.get("v"), f.intParam("grid"), f.intParam("kernel"), f.param("scale")), TOL, TOL));
    }
}
