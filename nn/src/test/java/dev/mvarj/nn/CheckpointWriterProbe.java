package dev.mvarj.nn;

import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;

import java.nio.file.Path;
import java.util.Map;

/** Writes a large file over the given path again and again until it is killed (the killed-write test). */
final class CheckpointWriterProbe {

    public static void main(String[] args) throws Exception {
        Tensor big = Tensor.full(3f, 64, 1024, 1024);
        System.out.println("writing");
        System.out.flush();
        while (true) {
            SafeTensors.write(Path.of(args[0]), Map.of("big", big), Map.of("format", "probe"));
        }
    }
}
