package dev.mvarj.tensor.io;

import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Storage;
import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafeTensorsTest {

    @TempDir
    Path dir;

    // ------------------------------------------------------------------------------------------------ round trips

    @Test
    void f32AndI32TensorsRoundTripBitExactly() throws IOException {
        float[] w = {1f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -3.25e7f};
        int[] ids = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE};
        Path file = dir.resolve("model.safetensors");

        SafeTensors.write(file, Map.of("w", Tensor.of(w, 2, 3), "ids", Tensor.ofInts(ids, 4, 1)), Map.of());
        SafeTensors.Contents c = SafeTensors.read(file);

        assertThat(c.get("w").dtype()).isEqualTo(DType.F32);
        assertThat(c.get("w").shape()).containsExactly(2, 3);
        assertThat(bits(c.get("w").toFloatArray())).containsExactly(bits(w));
        assertThat(c.get("ids").dtype()).isEqualTo(DType.I32);
        assertThat(c.get("ids").shape()).containsExactly(4, 1);
        assertThat(c.get("ids").toIntArray()).containsExactly(ids);
        assertThat(c.metadata()).isEmpty();
    }

    @Test
    void f64TensorsRoundTripBitExactly() throws IOException {
        double[] d = {1.0 / 3, -0.0, Double.NaN, Double.NEGATIVE_INFINITY, Double.MIN_VALUE, 1e300};
        Path file = dir.resolve("f64.safetensors");

        SafeTensors.write(file, Map.of("d", Tensor.of(d, 3, 2)), Map.of());
        Tensor back = SafeTensors.read(file).get("d");

        assertThat(back.dtype()).isEqualTo(DType.F64);
        assertThat(back.shape()).containsExactly(3, 2);
        assertThat(java.util.Arrays.stream(back.toDoubleArray()).mapToLong(Double::doubleToRawLongBits).toArray())
                .containsExactly(java.util.Arrays.stream(d).mapToLong(Double::doubleToRawLongBits).toArray());
    }

    @Test
    void scalarKeepsItsEmptyShape() throws IOException {
        Path file = dir.resolve("scalar.safetensors");
        SafeTensors.write(file, Map.of("loss", Tensor.scalar(2.5f)), Map.of());

        Tensor loss = SafeTensors.read(file).get("loss");

        assertThat(loss.shape()).isEmpty();
        assertThat(loss.item()).isEqualTo(2.5f);
    }

    @Test
    void emptyTensorWithAZeroSizeRoundTrips() throws IOException {
        Path file = dir.resolve("empty.safetensors");
        SafeTensors.write(file, Map.of("a", Tensor.of(new float[]{7f}, 1), "none", Tensor.zeros(3, 0),
                "z", Tensor.ofInts(new int[]{5}, 1)), Map.of());

        SafeTensors.Contents c = SafeTensors.read(file);

        assertThat(c.get("none").shape()).containsExactly(3, 0);
        assertThat(c.get("none").toFloatArray()).isEmpty();
        assertThat(c.get("a").toFloatArray()).containsExactly(7f);
        assertThat(c.get("z").toIntArray()).containsExactly(5);
    }

    @Test
    void nonContiguousViewsAreWrittenRowMajor() throws IOException {
        Tensor x = Tensor.of(new float[]{0, 1, 2, 3, 4, 5}, 2, 3);
        Tensor transposed = x.transpose(0, 1);           // (3, 2), strides (1, 3)
        Tensor column = x.slice(1, 1, 2);                // (2, 1), offset 1
        Tensor broadcast = Tensor.of(new float[]{9, 8}, 2, 1).expand(2, 3); // stride 0
        Path file = dir.resolve("views.safetensors");

        SafeTensors.write(file, Map.of("t", transposed, "c", column, "b", broadcast), Map.of());
        SafeTensors.Contents c = SafeTensors.read(file);

        assertThat(c.get("t").shape()).containsExactly(3, 2);
        assertThat(c.get("t").toFloatArray()).containsExactly(0, 3, 1, 4, 2, 5);
        assertThat(c.get("c").toFloatArray()).containsExactly(1, 4);
        assertThat(c.get("b").toFloatArray()).containsExactly(9, 9, 9, 8, 8, 8);
    }

    @Test
    void metadataRoundTrips() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("step", "1200");
        meta.put("note", "quotes \" and <html> and ünïcode");
        Path file = dir.resolve("meta.safetensors");

        SafeTensors.write(file, Map.of("w", Tensor.ones(2)), meta);

        assertThat(SafeTensors.read(file).metadata()).isEqualTo(meta);
    }

    @Test
    void tensorsAreLaidOutSortedByNameAndReadInFileOrder() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String name : List.of("head.w", "blocks.1.w", "blocks.0.w", "embed")) {
            tensors.put(name, Tensor.ones(3));
        }
        Path file = dir.resolve("order.safetensors");

        SafeTensors.write(file, tensors, Map.of());

        assertThat(SafeTensors.read(file).tensors().keySet())
                .containsExactly("blocks.0.w", "blocks.1.w", "embed", "head.w");
        String header = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        assertThat(header).contains("\"blocks.0.w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}",
                "\"head.w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[36,48]}");
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOf8() throws IOException {
        Path file = dir.resolve("pad.safetensors");
        SafeTensors.write(file, Map.of("ab", Tensor.ones(1)), Map.of());

        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long n = bytes.getLong(0);
        String header = new String(bytes.array(), 8, (int) n, StandardCharsets.UTF_8);

        assertThat(n % 8).isZero();
        assertThat(header).startsWith("{").endsWith(" ");
        assertThat(header.strip()).endsWith("}");
        assertThat(bytes.capacity()).isEqualTo(8 + n + 4);
    }

    // ------------------------------------------------------------------------------------------ the spec, byte by byte

    /** The bytes the reference implementation writes for these tensors, assembled by hand from the format spec. */
    private static byte[] specBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[]{(byte) 0x90, 0, 0, 0, 0, 0, 0, 0}); // header length 144, u64 little-endian
        out.writeBytes(("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[8,16]}}"
                + "     ").getBytes(StandardCharsets.US_ASCII)); // 139 bytes of JSON + 5 spaces of padding
        out.writeBytes(new byte[]{0, 0, (byte) 0x80, 0x3f, 0, 0, 0x20, (byte) 0xc0}); // a = [1.0f, -2.5f]
        out.writeBytes(new byte[]{1, 0, 0, 0, (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff}); // b = [1, -2]
        return out.toByteArray();
    }

    @Test
    void writesExactlyTheBytesOfTheSpec() throws IOException {
        Path file = dir.resolve("spec.safetensors");

        SafeTensors.write(file, Map.of("b", Tensor.ofInts(new int[]{1, -2}, 2),
                "a", Tensor.of(new float[]{1f, -2.5f}, 2)), Map.of("format", "pt"));

        assertThat(Files.readAllBytes(file)).containsExactly(specBytes());
    }

    @Test
    void readsTheBytesOfTheSpec() throws IOException {
        Path file = Files.write(dir.resolve("spec.safetensors"), specBytes());

        SafeTensors.Contents c = SafeTensors.read(file);

        assertThat(c.get("a").toFloatArray()).containsExactly(1f, -2.5f);
        assertThat(c.get("b").toIntArray()).containsExactly(1, -2);
        assertThat(c.metadata()).containsExactly(Map.entry("format", "pt"));
    }

    @Test
    void readsAHeaderInAnyKeyOrderWithWhitespaceAndMetadataLast() throws IOException {
        byte[] data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putFloat(0.5f).putFloat(-1f)
                .array();
        Path file = file("""
                { "y": {"shape": [2], "data_offsets": [4, 12], "dtype": "F32"},
                  "x": {"data_offsets": [0, 4], "dtype": "I32", "shape": []},
                  "__metadata__": {"k": "v"} }   \
                """, data);

        SafeTensors.Contents c = SafeTensors.read(file);

        assertThat(c.tensors().keySet()).containsExactly("x", "y"); // by data offset
        assertThat(c.get("x").item()).isEqualTo(7f);
        assertThat(c.get("y").toFloatArray()).containsExactly(0.5f, -1f);
        assertThat(c.metadata()).containsExactly(Map.entry("k", "v"));
    }

    @Test
    void getOfAMissingTensorNamesItAndTheTensorsPresent() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafeTensors.write(file, Map.of("encoder.w", Tensor.ones(1), "decoder.w", Tensor.ones(1)), Map.of());
        SafeTensors.Contents c = SafeTensors.read(file);

        assertThatThrownBy(() -> c.get("encoder.b"))
                .isInstanceOf(NoSuchElementException.class)
                .hasMessageContaining("'encoder.b'")
                .hasMessageContaining("'decoder.w', 'encoder.w'");
    }

    @Test
    void writeRejectsEmptyAndReservedNames() {
        Path file = dir.resolve("bad.safetensors");

        assertThatThrownBy(() -> SafeTensors.write(file, Map.of("", Tensor.ones(1)), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("''");
        assertThatThrownBy(() -> SafeTensors.write(file, Map.of("__metadata__", Tensor.ones(1)), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("__metadata__");
        assertThat(file).doesNotExist();
    }

    // ------------------------------------------------------------------------------------------------ atomic write

    /** Storage on a device no backend serves: downloading a tensor of it throws. */
    private static final class UnreachableStorage extends Storage {
        UnreachableStorage(int length) {
            super(DType.F32, length, new Device("unreachable", 0));
        }
    }

    @Test
    void aFailedWriteLeavesThePreviousFileAndNoTemporary() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        SafeTensors.write(file, Map.of("w", Tensor.of(new float[]{1, 2}, 2)), Map.of("step", "1"));
        byte[] before = Files.readAllBytes(file);
        Tensor broken = new Tensor(new UnreachableStorage(4), 0, new int[]{4}, new int[]{1});

        // "a" is written to the temporary file before "z" fails to download
        assertThatThrownBy(() -> SafeTensors.write(file, Map.of("a", Tensor.ones(1000), "z", broken),
                Map.of("step", "2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unreachable");

        assertThat(Files.readAllBytes(file)).containsExactly(before);
        assertThat(SafeTensors.read(file).metadata()).containsEntry("step", "1");
        assertThat(filesIn(dir)).containsExactly("ckpt.safetensors");
    }

    @Test
    void aFailedRenameRemovesTheTemporary() throws IOException {
        Path target = Files.createDirectories(dir.resolve("occupied"));
        Files.writeString(target.resolve("keep.txt"), "x"); // renaming a file over a non-empty directory fails

        assertThatThrownBy(() -> SafeTensors.write(target, Map.of("w", Tensor.ones(2)), Map.of()))
                .isInstanceOf(IOException.class);

        assertThat(filesIn(dir)).containsExactly("occupied");
        assertThat(filesIn(target)).containsExactly("keep.txt");
    }

    @Test
    void writeReplacesAnExistingFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        SafeTensors.write(file, Map.of("w", Tensor.ones(100)), Map.of());
        SafeTensors.write(file, Map.of("v", Tensor.ones(1)), Map.of());

        assertThat(SafeTensors.read(file).tensors()).containsOnlyKeys("v");
        assertThat(filesIn(dir)).containsExactly("ckpt.safetensors");
    }

    // ------------------------------------------------------------------------------------------------ corrupt files

    @Test
    void rejectsAFileShorterThanTheLengthPrefix() throws IOException {
        Path file = Files.write(dir.resolve("short.safetensors"), new byte[5]);

        assertRejected(file, "file is 5 bytes, shorter than the 8-byte header length");
    }

    @Test
    void rejectsAHeaderLengthPastTheEndOfTheFile() throws IOException {
        Path file = raw(1000, "{}".getBytes(StandardCharsets.US_ASCII));

        assertRejected(file, "header length 1000 runs past the end of the file (10 bytes");
    }

    @Test
    void rejectsAnAbsurdHeaderLengthWithoutAllocatingIt() throws IOException {
        Path max = raw(-1L, new byte[16]);       // 2^64 - 1 as an unsigned length
        Path huge = raw(Long.MAX_VALUE, new byte[16]);

        assertRejected(max, "header length 18446744073709551615 runs past the end of the file");
        assertRejected(huge, "header length 9223372036854775807 runs past the end of the file");
    }

    @Test
    void rejectsAHeaderLongerThanTheLimitBeforeReadingIt() throws IOException {
        long n = SafeTensors.MAX_HEADER_BYTES + 8;
        Path file = raw(n, new byte[0]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{'}'}), 8 + n); // a sparse file long enough to hold the header
        }

        assertRejected(file, "header length " + n + " exceeds the limit of 100000000 bytes");
    }

    @Test
    void rejectsMalformedJson() throws IOException {
        assertRejected(file("{\"a\": {\"dtype\": ", new byte[0]), "header is not valid JSON");
        assertRejected(file("{} trailing", new byte[0]), "header is not valid JSON");
        assertRejected(file("", new byte[0]), "header is not valid JSON");
    }

    @Test
    void rejectsAHeaderThatIsNotUtf8() throws IOException {
        byte[] header = {'{', '"', (byte) 0xff, '"', ':', '{', '}', '}'};
        Path file = Files.write(dir.resolve("utf.safetensors"), concat(length(header.length), header));

        assertRejected(file, "header is not valid UTF-8");
    }

    @Test
    void rejectsAHeaderThatIsNotAnObject() throws IOException {
        assertRejected(file("[1, 2]", new byte[0]), "header is not a JSON object");
    }

    @Test
    void rejectsAnEntryThatIsNotAnObject() throws IOException {
        assertRejected(file("{\"w\": 5}", new byte[0]), "tensor 'w': entry is not a JSON object but 5");
    }

    @Test
    void rejectsAnEntryMissingAField() throws IOException {
        Path file = file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", new byte[4]);

        assertRejected(file, "tensor 'w': missing field \"data_offsets\"");
    }

    @Test
    void rejectsFieldsOfTheWrongType() throws IOException {
        assertRejected(entry("{\"dtype\": 1, \"shape\": [1], \"data_offsets\": [0, 4]}", 4),
                "tensor 'w': \"dtype\" is not a string");
        assertRejected(entry("{\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 4]}", 4),
                "tensor 'w': \"shape\" is not an array of integers but [2.5]");
        assertRejected(entry("{\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}", 4),
                "tensor 'w': \"data_offsets\" is not a pair [begin, end]");
    }

    @Test
    void rejectsAnUnsupportedDtypeNamingIt() throws IOException {
        assertRejected(entry("{\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}", 4),
                "tensor 'w': dtype F16 is not supported (F32, F64, I32)");
    }

    @Test
    void rejectsAnUnknownDtypeNamingIt() throws IOException {
        assertRejected(entry("{\"dtype\": \"float32\", \"shape\": [1], \"data_offsets\": [0, 4]}", 4),
                "tensor 'w': unknown dtype \"float32\" (supported: F32, F64, I32)");
    }

    @Test
    void rejectsANegativeSize() throws IOException {
        assertRejected(entry("{\"dtype\": \"F32\", \"shape\": [2, -1], \"data_offsets\": [0, 4]}", 4),
                "tensor 'w': negative size -1 in shape [2, -1]");
    }

    @Test
    void rejectsAShapeTooLargeForATensor() throws IOException {
        assertRejected(entry("{\"dtype\": \"F32\", \"shape\": [65536, 65536], \"data_offsets\": [0, 4]}", 4),
                "tensor 'w': shape [65536, 65536] has more than 2^31-1 elements");
    }

    @Test
    void rejectsOffsetsPastTheEndOfTheData() throws IOException {
        assertRejected(entry("{\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}", 8),
                "tensor 'w': data_offsets [0, 16] run past the end of the 8-byte data section");
    }

    @Test
    void rejectsOffsetsThatBeginAfterTheirEnd() throws IOException {
        assertRejected(entry("{\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}", 8),
                "tensor 'w': data_offsets [8, 4] begin after their end");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        Path file = file("""
                {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                 "b": {"dtype": "I32", "shape": [2], "data_offsets": [4, 12]}}""", new byte[12]);

        assertRejected(file, "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
    }

    @Test
    void rejectsAShapeThatDoesNotMatchTheByteCount() throws IOException {
        assertRejected(entry("{\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}", 8),
                "tensor 'w': shape [3] of F32 needs 12 bytes, but data_offsets [0, 8] hold 8");
    }

    @Test
    void rejectsAMetadataValueThatIsNotAString() throws IOException {
        Path file = file("{\"__metadata__\": {\"format\": \"pt\", \"epoch\": 3}}", new byte[0]);

        assertRejected(file, "__metadata__ value of 'epoch' is not a string but 3");
    }

    @Test
    void rejectsATensorNamedTwice() throws IOException {
        Path file = file("""
                {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                 "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", new byte[8]);

        assertRejected(file, "'w' appears twice in the header");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void assertRejected(Path file, String problem) {
        assertThatThrownBy(() -> SafeTensors.read(file))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageStartingWith(file + ": ")
                .hasMessageContaining(problem);
    }

    /** A file with this header (padded to 8 bytes) and data section. */
    private Path file(String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] h = new byte[padded];
        System.arraycopy(json, 0, h, 0, json.length);
        Arrays.fill(h, json.length, padded, (byte) ' ');
        return Files.write(dir.resolve("t" + System.nanoTime() + ".safetensors"),
                concat(length(padded), concat(h, data)));
    }

    /** A file with one tensor "w" described by {@code json} and a data section of {@code dataBytes} zeros. */
    private Path entry(String json, int dataBytes) throws IOException {
        return file("{\"w\": " + json + "}", new byte[dataBytes]);
    }

    /** A file whose length prefix says {@code headerLength}, followed by {@code rest}. */
    private Path raw(long headerLength, byte[] rest) throws IOException {
        return Files.write(dir.resolve("r" + System.nanoTime() + ".safetensors"),
                concat(length(headerLength), rest));
    }

    private static byte[] length(long n) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }

    private static List<String> filesIn(Path directory) throws IOException {
        try (Stream<Path> s = Files.list(directory)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
