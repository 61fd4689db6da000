package dev.mvarj.mvar.train;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Metrics as JSON lines ({@code {"step": 10, "loss": 2.3, ...}}), appended and flushed per record so a killed run
 * keeps them; also kept in memory for charts. A resumed run {@linkplain #resume trims} the file back to its
 * checkpoint's step first, so the file and the charts hold every step of the run once.
 */
public final class MetricsLog implements AutoCloseable {

    private static final Gson GSON = new Gson();
    private static final Type MAP = new TypeToken<LinkedHashMap<String, Object>>() { }.getType();
    private final BufferedWriter out;
    private final List<Map<String, Object>> records = new ArrayList<>();

    /** Appends to {@code file} (creating it); {@code truncate} starts it afresh. */
    public MetricsLog(Path file, boolean truncate) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        out = Files.newBufferedWriter(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                truncate ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
    }

    /**
     * Continues {@code file} for a run resumed at step {@code step}: the records of later steps (written after the
     * checkpoint, by the run that was killed; they are about to be run again) and a torn last line are dropped, the
     * rest is kept (also in memory, for the charts), and new records are appended. The file is rewritten through a
     * temporary file, so a kill leaves either the old or the trimmed file.
     */
    public static MetricsLog resume(Path file, int step) throws IOException {
        List<Map<String, Object>> kept = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file)) {
                Map<String, Object> rec;
                try {
                    rec = GSON.fromJson(line, MAP);
                } catch (JsonParseException e) {
                    continue;                                        // a line cut short by a kill
                }
                if (rec != null && rec.get("step") instanceof Number s && s.doubleValue() <= step) {
                    kept.add(rec);
                    lines.add(line);
                }
            }
        }
        Path tmp = file.resolveSibling("." + file.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        Files.write(tmp, lines);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        MetricsLog log = new MetricsLog(file, false);
        log.records.addAll(kept);
        return log;
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
