package dev.mvarj.mvar.vq;

import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.train.Progress;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.io.SafeTensorsException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A data set tokenised once (docs/model.md#teacher-forcing-from-the-cumulative-reconstruction,
 * MVAR's {@code main_cache.py}): for every image and for its horizontal
 * mirror, the concatenated index maps, the teacher-forcing input and the label, in one safetensors file that the
 * transformer trainer reads; it picks the plain or the {@code flip.} copy with p = ½.
 *
 * <p>Tensors: {@code indices} (N, L) I32, {@code teacher_forcing} (N, L − n[0], Cvae) F32, {@code labels} (N) I32,
 * and the same three with the prefix {@code flip.}. Metadata: {@code format} = {@value #FORMAT}, {@code schedule}
 * ("1,2,3,4,6,8"), {@code vocab}, {@code code_dim}, {@code tokenizer} (the checkpoint path, which
 * {@link VqVae#load} turns back into the model that decodes samples), {@code vqvae.config}, {@code dataset},
 * {@code classes}, {@code count}.
 */
public final class TokenCache {

    public static final String FORMAT = "mvarj-token-cache-1";
    public static final String FLIP = "flip.";

    /** One copy (plain or mirrored): indices (N, L) I32, teacher forcing (N, L − n[0], Cvae), labels (N) I32. */
    public record Split(Tensor indices, Tensor teacherForcing, Tensor labels) {
    }

    /** A cache as read back. */
    public record Data(Split plain, Split flipped, ScaleSchedule schedule, int vocab, int codeDim, String tokenizer,
                       String dataset, int classes, Map<String, String> metadata) {
        public int size() {
            return plain.labels().size(0);
        }
    }

    private TokenCache() {
    }

    /** Tokenises every image of {@code data} and its mirror with {@code model}; writes {@code file}. */
    public static void build(Path file, VqVae model, Path tokenizerCheckpoint, ImageDataset data, int batch,
                             PrintStream log) throws IOException {
        model.eval();
        ScaleSchedule sch = model.config.schedule();
        int N = data.size(), L = sch.length(), T = L - sch.tokens(0), C = model.config.codeDim();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Progress progress = new Progress("cache", (N + batch - 1) / batch, 20, log);
        for (boolean flip : new boolean[]{false, true}) {
            Tensor indices = Tensor.zeros(Device.CPU, DType.I32, N, L);
            Tensor tf = Tensor.zeros(N, T, C);
            for (int i = 0, k = 0; i < N; i += batch, k++) {
                int b = Math.min(batch, N - i);
                int[] idx = new int[b];
                boolean[] mirror = new boolean[b];
                for (int j = 0; j < b; j++) {
                    idx[j] = i + j;
                    mirror[j] = flip;
                }
                Tensor[] maps = model.encode(data.images(idx, mirror));
                indices.backend().copy(indices.slice(0, i, i + b), model.quantize.concat(maps));
                tf.backend().copy(tf.slice(0, i, i + b), model.teacherForcing(maps));
                progress.update(k + 1, b);
            }
            String prefix = flip ? FLIP : "";
            tensors.put(prefix + "indices", indices);
            tensors.put(prefix + "teacher_forcing", tf);
            tensors.put(prefix + "labels", Tensor.ofInts(data.labels().clone(), N));
            if (!flip) {
                progress = new Progress("cache (flipped)", (N + batch - 1) / batch, 20, log);
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("schedule", Arrays.toString(sch.sides()).replaceAll("[\\[\\] ]", ""));
        meta.put("vocab", Integer.toString(model.config.vocab()));
        meta.put("code_dim", Integer.toString(C));
        meta.put("tokenizer", tokenizerCheckpoint == null ? "" : tokenizerCheckpoint.toString());
        meta.put(VqVae.CONFIG_KEY, model.config.toJson());
        meta.put("dataset", data.name());
        meta.put("classes", Integer.toString(data.classes()));
        meta.put("class_names", String.join("|", data.classNames()));
        meta.put("count", Integer.toString(N));
        SafeTensors.write(file, tensors, meta);
    }

    /** Reads and validates a cache; errors name the file and the problem. */
    public static Data read(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> m = c.metadata();
        if (!FORMAT.equals(m.get("format"))) {
            throw new SafeTensorsException(file, "not a token cache (metadata format is " + m.get("format")
                    + ", expected " + FORMAT + ")");
        }
        ScaleSchedule sch;
        int vocab, codeDim, classes;
        try {
            sch = ScaleSchedule.parse(m.get("schedule"));
            vocab = Integer.parseInt(m.get("vocab"));
            codeDim = Integer.parseInt(m.get("code_dim"));
            classes = Integer.parseInt(m.getOrDefault("classes", "0"));
        } catch (RuntimeException e) {
            throw new SafeTensorsException(file, "bad token-cache metadata (schedule, vocab, code_dim): " + e.getMessage());
        }
        Split plain = split(file, c, "", sch, codeDim, vocab), flipped = split(file, c, FLIP, sch, codeDim, vocab);
        if (plain.labels().size(0) != flipped.labels().size(0)) {
            throw new SafeTensorsException(file, "plain and flipped copies hold " + plain.labels().size(0) + " and "
                    + flipped.labels().size(0) + " items");
        }
        return new Data(plain, flipped, sch, vocab, codeDim, m.getOrDefault("tokenizer", ""),
                m.getOrDefault("dataset", ""), classes, m);
    }

    private static Split split(Path file, SafeTensors.Contents c, String prefix, ScaleSchedule sch, int C, int V)
            throws SafeTensorsException {
        Tensor idx = need(file, c, prefix + "indices", DType.I32);
        Tensor tf = need(file, c, prefix + "teacher_forcing", DType.F32);
        Tensor lbl = need(file, c, prefix + "labels", DType.I32);
        int N = lbl.rank() == 1 ? lbl.size(0) : -1, L = sch.length();
        if (N < 0 || !Arrays.equals(idx.shape(), new int[]{N, L})
                || !Arrays.equals(tf.shape(), new int[]{N, L - sch.tokens(0), C})) {
            throw new SafeTensorsException(file, "shapes " + prefix + "indices " + Shape.str(idx.shape()) + ", "
                    + prefix + "teacher_forcing " + Shape.str(tf.shape()) + ", " + prefix + "labels "
                    + Shape.str(lbl.shape()) + " do not fit schedule " + sch + " and code dim " + C + ": expected (N, "
                    + L + "), (N, " + (L - sch.tokens(0)) + ", " + C + "), (N)");
        }
        for (int v : idx.toIntArray()) {
            if (v < 0 || v >= V) {
                throw new SafeTensorsException(file, prefix + "indices holds " + v + ", outside the vocabulary of " + V);
            }
        }
        return new Split(idx, tf, lbl);
    }

    private static Tensor need(Path file, SafeTensors.Contents c, String name, DType dtype) throws SafeTensorsException {
        Tensor t = c.tensors().get(name);
        if (t == null) {
            throw new SafeTensorsException(file, "token cache has no tensor '" + name + "' (it holds "
                    + c.tensors().keySet() + ")");
        }
        if (t.dtype() != dtype) {
            throw new SafeTensorsException(file, "tensor '" + name + "' is " + t.dtype() + ", expected " + dtype);
        }
        return t;
    }
}
