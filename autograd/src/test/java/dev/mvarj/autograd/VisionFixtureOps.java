package dev.mvarj.autograd;

import java.util.Map;

/** Convolution, resampling and group norm. */
final class VisionFixtureOps implements FixtureOps {

    @Override
    public void register(Map<String, Spec> ops) {
        ops.put("conv2d", new Spec((in, f) -> {
            int[] pad = f.intsParam("padding"); // [top, bottom, left, right]
            return F.conv2d(in.get("x"), in.get("weight"), in.get("bias"), f.intParam("stride"),
                    pad[0], pad[1], pad[2], pad[3]);
        }, 2e-5, 2e-5));
        ops.put("group_norm", new Spec((in, f) -> F.groupNorm(in.get("x"), f.intParam("groups"), in.get("weight"),
                in.get("bias"), f.param("eps")), 2e-5, 2e-5));
        ops.put("upsample_nearest2x", new Spec((in, f) -> F.upsampleNearest2x(in.get("x")), 1e-6, 1e-6));
        ops.put("area_resample", new Spec((in, f) -> F.areaResample(in.get("x"), f.intsParam("size")[0],
                f.intsParam("size")[1]), 1e-5, 1e-5));
        ops.put("bicubic_resample", new Spec((in, f) -> F.bicubicResample(in.get("x"), f.intsParam("size")[0],
                f.intsParam("size")[1]), 1e-5, 1e-5));
    }
}
