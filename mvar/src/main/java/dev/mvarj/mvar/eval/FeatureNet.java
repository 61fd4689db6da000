package dev.mvarj.mvar.eval;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.nn.Checkpoint;
import dev.mvarj.nn.Conv2d;
import dev.mvarj.nn.GroupNorm;
import dev.mvarj.nn.Layer;
import dev.mvarj.nn.Linear;
import dev.mvarj.nn.Module;
import dev.mvarj.nn.Sequential;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The classifier whose penultimate layer is the feature space of the generation metrics (the role Inception-v3's
 * pool3 plays for FID on ImageNet), one per data set: a small CNN on 32×32 images of c channels in [−1, 1] (c = 1 for
 * Fashion-MNIST, 3 for the RGB shapes):
 * <pre>
 *   features.0  conv 3×3, c → w              32×32    features.1  group norm   features.2  SiLU
 *   features.3  conv 3×3 stride 2, w → 2w    16×16    features.4  group norm   features.5  SiLU
 *   features.6  conv 3×3 stride 2, 2w → 4w    8×8     features.7  group norm   features.8  SiLU
 *   flatten (B, 4w·8·8)
 *   embed       linear 4w·64 → D, SiLU         the feature vector (B, D)
 *   head        linear D → classes             the logits
 * </pre>
 * The 8×8 map is flattened rather than average-pooled: Fashion-MNIST items are centred, and where a feature sits
 * (a collar, a sleeve) separates shirts from coats and pullovers; with global average pooling the same budget
 * reached only ≈ 86% test accuracy. Parameter names follow torch.nn ({@code features.0.weight}, ...,
 * {@code embed.weight}, {@code head.weight}), so the checkpoint is also a PyTorch state dict of this architecture.
 */
public final class FeatureNet extends Module {

    /** The default checkpoint of the Fashion-MNIST classifier. */
    public static final Path DEFAULT_CHECKPOINT = defaultCheckpoint("fashion-mnist");

    /**
     * Where the classifier of a data set ({@code fashion-mnist} or {@code shapes}) is written and looked for:
     * {@code runs/classifier/fashion_cnn.safetensors}, {@code runs/classifier/shapes_cnn.safetensors}.
     */
    public static Path defaultCheckpoint(String dataset) {
        String stem = dataset.startsWith("fashion") ? "fashion" : dataset.replaceAll("[^A-Za-z0-9]+", "_");
        return Path.of("runs", "classifier", stem + "_cnn.safetensors");
    }

    /**
     * @param channels   image channels c (1 grey, 3 RGB)
     * @param width      channels of the first conv (the 16×16 and 8×8 stages use 2·width and 4·width)
     * @param featureDim D, the size of the feature vector
     * @param groups     group-norm groups (must divide width)
     * @param classes    number of classes (10 for Fashion-MNIST)
     */
    public record Config(int channels, int width, int featureDim, int groups, int classes) {

        /** Grey, 16 / 128 / 8 groups / 10 classes: ≈ 560k parameters, about 3 M multiply-adds per image. */
        public static final Config DEFAULT = new Config(1, 16, 128, 8, 10);

        public Config {
            if (channels < 1 || width < 1 || featureDim < 1 || classes < 2 || groups < 1 || width % groups != 0) {
                throw new IllegalArgumentException("FeatureNet config " + channels + "/" + width + "/" + featureDim
                        + "/" + groups + "/" + classes
                        + ": need positive sizes, at least 2 classes and groups dividing the width");
            }
        }

        /** The default sizes for images of {@code c} channels and {@code n} classes. */
        public static Config forData(int c, int n) {
            return new Config(c, DEFAULT.width, DEFAULT.featureDim, DEFAULT.groups, n);
        }

        /** As checkpoint metadata. */
        Map<String, String> toMetadata() {
            return Map.of("featurenet.channels", Integer.toString(channels),
                    "featurenet.width", Integer.toString(width), "featurenet.feature_dim",
                    Integer.toString(featureDim), "featurenet.groups", Integer.toString(groups),
                    "featurenet.classes", Integer.toString(classes));
        }

