package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Neighborhood;
import dev.mvarj.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code mvarj figures}: the pictures of {@code docs/}. The attention masks and the neighbourhood window are drawn
 * from {@link AttentionMask} and {@link Neighborhood} for the default schedule and need no model; with
 * {@code --checkpoint} (repeatable) it also samples each trained model into a class-wise grid and draws the
 * scale-by-scale progression of the first one's samples.
 */
@Command(name = "figures", mixinStandardHelpOptions = true,
        description = "Draw the documentation's figures (attention masks, a neighbourhood window, samples) into docs/img.")
public final class FiguresCommand implements Callable<Integer> {

    private static final Color FREE = new Color(0xf2f2f2), SEEN = new Color(0x2b6cb0), QUERY = new Color(0xd62728),
            LINE = new Color(0x9a9a9a), TEXT = new Color(0x202020);

    @Option(names = "--out", defaultValue = "docs/img", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--checkpoint", description = "a trained VAR or MVAR checkpoint to sample (repeatable)")
    List<Path> checkpoints = new ArrayList<>();

    @Option(names = "--per-class", defaultValue = "6", description = "samples per class in a grid (default: ${DEFAULT-VALUE})")
    int perClass;

    @Option(names = "--seed", defaultValue = "7", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Checks check = new Checks(spec);
        check.atLeast("--per-class", perClass, 1);
        check.outputDir("--out", out);
        for (Path ckpt : checkpoints) {
            check.inputFile("--checkpoint", ckpt);
        }
        Files.createDirectories(out);
        ScaleSchedule sch = ScaleSchedule.small();
        TransformerConfig cfg = TransformerConfig.small(256, 16, 10, sch);
        masks(cfg, out.resolve("attention-masks.png"));
        window(8, cfg.kernel(), out.resolve("neighbourhood-8x8.png"));
        Main.out(spec).println("wrote " + out.resolve("attention-masks.png") + ", "
                + out.resolve("neighbourhood-8x8.png"));
        boolean first = true;
        for (Path ckpt : checkpoints) {
            Runs.Trained t = Runs.load(ckpt);
            AttentionPattern pattern = t.options().pattern();
            Path tokenizer = Path.of(t.state().getOrDefault("tokenizer", "runs/tokenizer/tokenizer.safetensors"));
            check.inputFile("the tokenizer of --checkpoint " + ckpt, tokenizer);
            VqVae vae = VqVae.load(tokenizer);
            List<String> names = Datasets.classNames(SamplingOptions.datasetOf(tokenizer, vae));
            Sampler.Settings st = new Sampler.Settings(Generation.DEFAULT_CFG, 0, Generation.DEFAULT_TOP_P, seed);
            Generation.Samples s = Generation.generate(t.model(), vae, pattern, perClass, 40, st);
            Path grid = out.resolve("samples-" + pattern.name().toLowerCase(Locale.ROOT) + ".png");
            int c = s.images().size(1), side = s.images().size(2);
            Charts.imageGrid(grid, s.images().toFloatArray(), s.labels().length, c, side, side, perClass, 2, names,
                    List.of());
            indexed(grid);
            Main.out(spec).println("wrote " + grid);
            if (first) {
                progression(t, vae, pattern, perClass, st, names, out.resolve("progression.png"));
                Main.out(spec).println("wrote " + out.resolve("progression.png"));
                first = false;
            }
        }
        return 0;
    }

    /** VAR's and MVAR's (L, L) attention patterns side by side: row = query, column = key, blue = attended. */
    static void masks(TransformerConfig cfg, Path file) throws IOException {
        ScaleSchedule sch = cfg.schedule();
        int L = sch.length(), px = 2, pad = 12, top = 22, side = L * px;
        boolean[][] var = dense(AttentionMask.blockCausal(sch.tokenCounts(0, sch.count())), L);
        boolean[][] mvar = dense(AttentionMask.blockDiagonal(sch.tokenCounts(0, sch.count())), L);
        for (int s = cfg.refineStep(); s < sch.count(); s++) {   // neighbourhood attention inside the fine scales
            int b = sch.begin(s), n = sch.tokens(s), k2 = cfg.kernel() * cfg.kernel();
            int[] table = Neighborhood.table(sch.side(s), cfg.kernel());
            for (int q = 0; q < n; q++) {
                java.util.Arrays.fill(mvar[b + q], b, b + n, false);
                for (int j = 0; j < k2; j++) {
                    mvar[b + q][b + table[q * k2 + j]] = true;
                }
            }
        }
        BufferedImage img = canvas(2 * side + 3 * pad, side + top + pad);
        Graphics2D g = img.createGraphics();
        String[] titles = {"VAR: block-causal", String.format(Locale.ROOT, "MVAR: scale-Markov, %dx%d windows from %dx%d on",
                cfg.kernel(), cfg.kernel(), sch.side(cfg.refineStep()), sch.side(cfg.refineStep()))};
        boolean[][][] m = {var, mvar};
        for (int p = 0; p < 2; p++) {
            int ox = pad + p * (side + pad);
            for (int i = 0; i < L; i++) {
                for (int j = 0; j < L; j++) {
                    g.setColor(m[p][i][j] ? SEEN : FREE);
                    g.fillRect(ox + j * px, top + i * px, px, px);
                }
            }
            g.setColor(LINE);
            for (int s = 1; s < sch.count(); s++) {
                int at = sch.begin(s) * px;
                g.drawLine(ox + at, top, ox + at, top + side - 1);
                g.drawLine(ox, top + at, ox + side - 1, top + at);
            }
            label(g, titles[p], ox, top - 7);
        }
        g.dispose();
        write(file, img);
    }

    /** One query's k×k window on a grid×grid scale, for a centre, an edge and a corner query (windows shift inward). */
    static void window(int grid, int kernel, Path file) throws IOException {
        int cell = 18, pad = 12, top = 22, side = grid * cell;
        int[][] queries = {{3, 4}, {0, 5}, {7, 7}};
        BufferedImage img = canvas(queries.length * (side + pad) + pad, side + top + pad);
        Graphics2D g = img.createGraphics();
        int[] table = Neighborhood.table(grid, kernel);
        int k2 = kernel * kernel;
        for (int p = 0; p < queries.length; p++) {
            int ox = pad + p * (side + pad), q = queries[p][0] * grid + queries[p][1];
            boolean[] seen = new boolean[grid * grid];
            for (int j = 0; j < k2; j++) {
                seen[table[q * k2 + j]] = true;
            }
            for (int n = 0; n < grid * grid; n++) {
                g.setColor(n == q ? QUERY : seen[n] ? SEEN : FREE);
                g.fillRect(ox + (n % grid) * cell, top + (n / grid) * cell, cell, cell);
                g.setColor(LINE);
                g.drawRect(ox + (n % grid) * cell, top + (n / grid) * cell, cell, cell);
            }
            label(g, String.format(Locale.ROOT, "query (%d, %d), k = %d", queries[p][0], queries[p][1], kernel), ox,
                    top - 7);
        }
        g.dispose();
        write(file, img);
    }

    /** One sample per class (rows), decoded after each scale's tokens are added (columns "1×1" … , coarse to fine). */
    static void progression(Runs.Trained t, VqVae vae, AttentionPattern pattern, int perClass, Sampler.Settings st,
                            List<String> classNames, Path file) throws IOException {
        ScaleSchedule sch = t.model().cfg.schedule();
        int c = vae.config.imageChannels(), size = vae.config.imageSize();
        float[] px = Generation.progression(t.model(), vae, pattern, perClass, st);
        Charts.imageGrid(file, px, classNames.size() * sch.count(), c, size, size, sch.count(), 2, classNames,
                Generation.scaleNames(sch));
        indexed(file);
    }

    /** Rewrites a PNG with a 256-colour palette, which keeps the sample pictures to tens of KB. */
    private static void indexed(Path file) throws IOException {
        BufferedImage rgb = ImageIO.read(file.toFile());
        BufferedImage img = new BufferedImage(rgb.getWidth(), rgb.getHeight(), BufferedImage.TYPE_BYTE_INDEXED);
        Graphics2D g = img.createGraphics();
        g.drawImage(rgb, 0, 0, null);
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static boolean[][] dense(AttentionMask.KeyRanges r, int L) {
        boolean[][] m = new boolean[L][L];
        for (int i = 0; i < L; i++) {
            java.util.Arrays.fill(m[i], r.start(i), r.end(i), true);
        }
        return m;
    }

    private static BufferedImage canvas(int w, int h) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    private static void label(Graphics2D g, String text, int x, int y) {
        g.setColor(TEXT);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString(text, x, y);
    }

    private static void write(Path file, BufferedImage img) throws IOException {
        ImageIO.write(img, "png", file.toFile());
    }
}
