package dev.mvarj.autograd;

import java.util.Map;

/** The element-wise, product, reduction, view, indexing, normalisation and loss ops. */
final class CoreFixtureOps implements FixtureOps {

    private static final double EW = 1e-5;

    @Override
    public void register(Map<String, Spec> ops) {
        ops.put("add", new Spec((in, f) -> F.add(in.get("a"), in.get("b")), EW, EW));
        ops.put("sub", new Spec((in, f) -> F.sub(in.get("a"), in.get("b")), EW, EW));
        ops.put("mul", new Spec((in, f) -> F.mul(in.get("a"), in.get("b")), EW, EW));
        ops.put("div", new Spec((in, f) -> F.div(in.get("a"), in.get("b")), EW, EW));
        ops.put("neg", new Spec((in, f) -> F.neg(in.get("x")), EW, EW));
        ops.put("pow", new Spec((in, f) -> F.pow(in.get("x"), f.param("exponent")), 1e-5, 2e-5));
        ops.put("exp", new Spec((in, f) -> F.exp(in.get("x")), EW, EW));
        ops.put("log", new Spec((in, f) -> F.log(in.get("x")), EW, EW));
        ops.put("sqrt", new Spec((in, f) -> F.sqrt(in.get("x")), EW, EW));
        ops.put("clamp", new Spec((in, f) -> F.clamp(in.get("x"), f.param("min"), f.param("max")), EW, EW));
        ops.put("where", new Spec((in, f) -> F.where(f.input("cond"), in.get("a"), in.get("b")), EW, EW));
        ops.put("masked_fill", new Spec((in, f) -> F.maskedFill(in.get("x"), f.input("mask"), f.param("value")),
                EW, EW));
        ops.put("matmul", new Spec((in, f) -> F.matmul(in.get("a"), in.get("b")), 2e-5, 2e-5));
        ops.put("linear", new Spec((in, f) -> F.linear(in.get("x"), in.get("weight"), in.get("bias")), 2e-5, 2e-5));
        ops.put("sum", new Spec((in, f) -> F.sum(in.get("x"), f.intsParam("axes"), f.boolParam("keepdim")),
                2e-5, 2e-5));
        ops.put("mean", new Spec((in, f) -> F.mean(in.get("x"), f.intsParam("axes"), f.boolParam("keepdim")),
                2e-5, 2e-5));
        ops.put("reshape", new Spec((in, f) -> F.reshape(in.get("x"), f.intsParam("shape")), 0, 0));
        ops.put("permute", new Spec((in, f) -> F.permute(in.get("x"), f.intsParam("dims")), 0, 0));
        ops.put("transpose", new Spec((in, f) -> F.transpose(in.get("x"), f.intParam("axis0"), f.intParam("axis1")),
                0, 0));
        ops.put("slice", new Spec((in, f) -> F.slice(in.get("x"), f.intParam("axis"), f.intParam("start"),
                f.intParam("end")), 0, 0));
        ops.put("concat", new Spec((in, f) -> F.concat(f.intParam("axis"), in.get("x0"), in.get("x1"), in.get("x2")),
                0, 0));
        ops.put("stack", new Spec((in, f) -> F.stack(f.intParam("axis"), in.get("x0"), in.get("x1"), in.get("x2")),
                0, 0));
        ops.put("index_select", new Spec((in, f) -> F.indexSelect(in.get("x"), f.intParam("axis"), f.input("index")),
                EW, EW));
        ops.put("gather", new Spec((in, f) -> F.gather(in.get("x"), f.intParam("axis"), f.input("index")), EW, EW));
        ops.put("embedding", new Spec((in, f) -> F.embedding(in.get("weight"), f.input("index")), EW, EW));
        ops.put("layer_norm", new Spec((in, f) -> F.layerNorm(in.get("x"), in.get("weight"), in.get("bias"),
                f.param("eps")), 2e-5, 2e-5));
        ops.put("gelu_tanh", new Spec((in, f) -> F.gelu(in.get("x")), 2e-5, 2e-5));
        ops.put("silu", new Spec((in, f) -> F.silu(in.get("x")), 2e-5, 2e-5));
        ops.put("softmax", new Spec((in, f) -> F.softmax(in.get("x")), 1e-5, 1e-5));
        ops.put("log_softmax", new Spec((in, f) -> F.logSoftmax(in.get("x")), 2e-5, 2e-5));
        ops.put("l2_normalize", new Spec((in, f) -> F.l2Normalize(in.get("x"), f.intParam("axis"), f.param("eps")),
                2e-5, 2e-5));
        ops.put("mse", new Spec((in, f) -> F.mse(in.get("a"), in.get("b")), 2e-5, 2e-5));
        ops.put("dropout", new Spec((in, f) -> F.dropout(in.get("x"), f.input("mask"), f.param("p")), EW, EW));
        ops.put("drop_path", new Spec((in, f) -> F.dropPath(in.get("x"), f.input("keep"), f.param("p")), EW, EW));
        ops.put("cross_entropy", new Spec((in, f) -> F.crossEntropy(in.get("logits"), f.input("target"),
                f.input("weight"), f.param("label_smoothing")), 2e-5, 2e-5));
        ops.put("straight_through", new Spec((in, f) -> F.straightThrough(in.get("x"), in.get("q")), 0, 0));
        ops.put("stop_gradient", new Spec((in, f) -> F.stopGradient(in.get("x")), 0, 0));
    }
}