        /** The config in {@code meta}; files written before the channel count was stored are grey (c = 1). */
        static Config fromMetadata(Map<String, String> meta) {
            try {
                return new Config(Integer.parseInt(meta.getOrDefault("featurenet.channels", "1")),
                        Integer.parseInt(meta.get("featurenet.width")),
                        Integer.parseInt(meta.get("featurenet.feature_dim")),
                        Integer.parseInt(meta.get("featurenet.groups")),
                        Integer.parseInt(meta.get("featurenet.classes")));
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** Image side the network expects. */
    public static final int SIDE = 32;
    /** Side of the last feature map (two stride-2 convs). */
    private static final int MAP = SIDE / 4;
    /** Images per forward pass in {@link #features(Tensor)} / {@link #logits(Tensor)} (bounds activation memory). */
    public static final int CHUNK = Integer.getInteger("mvarj.featurenet.chunk", 500);

    private final Config config;
    public final Sequential features;
    public final Linear embed;
    public final Linear head;

    public FeatureNet(Config config, long seed) {
        this.config = config;
        Rng rng = new Rng(seed);
        int w = config.width(), d = config.featureDim(), g = config.groups();
        this.features = child("features", new Sequential(
                new Conv2d(config.channels(), w, 3, 1, 1, true, rng), new GroupNorm(g, w, 1e-5f), new SiLU(),
                new Conv2d(w, 2 * w, 3, 2, 1, true, rng), new GroupNorm(g, 2 * w, 1e-5f), new SiLU(),
                new Conv2d(2 * w, 4 * w, 3, 2, 1, true, rng), new GroupNorm(g, 4 * w, 1e-5f), new SiLU()));
        this.embed = child("embed", new Linear(4 * w * MAP * MAP, d, true, rng));
        this.head = child("head", new Linear(d, config.classes(), true, rng));
    }

    public Config config() {
        return config;
    }

    /** D, the size of a feature vector. */
    public int featureDim() {
        return config.featureDim();
    }

    /** Differentiable forward to the feature vectors: x (B, c, 32, 32) -> (B, D). */
    public Variable forwardFeatures(Variable x) {
        checkImages(x.shape());
        Variable h = features.forward(x);                           // (B, 4w, 8, 8)
        h = F.reshape(h, x.size(0), 4 * config.width() * MAP * MAP); // flatten -> (B, 4w·64)
        return F.silu(embed.forward(h));                             // (B, D)
    }

    /** Differentiable forward to the logits: x (B, c, 32, 32) -> (B, classes). */
    public Variable forward(Variable x) {
        return head.forward(forwardFeatures(x));
    }

    /** The feature vectors of {@code images} (B, c, 32, 32) in [−1, 1]: (B, D), in eval mode, no graph, in chunks. */
    public Tensor features(Tensor images) {
        return inference(images, false);
    }

    /** The class logits of {@code images} (B, c, 32, 32): (B, classes), in eval mode, no graph, in chunks. */
    public Tensor logits(Tensor images) {
        return inference(images, true);
    }

    /** The logits of feature vectors from {@link #features}: (B, D) -> (B, classes), no graph. */
    public Tensor classify(Tensor features) {
        try (var g = GradMode.off()) {
            return head.forward(Variable.constant(features)).data();
        }
    }

    /** The arg-max class of each image: (B) as an int array. */
    public int[] predict(Tensor images) {
        return argmaxRows(logits(images));
    }

    /** Row-wise arg-max of a (B, C) tensor. */
    static int[] argmaxRows(Tensor scores) {
        int b = scores.size(0), c = scores.size(1);
        float[] v = scores.contiguous().toFloatArray();
        int[] out = new int[b];
        for (int i = 0; i < b; i++) {
            int best = 0;
            for (int j = 1; j < c; j++) {
                if (v[i * c + j] > v[i * c + best]) {
                    best = j;
                }
            }
            out[i] = best;
        }
        return out;
    }

    private Tensor inference(Tensor images, boolean withHead) {
        checkImages(images.shape());
        boolean wasTraining = isTraining();
        eval();
        try (var g = GradMode.off()) {
            int n = images.size(0), dim = withHead ? config.classes() : config.featureDim();
            float[] out = new float[n * dim];
            for (int s = 0; s < n; s += CHUNK) {
                int e = Math.min(n, s + CHUNK);
                Variable x = Variable.constant(images.slice(0, s, e).contiguous());
                Variable f = withHead ? forward(x) : forwardFeatures(x);
                System.arraycopy(f.data().contiguous().toFloatArray(), 0, out, s * dim, (e - s) * dim);
            }
            return Tensor.of(out, n, dim);
        } finally {
            if (wasTraining) {
                train();
            }
        }
    }

    private void checkImages(int[] shape) {
        if (shape.length != 4 || shape[1] != config.channels() || shape[2] != SIDE || shape[3] != SIDE) {
            throw new ShapeMismatchException("FeatureNet: expected images (B, " + config.channels()
                    + ", 32, 32), got " + Shape.str(shape));
        }
    }

    /** Writes the parameters and the config (as metadata) to {@code file}; {@code extra} adds metadata. */
    public void save(Path file, Map<String, String> extra) throws IOException {
        java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
        Map<String, String> meta = new java.util.HashMap<>(extra);
        meta.putAll(config.toMetadata());
        meta.put("model", "FeatureNet");
        Checkpoint.save(file, this, null, meta);
    }

    /**
     * Loads a classifier written by {@link #save} (the classifier example). The config comes from the file's
     * metadata; a file without it is read as {@link Config#DEFAULT}.
     */
    public static FeatureNet load(Path file) throws IOException {
        Map<String, String> meta = dev.mvarj.tensor.io.SafeTensors.read(file).metadata();
        Config cfg = Config.fromMetadata(meta);
        FeatureNet net = new FeatureNet(cfg == null ? Config.DEFAULT : cfg, 0);
        Checkpoint.load(file, net, null);
        net.eval();
        return net;
    }

    /** x · σ(x) as a layer (no parameters), so it can sit in the Sequential. */
    private static final class SiLU extends Module implements Layer {
        @Override
        public Variable forward(Variable x) {
            return F.silu(x);
        }
    }

    @Override
    public String toString() {
        return "FeatureNet" + config + " (" + parameterCount() + " parameters, feature dim "
                + config.featureDim() + ", names " + Arrays.toString(namedParameters().keySet().stream()
                .limit(3).toArray()) + "...)";
    }
}
