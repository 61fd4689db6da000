package dev.mvarj.autograd;

import java.util.Map;

/** Dense and neighbourhood attention. */
final class AttentionFixtureOps implements FixtureOps {

    @Override
    public void register(Map<String, Spec> ops) {
    }
}
