package dev.mvarj.mvar.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Edit;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The web page of {@code serve} (docs/editing.md#the-page) on the JDK's HTTP server: one static page, and an API that
 * streams a sample or an edit scale by scale as Server-Sent Events. Requests are checked by the command line's
 * {@link Checks} (a refusal is a 400 with the message); one generation runs at a time.
 *
 * <ul>
 *   <li>{@code GET /}: the page; {@code GET /api/info}: the model, its classes and the default settings (JSON)</li>
 *   <li>{@code GET /api/test?index=N}: test image N as a PNG data URL, with its label (JSON)</li>
 *   <li>{@code POST /api/generate} (form fields class, cfg, top-k, top-p, seed; for an edit also image and mask,
 *       PNG data URLs, and rule): {@code text/event-stream} of {@code start}, one {@code scale} per scale (the
 *       decoded cumulative reconstruction, the scale's time, its attention, the memory held) and {@code done}</li>
 * </ul>
 */
final class PageServer implements AutoCloseable {

    /** The largest request body accepted (a 32×32 image and mask are a few KiB). */
    static final int MAX_BODY = 1 << 20;

    /** A request the checks refuse: answered 400 with the message. */
    static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message);
        }
    }

    private final NextScaleTransformer model;
    private final VqVae vae;
    private final AttentionPattern pattern;
    private final ImageDataset test;
    private final List<String> classNames;
    private final Sampler.Settings defaults;
    private final String about;
    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final Object generating = new Object();

    /**
     * Serves {@code model} and {@code vae} on host:port (port 0 = a free one) with the first images of {@code test}.
     *
     * @param about a line naming the checkpoint, shown on the page
     */
    PageServer(NextScaleTransformer model, VqVae vae, AttentionPattern pattern, ImageDataset test,
               Sampler.Settings defaults, String about, String host, int port) throws IOException {
        this.model = model;
        this.vae = vae;
        this.pattern = pattern;
        this.test = test;
        this.classNames = test.classNames();
        this.defaults = defaults;
        this.about = about;
        server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.createContext("/", this::page);
        server.createContext("/api/info", ex -> answer(ex, () -> json(ex, 200, info())));
        server.createContext("/api/test", ex -> answer(ex, () -> json(ex, 200, testImage(query(ex)))));
        server.createContext("/api/generate", ex -> answer(ex, () -> generate(ex)));
        server.setExecutor(pool);
        server.start();
    }

    /**
     * One sample with its pictures, thrown away: the JIT compiles the sampler and the decoder before the first request
     * (a cold first sample takes seconds, a warm one a fraction of one; docs/editing.md#measured).
     */
    void warmUp() {
        synchronized (generating) {
            Sampler.sample(model, vae.quantize, pattern, new int[]{model.cfg.classes()}, defaults, 0, null,
                    step -> dataUrl(vae.decodeFhat(step.fhat()).toFloatArray()));
        }
    }

    /** The port it listens on. */
    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }

    private interface Work {
        void run() throws IOException;
    }

    /** Runs a handler: a refusal becomes a 400 with its message, any other failure a 500. */
    private static void answer(HttpExchange ex, Work work) throws IOException {
        try (ex) {
            try {
                work.run();
            } catch (BadRequest e) {
                json(ex, 400, Map.of("error", e.getMessage()));
            } catch (RuntimeException e) {
                if (ex.getResponseCode() == -1) {                   // else the stream has begun: it just ends
                    json(ex, 500, Map.of("error", String.valueOf(e.getMessage())));
                }
            }
        }
    }

    private void page(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestURI().getPath().equals("/")) {
                send(ex, 404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
                return;
            }
            try (InputStream in = PageServer.class.getResourceAsStream("/dev/mvarj/mvar/serve/index.html")) {
                send(ex, 200, "text/html; charset=utf-8", in.readAllBytes());
            }
        }
    }

    private Map<String, Object> info() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("about", about);
        m.put("pattern", pattern.toString());
        m.put("classes", classNames);
        m.put("scales", Generation.scaleNames(model.cfg.schedule()));
        m.put("imageSize", vae.config.imageSize());
        m.put("testImages", test.size());
        m.put("centralBox", java.util.Arrays.stream(EditEval.centralBox(vae.config.imageSize(), test.name())).boxed()
                .toList());
        m.put("cfg", Double.parseDouble(Float.toString(defaults.cfg())));          // 0.95, not 0.949999988
        m.put("topK", defaults.topK());
        m.put("topP", Double.parseDouble(Float.toString(defaults.topP())));
        m.put("seed", defaults.seed());
        return m;
    }

    private Map<String, Object> testImage(Map<String, String> q) {
        Checks check = new Checks(BadRequest::new);
        int i = integer(check, "index", q.getOrDefault("index", "0"));
        check.range("index", i, 0, test.size(), true);
        float[] px = test.images(new int[]{i}, null).toFloatArray();
        return Map.of("index", i, "label", test.labels()[i], "name", classNames.get(test.labels()[i]),
                "image", dataUrl(px));
    }

    /** Checks the request, then streams the generation (docs/editing.md#the-page). */
    private void generate(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            throw new BadRequest("POST the form fields to /api/generate");
        }
        Map<String, String> f = form(ex);
        Checks check = new Checks(BadRequest::new);
        float cfg = number(check, "cfg", f.getOrDefault("cfg", "" + defaults.cfg()));
        float topP = number(check, "top-p", f.getOrDefault("top-p", "" + defaults.topP()));
        int topK = integer(check, "top-k", f.getOrDefault("top-k", "" + defaults.topK()));
        long seed = integer(check, "seed", f.getOrDefault("seed", "" + defaults.seed()));
        SamplingOptions.checkSettings(check, cfg, topK, topP);
        SamplingOptions.checkTopK(check, topK, model.cfg.vocab());
        String cls = f.getOrDefault("class", "");
        int label = Editing.label(check, "class", cls.isEmpty() ? null : integer(check, "class", cls),
                model.cfg.classes());
        int c = vae.config.imageChannels(), size = vae.config.imageSize();
        boolean editing = f.containsKey("image") || f.containsKey("mask");
        float[] image = null;
        boolean[] regenerate = null;
        Edit.Rule rule = Edit.Rule.ANY;
        if (editing) {
            image = Editing.readImage(check, "image", pngOf(check, "image", f.get("image")), vae.config);
            regenerate = Editing.readMask(check, "mask", pngOf(check, "mask", f.get("mask")), size);
            rule = Editing.rule(check, "rule", f.getOrDefault("rule", "any"));
        }
        Sampler.Settings st = new Sampler.Settings(cfg, topK, topP, seed);
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(200, 0);                                      // chunked: one chunk per event
        OutputStream out = ex.getResponseBody();
        synchronized (generating) {
            long start = System.nanoTime();
            Map<String, Object> begin = new LinkedHashMap<>();
            begin.put("pattern", pattern.toString());
            begin.put("class", label == model.cfg.classes() ? "none" : classNames.get(label));
            if (editing) {
                Tensor in = Editing.repeat(image, 1, c, size);
                begin.put("reconstruction", dataUrl(vae.decode(vae.encode(in)).toFloatArray()));
                begin.put("kept", Editing.kept(regenerate, rule, size, model.cfg.schedule()));
                begin.put("masked", Editing.describe(regenerate));
            }
            event(out, "start", begin);
            List<String> names = Generation.scaleNames(model.cfg.schedule());
            List<String> last = new ArrayList<>(1);
            Sampler.ScaleListener tell = step -> {
                String png = dataUrl(vae.decodeFhat(step.fhat()).toFloatArray());
                last.clear();
                last.add(png);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("s", step.s());
                e.put("scale", names.get(step.s()));
                e.put("image", png);
                e.put("ms", step.seconds() * 1e3);
                e.put("attention", pattern.describe(model.cfg, step.s()));
                e.put("heldBytes", step.heldBytes());
                e.put("peakBytes", step.peakBytes());
                e.put("elapsedMs", (System.nanoTime() - start) / 1e6);
                event(out, "scale", e);
            };
            Sampler.Result r = editing
                    ? Editing.run(model, vae, pattern, Editing.repeat(image, 1, c, size), regenerate, rule,
                    new int[]{label}, st, 0, tell)
                    : Sampler.sample(model, vae.quantize, pattern, new int[]{label}, st, 0, null, tell);
            Map<String, Object> done = new LinkedHashMap<>();
            done.put("image", last.getFirst());
            done.put("samplingMs", r.seconds() * 1e3);
            done.put("totalMs", (System.nanoTime() - start) / 1e6);
            done.put("peakBytes", r.peakBytes());
            done.put("kvCacheBytes", r.kvCacheBytes());
            event(out, "done", done);
        }
    }

    private static void event(OutputStream out, String name, Map<String, Object> data) {
        try {
            out.write(("event: " + name + "\ndata: " + Json.write(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String dataUrl(float[] image) {
        int size = vae.config.imageSize();
        byte[] png = Charts.imagePng(image, vae.config.imageChannels(), size, size);
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    /** The PNG of a data URL (or of bare base64). */
    private static byte[] pngOf(Checks check, String what, String value) {
        if (value == null || value.isEmpty()) {
            throw check.error(what + " is missing: an edit needs both image and mask (PNG data URLs)");
        }
        String b64 = value.startsWith("data:") ? value.substring(value.indexOf(',') + 1) : value;
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw check.error(what + ": not base64 (a PNG data URL is expected)");
        }
    }

    private static int integer(Checks check, String what, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw check.error(what + " must be an integer, got '" + value + "'");
        }
    }

    private static float number(Checks check, String what, String value) {
        try {
            return Float.parseFloat(value.trim());
        } catch (NumberFormatException e) {
            throw check.error(what + " must be a number, got '" + value + "'");
        }
    }

    private static Map<String, String> query(HttpExchange ex) {
        String q = ex.getRequestURI().getRawQuery();
        return q == null ? Map.of() : fields(q);
    }

    private static Map<String, String> form(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            throw new BadRequest("the request is larger than " + MAX_BODY + " bytes");
        }
        return fields(new String(body, StandardCharsets.UTF_8));
    }

    /** application/x-www-form-urlencoded fields. */
    private static Map<String, String> fields(String encoded) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : encoded.split("&")) {
            if (!pair.isEmpty()) {
                int eq = pair.indexOf('=');
                String k = eq < 0 ? pair : pair.substring(0, eq), v = eq < 0 ? "" : pair.substring(eq + 1);
                m.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    private static void json(HttpExchange ex, int status, Map<String, ?> body) throws IOException {
        send(ex, status, "application/json; charset=utf-8", Json.write(body).getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    /** Just enough JSON for the page: maps, lists, strings, numbers, booleans. */
    static final class Json {
        private Json() {
        }

        static String write(Object v) {
            StringBuilder sb = new StringBuilder();
            write(sb, v);
            return sb.toString();
        }

        private static void write(StringBuilder sb, Object v) {
            switch (v) {
                case null -> sb.append("null");
                case Map<?, ?> m -> {
                    sb.append('{');
                    boolean first = true;
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        sb.append(first ? "" : ",");
                        first = false;
                        write(sb, String.valueOf(e.getKey()));
                        sb.append(':');
                        write(sb, e.getValue());
                    }
                    sb.append('}');
                }
                case List<?> l -> {
                    sb.append('[');
                    for (int i = 0; i < l.size(); i++) {
                        sb.append(i == 0 ? "" : ",");
                        write(sb, l.get(i));
                    }
                    sb.append(']');
                }
                case Number n when n instanceof Double || n instanceof Float -> {
                    double d = n.doubleValue();
                    sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
                }
                case Number n -> sb.append(n);
                case Boolean b -> sb.append(b);
                default -> {
                    sb.append('"');
                    for (char ch : v.toString().toCharArray()) {
                        switch (ch) {
                            case '"' -> sb.append("\\\"");
                            case '\\' -> sb.append("\\\\");
                            case '\n' -> sb.append("\\n");
                            case '\r' -> sb.append("\\r");
                            case '\t' -> sb.append("\\t");
                            default -> {
                                if (ch < 0x20) {
                                    sb.append(String.format("\\u%04x", (int) ch));
                                } else {
                                    sb.append(ch);
                                }
                            }
                        }
                    }
                    sb.append('"');
                }
            }
        }
    }
}
