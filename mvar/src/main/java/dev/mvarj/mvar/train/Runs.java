package dev.mvarj.mvar.train;

import com.google.gson.Gson;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.nn.Checkpoint;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.io.SafeTensorsException;
import dev.mvarj.tensor.random.Rng;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Rebuilding a trained transformer from its checkpoint (the config and options travel in the metadata). */
public final class Runs {

    private static final Gson GSON = new Gson();

    private Runs() {
    }

    /** A transformer with its training options, loaded from a trainer checkpoint. */
    public record Trained(NextScaleTransformer model, TransformerTrainer.Options options, Map<String, String> state) {
    }

    public static Trained load(Path checkpoint) throws IOException {
        Map<String, String> meta = SafeTensors.read(checkpoint).metadata();
        String cfg = meta.get("model.config"), opts = meta.get("train.options");
        if (cfg == null || opts == null) {
            throw new SafeTensorsException(checkpoint, "not a transformer checkpoint (no model.config / train.options)");
        }
        TransformerConfig config = GSON.fromJson(cfg, TransformerConfig.class);
        NextScaleTransformer model = new NextScaleTransformer(config, new Rng(0));
        Map<String, String> state = Checkpoint.load(checkpoint, model, null);
        model.eval();
        return new Trained(model, GSON.fromJson(opts, TransformerTrainer.Options.class), state);
    }
}
