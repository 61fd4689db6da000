package dev.mvarj.autograd;

import java.util.Map;

/** Convolution, resampling and group norm. */
final class VisionFixtureOps implements FixtureOps {

    @Override
    public void register(Map<String, Spec> ops) {
    }
}
