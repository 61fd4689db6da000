package dev.mvarj.mvar.train;

import com.google.gson.Gson;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Metrics as JSON lines ({@code {"step": 10, "loss": 2.3, ...}}), appended and flushed per record so a killed run
 * keeps them; also kept in memory for charts.
 */
public final class MetricsLog implements AutoCloseable {

    private static final Gson GSON = new Gson();
    private final BufferedWriter out;
    private final List<Map<String, Object>> records = new ArrayList<>();

    /** Appends to {@code file} (creating it); {@code truncate} starts it afresh. */
    public MetricsLog(Path file, boolean truncate) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        out = Files.newBufferedWriter(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                truncate ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
    }

    /** Writes one record from alternating keys and values. */
    public void log(Object... keyValues) {
        Map<String, Object> rec = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            rec.put(keyValues[i].toString(), keyValues[i + 1]);
        }
        records.add(rec);
        try {
            out.write(GSON.toJson(rec));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The values of {@code key} over the records that have it, with their "step". */
    public double[][] series(String key) {
        List<double[]> pts = new ArrayList<>();
        for (Map<String, Object> r : records) {
            if (r.get(key) instanceof Number v && r.get("step") instanceof Number s) {
                pts.add(new double[]{s.doubleValue(), v.doubleValue()});
            }
        }
        return pts.toArray(new double[0][]);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
