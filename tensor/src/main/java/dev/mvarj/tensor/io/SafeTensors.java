package dev.mvarj.tensor.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format, the checkpoint
 * format of PyTorch and Hugging Face.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON (possibly padded with trailing
 * spaces), an object mapping each tensor name to {@code {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin,
 * end]}} plus an optional {@code "__metadata__": {string: string}}; then the data section, every tensor row-major and
 * little-endian at {@code [begin, end)} bytes from the start of the data section.
 *
 * <p>F32, F64 and I32 tensors are supported, the dtypes the engine holds. The reader rejects every malformed
 * header with a {@link SafeTensorsException} and never allocates more than the file's size; it tolerates gaps
 * between tensors and trailing bytes after the last one, which the reference reader refuses.
 */
public final class SafeTensors {

    /** The largest header accepted (the reference implementation's limit); larger means a corrupt file. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";

    /** Bytes moved per read or write call; a multiple of every dtype's size. */
    private static final int CHUNK_BYTES = 1 << 20;

    /** Dtypes of the format that the engine does not hold, so that they are reported as unsupported, not unknown. */
    private static final Set<String> UNSUPPORTED_DTYPES = Set.of("BOOL", "U8", "I8", "I16", "U16", "F16", "BF16",
            "U32", "I64", "U64", "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2");

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private SafeTensors() {
    }

    /**
     * What a file holds.
     *
     * @param tensors  the tensors in file order (by data offset), CPU-resident, read-only map
     * @param metadata the {@code __metadata__} map, empty when the file has none, read-only
     */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {

        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /** The tensor called {@code name}; throws {@link NoSuchElementException} listing the names present. */
        public Tensor get(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new NoSuchElementException("no tensor '" + name + "' among the " + tensors.size()
                        + " tensors read: " + names(tensors.keySet(), 20));
            }
            return t;
        }

