package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.eval.ClassifierTrainer;
import dev.mvarj.mvar.eval.FeatureNet;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Edit;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code mvarj edit}: zero-shot in-painting, out-painting and class-conditional editing of an image with a trained VAR
 * or MVAR (docs/editing.md); {@code --eval N} measures class-conditional editing on the test split instead.
 */
@Command(name = "edit", mixinStandardHelpOptions = true,
        description = "Regenerate the masked region of an image (in-painting, out-painting with --invert, a new class"
                + " with --class); or, with --eval N, measure class-conditional editing on N test images.")
public final class EditCommand implements Callable<Integer> {

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--image", description = "the image to edit: a PNG of the tokenizer's size (32×32)")
    Path image;

    @Option(names = "--mask", description = "what to regenerate: a PNG of the image's size, white (grey ≥ 128)"
            + " regenerates, black keeps")
    Path mask;

    @Option(names = "--box", description = "what to regenerate: the rectangle x,y,w,h in pixels (instead of --mask)")
    String box;

    @Option(names = "--invert", description = "regenerate outside the mask or box instead (out-painting)")
    boolean invert;

    @Option(names = "--rule", defaultValue = "any", description = "a token regenerates when any, half or all of its"
            + " pixels are masked (docs/editing.md#the-mask-rule; default: ${DEFAULT-VALUE})")
    String rule;

    @Option(names = "--class", description = "the class to generate (default: none, the null class)")
    Integer cls;

    @Option(names = "--samples", defaultValue = "4", description = "edits of the image, samples 0.. of the seed"
            + " (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--out", defaultValue = "runs/edit", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--eval", defaultValue = "0", description = "measure instead: edit the central half of the first"
            + " N test images into other classes and score them (default: off)")
    int eval;

    @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
            description = "Fashion-MNIST directory, for --eval with a model of Fashion-MNIST (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--classifier", description = "FeatureNet checkpoint for --eval (default: the data set's, trained"
            + " when missing, as eval)")
    Path classifier;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Checks check = new Checks(spec);
        sampling.check(check);
        Edit.Rule how = Editing.rule(check, "--rule", rule);
        check.atLeast("--samples", samples, 1).atLeast("--eval", eval, 0).outputDir("--out", out);
        if (eval > 0) {
            if (image != null || mask != null || box != null || cls != null || invert) {
                throw check.error("--eval measures on the test split: it takes no --image, --mask, --box, --class"
                        + " or --invert");
            }
            return measure(check, how);
        }
        if (image == null) {
            throw check.error("--image is required (or --eval N)");
        }
        if ((mask == null) == (box == null)) {
            throw check.error("give what to regenerate with exactly one of --mask and --box");
        }
        check.inputFile("--image", image);
        if (mask != null) {
            check.inputFile("--mask", mask);
        }
        SamplingOptions.Loaded m = sampling.load(check);
        VqVae vae = m.tokenizer();
        NextScaleTransformer model = m.trained().model();
        int c = vae.config.imageChannels(), size = vae.config.imageSize();
        float[] pixels = Editing.readImage(check, "--image", image, vae.config);
        boolean[] regenerate = mask != null ? Editing.readMask(check, "--mask", mask, size)
                : Editing.box(check, "--box", box, size);
        if (invert) {
            for (int i = 0; i < regenerate.length; i++) {
                regenerate[i] = !regenerate[i];
            }
        }
        int label = Editing.label(check, "--class", cls, model.cfg.classes());
        AttentionPattern pattern = m.trained().options().pattern();
        boolean[] all = new boolean[samples * regenerate.length];
        for (int k = 0; k < samples; k++) {
            System.arraycopy(regenerate, 0, all, k * regenerate.length, regenerate.length);
        }
        int[] labels = new int[samples];
        java.util.Arrays.fill(labels, label);
        Tensor images = Editing.repeat(pixels, samples, c, size);
        Sampler.Result r = Editing.run(model, vae, pattern, images, all, how, labels, sampling.settings(), 0, null);
        float[] reconstruction = vae.decode(vae.encode(Editing.repeat(pixels, 1, c, size))).toFloatArray();
        List<String> names = Datasets.classNames(m.dataset());
        String what = label == model.cfg.classes() ? "no class" : names.get(label);
        List<String> rows = new ArrayList<>(Collections.nCopies(samples, what));
        Editing.write(out, pixels, regenerate, reconstruction, vae.decodePerScale(r.indices()),
                Generation.scaleNames(model.cfg.schedule()), rows, c, size);
        Main.out(spec).printf(Locale.ROOT, "%s: %d edits of %s (%s, %s, rule %s) in %.2f s; kept tokens per scale %s;"
                        + " wrote %s (edit.png: input, tokenizer, each scale; edited-K.png)%n", pattern, samples,
                image, what, Editing.describe(regenerate), rule, r.seconds(), Editing.kept(regenerate, how, size, model.cfg.schedule()),
                out);
        return 0;
    }

    private int measure(Checks check, Edit.Rule how) throws Exception {
        SamplingOptions.Loaded m = sampling.load(check);
        String dataset = m.dataset();
        Scorecard.checkData(check, dataset, data);
        Scorecard.checkClassifier(check, classifier, dataset);
        PrintStream log = Main.out(spec);
        ImageDataset train = Datasets.split(dataset, data, true), test = Datasets.split(dataset, data, false);
        check.range("--eval", eval, 1, test.size(), false);
        FeatureNet net = ClassifierTrainer.ensure(Scorecard.classifierFile(classifier, dataset), train, test, log);
        int size = m.tokenizer().config.imageSize();
        boolean[] central = EditEval.centralHalf(size, dataset);
        AttentionPattern pattern = m.trained().options().pattern();
        Path picture = out.resolve("eval.png");
        EditEval.Report r = EditEval.run(m.trained().model(), m.tokenizer(), pattern, test, eval, central, how, net,
                sampling.settings(), sampling.batch, picture, log);
        log.println(pattern + " (" + Generation.describe(pattern, sampling.settings()) + "): " + r.summary());
        log.println("rule " + rule + ", kept tokens per scale: " + Editing.kept(central, how, size, m.trained().model().cfg.schedule())
                + "; the first 16 edits: " + picture);
        return 0;
    }
}