        private static String names(Set<String> keys, int limit) {
            StringBuilder sb = new StringBuilder("[");
            int i = 0;
            for (String k : keys) {
                if (i == limit) {
                    return sb.append(", ... (").append(keys.size() - limit).append(" more)]").toString();
                }
                sb.append(i++ > 0 ? ", " : "").append('\'').append(k).append('\'');
            }
            return sb.append(']').toString();
        }
    }

    // ---------------------------------------------------------------------------------------------------- reading

    /** One tensor's header entry, validated against the data section. */
    private record Entry(String name, DType dtype, int[] shape, long begin, long end) {
    }

    /**
     * Reads every tensor of a safetensors file into CPU tensors.
     *
     * @throws SafeTensorsException naming the file and the problem when the file is not valid safetensors, or holds a
     *                              dtype other than F32, F64 and I32
     * @throws IOException          when the file cannot be read at all
     */
    public static Contents read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw new SafeTensorsException(path, "file is " + fileSize
                        + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(path, ch, lengthBytes, 0);
            long n = lengthBytes.flip().getLong(); // unsigned: a "negative" n is above 2^63
            if (Long.compareUnsigned(n, fileSize - 8) > 0) {
                throw new SafeTensorsException(path, "header length " + Long.toUnsignedString(n)
                        + " runs past the end of the file (" + fileSize + " bytes, so at most " + (fileSize - 8)
                        + ")");
            }
            if (n > MAX_HEADER_BYTES) {
                throw new SafeTensorsException(path, "header length " + n + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
            readFully(path, ch, headerBytes, 8);
            long dataStart = 8 + n, dataLength = fileSize - dataStart;

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(path, decodeUtf8(path, headerBytes.flip()), dataLength, metadata);
            entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            checkNoOverlap(path, entries);

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            long largest = entries.stream().mapToLong(e -> e.end - e.begin).max().orElse(0);
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(largest, 8)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                tensors.put(e.name, readTensor(path, ch, chunk, dataStart + e.begin, e));
            }
            return new Contents(tensors, metadata);
        }
    }

    private static String decodeUtf8(Path path, ByteBuffer bytes) throws SafeTensorsException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(path, "header is not valid UTF-8", e);
        }
    }

    /**
     * Parses the header object entry by entry (so that a repeated name is caught, which a JSON object would hide),
     * fills {@code metadata} and returns the tensor entries in header order.
     */
    private static List<Entry> parseHeader(Path path, String json, long dataLength, Map<String, String> metadata)
            throws SafeTensorsException {
        List<Entry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            if (reader.peek() != JsonToken.BEGIN_OBJECT) {
                throw new SafeTensorsException(path, "header is not a JSON object but starts with " + reader.peek());
            }
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                JsonElement value = JsonParser.parseReader(reader);
                if (!seen.add(name)) {
                    throw new SafeTensorsException(path, "'" + name + "' appears twice in the header");
                }
                if (name.equals(METADATA_KEY)) {
                    parseMetadata(path, value, metadata);
                } else {
                    entries.add(parseEntry(path, name, value, dataLength));
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new SafeTensorsException(path, "header is not valid JSON: text after the closing brace");
            }
        } catch (SafeTensorsException e) {
            throw e;
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new SafeTensorsException(path, "header is not valid JSON: " + e.getMessage(), e);
        }
        return entries;
    }

    private static void parseMetadata(Path path, JsonElement value, Map<String, String> metadata)
            throws SafeTensorsException {
        if (!value.isJsonObject()) {
            throw new SafeTensorsException(path, "__metadata__ is not a JSON object but " + abbreviate(value));
        }
        for (Map.Entry<String, JsonElement> kv : value.getAsJsonObject().entrySet()) {
            JsonElement v = kv.getValue();
            if (!(v instanceof JsonPrimitive p && p.isString())) {
                throw new SafeTensorsException(path, "__metadata__ value of '" + kv.getKey()
                        + "' is not a string but " + abbreviate(v));
            }
            metadata.put(kv.getKey(), v.getAsString());
        }
    }

    private static Entry parseEntry(Path path, String name, JsonElement value, long dataLength)
            throws SafeTensorsException {
        String where = "tensor '" + name + "': ";
        if (!value.isJsonObject()) {
            throw new SafeTensorsException(path, where + "entry is not a JSON object but " + abbreviate(value));
        }
        JsonObject o = value.getAsJsonObject();
        for (String field : List.of("dtype", "shape", "data_offsets")) {
            if (!o.has(field)) {
                throw new SafeTensorsException(path, where + "missing field \"" + field + "\"");
            }
        }

        JsonElement dtypeJson = o.get("dtype");
        if (!(dtypeJson instanceof JsonPrimitive p && p.isString())) {
            throw new SafeTensorsException(path, where + "\"dtype\" is not a string but " + abbreviate(dtypeJson));
        }
        DType dtype = dtype(path, where, dtypeJson.getAsString());

        long[] shapeLongs = integers(path, where, "shape", o.get("shape"));
        for (long s : shapeLongs) {
            if (s < 0) {
                throw new SafeTensorsException(path, where + "negative size " + s + " in shape "
                        + Arrays.toString(shapeLongs));
            }
        }
        boolean empty = Arrays.stream(shapeLongs).anyMatch(s -> s == 0);
        int[] shape = new int[shapeLongs.length];
        long numel = 1;
        for (int d = 0; d < shape.length; d++) {
            numel = empty ? 0 : numel * shapeLongs[d]; // both factors stay below 2^31: no overflow
            if (shapeLongs[d] > Integer.MAX_VALUE || numel > Integer.MAX_VALUE) {
                throw new SafeTensorsException(path, where + "shape " + Arrays.toString(shapeLongs)
                        + " has more than 2^31-1 elements (or a size above it)");
            }
            shape[d] = (int) shapeLongs[d];
        }

        long[] offsets = integers(path, where, "data_offsets", o.get("data_offsets"));
        if (offsets.length != 2 || offsets[0] < 0 || offsets[1] < 0) {
            throw new SafeTensorsException(path, where + "\"data_offsets\" is not a pair [begin, end] of"
                    + " non-negative integers but " + Arrays.toString(offsets));
        }
        long begin = offsets[0], end = offsets[1];
        if (begin > end) {
            throw new SafeTensorsException(path, where + "data_offsets [" + begin + ", " + end
                    + "] begin after their end");
        }
        if (end > dataLength) {
            throw new SafeTensorsException(path, where + "data_offsets [" + begin + ", " + end
                    + "] run past the end of the " + dataLength + "-byte data section");
        }
        long bytes = numel * dtype.bytes();
        if (bytes != end - begin) {
            throw new SafeTensorsException(path, where + "shape " + Shape.str(shape) + " of " + dtype.safetensorsName()
                    + " needs " + bytes + " bytes, but data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static DType dtype(Path path, String where, String name) throws SafeTensorsException {
        for (DType d : DType.values()) {
            if (d.safetensorsName().equals(name)) {
                return d;
            }
        }
        String supported = String.join(", ", Arrays.stream(DType.values()).map(DType::safetensorsName).toList());
        if (UNSUPPORTED_DTYPES.contains(name)) {
            throw new SafeTensorsException(path, where + "dtype " + name + " is not supported (" + supported + ")");
        }
        throw new SafeTensorsException(path, where + "unknown dtype \"" + name + "\" (supported: " + supported + ")");
    }

    /** A JSON array of integers that fit a long, or an exception naming the field. */
    private static long[] integers(Path path, String where, String field, JsonElement value)
            throws SafeTensorsException {
        if (value instanceof JsonArray array) {
            long[] out = new long[array.size()];
            int i = 0;
            for (JsonElement e : array) {
                if (!(e instanceof JsonPrimitive p && p.isNumber())) {
                    break;
                }
                try {
                    out[i] = new BigDecimal(p.getAsString()).longValueExact(); // "2.0" is 2, "2.5" is not an integer
                } catch (ArithmeticException | NumberFormatException notAnInteger) {
                    break;
                }
                i++;
            }
            if (i == out.length) {
                return out;
            }
        }
        throw new SafeTensorsException(path, where + "\"" + field + "\" is not an array of integers but "
                + abbreviate(value));
    }

    private static void checkNoOverlap(Path path, List<Entry> byOffset) throws SafeTensorsException {
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin == e.end) {
                continue; // an empty tensor owns no bytes
            }
            if (previous != null && e.begin < previous.end) {
                throw new SafeTensorsException(path, "tensors '" + previous.name + "' [" + previous.begin + ", "
                        + previous.end + "] and '" + e.name + "' [" + e.begin + ", " + e.end + "] overlap");
            }
            previous = e;
        }
    }

    /** Decodes {@code e}'s little-endian bytes at {@code position} into a new CPU tensor, a chunk at a time. */
    private static Tensor readTensor(Path path, FileChannel ch, ByteBuffer chunk, long position, Entry e)
            throws IOException {
        int numel = Shape.numel(e.shape);
        int perChunk = chunk.capacity() / e.dtype.bytes();
        float[] floats = e.dtype == DType.F32 ? new float[numel] : null;
        double[] doubles = e.dtype == DType.F64 ? new double[numel] : null;
        int[] ints = e.dtype == DType.I32 ? new int[numel] : null;
        for (int done = 0; done < numel; ) {
            int count = Math.min(perChunk, numel - done);
            chunk.clear().limit(count * e.dtype.bytes());
            readFully(path, ch, chunk, position + (long) done * e.dtype.bytes());
            chunk.flip();
            switch (e.dtype) {
                case F32 -> chunk.asFloatBuffer().get(floats, done, count);
                case F64 -> chunk.asDoubleBuffer().get(doubles, done, count);
                case I32 -> chunk.asIntBuffer().get(ints, done, count);
            }
            done += count;
        }
        return switch (e.dtype) {
            case F32 -> Tensor.of(floats, e.shape);
            case F64 -> Tensor.of(doubles, e.shape);
            case I32 -> Tensor.ofInts(ints, e.shape);
        };
    }

    private static void readFully(Path path, FileChannel ch, ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = ch.read(dst, position);
            if (n < 0) {
                throw new SafeTensorsException(path, "file ended at byte " + position + " while reading"
                        + " (was it truncated while being read?)");
            }
            position += n;
        }
    }

    private static String abbreviate(JsonElement value) {
        String s = String.valueOf(value);
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    // ---------------------------------------------------------------------------------------------------- writing

    /**
     * Writes tensors (any device, any strides: each is written row-major) and string metadata to a safetensors file,
     * atomically: the file is written to a temporary file in the same directory, forced to disk and renamed over
     * {@code path}, so that a failure at any point leaves the previous file as it was.
     *
     * <p>Tensors are laid out sorted by name (by UTF-8 bytes), the header is padded with spaces to a multiple of 8
     * bytes and {@code __metadata__} is omitted when {@code metadata} is empty or null.
     *
     * @throws IllegalArgumentException when a name is empty or {@code "__metadata__"}
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, String> meta = metadata == null ? Map.of() : metadata;
        List<String> names = new ArrayList<>(tensors.keySet());
        for (String name : names) {
            Objects.requireNonNull(name, "tensor name is null");
            if (name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("safetensors: tensor name '" + name + "' is not allowed"
                        + " (names must be non-empty and not " + METADATA_KEY + ")");
            }
            Objects.requireNonNull(tensors.get(name), () -> "safetensors: tensor '" + name + "' is null");
        }
        meta.forEach((k, v) -> {
            Objects.requireNonNull(k, "safetensors: metadata key is null");
            Objects.requireNonNull(v, () -> "safetensors: metadata value of '" + k + "' is null");
        });
        names.sort(Comparator.comparing((String n) -> n.getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));

        byte[] header = header(names, tensors, meta);
        Path target = path.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            try (ch) {
                ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                writeFully(ch, length.flip());
                writeFully(ch, ByteBuffer.wrap(header));
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (String name : names) {
                    writeTensor(ch, chunk, tensors.get(name));
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        forceDirectory(target.getParent());
    }

    /** The JSON header, {@code __metadata__} first, then the tensors in data order, space-padded to 8 bytes. */
    private static byte[] header(List<String> names, Map<String, Tensor> tensors, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach(m::addProperty);
            header.add(METADATA_KEY, m);
        }
        long offset = 0;
        for (String name : names) {
            Tensor t = tensors.get(name);
            long bytes = (long) t.numel() * t.dtype().bytes();
            JsonObject info = new JsonObject();
            info.addProperty("dtype", t.dtype().safetensorsName());
            JsonArray shape = new JsonArray();
            for (int s : t.shape()) {
                shape.add(s);
            }
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            info.add("data_offsets", offsets);
            header.add(name, info);
            offset += bytes;
        }
        byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    /** Writes {@code t}'s elements row-major and little-endian, a chunk at a time. */
    private static void writeTensor(FileChannel ch, ByteBuffer chunk, Tensor t) throws IOException {
        float[] floats = t.dtype() == DType.F32 ? t.toFloatArray() : null;
        double[] doubles = t.dtype() == DType.F64 ? t.toDoubleArray() : null;
        int[] ints = t.dtype() == DType.I32 ? t.toIntArray() : null;
        int numel = t.numel(), perChunk = chunk.capacity() / t.dtype().bytes();
        for (int done = 0; done < numel; ) {
            int count = Math.min(perChunk, numel - done);
            chunk.clear();
            switch (t.dtype()) {
                case F32 -> chunk.asFloatBuffer().put(floats, done, count);
                case F64 -> chunk.asDoubleBuffer().put(doubles, done, count);
                case I32 -> chunk.asIntBuffer().put(ints, done, count);
            }
            writeFully(ch, chunk.limit(count * t.dtype().bytes()));
            done += count;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            ch.write(src);
        }
    }

    /**
     * Makes the rename durable by forcing the directory entry to disk. Best effort: it works on Linux and macOS;
     * elsewhere a directory cannot be opened as a channel, and the rename has already happened, so a failure to force
     * it is no reason to report the write as failed.
     */
    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not durable across a power loss on this platform, but written and renamed
        }
    }
}
