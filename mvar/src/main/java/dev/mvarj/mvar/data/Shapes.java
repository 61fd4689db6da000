package dev.mvarj.mvar.data;

import dev.mvarj.tensor.random.Rng;

import java.util.List;

/**
 * The built-in synthetic data set: 32×32 RGB images of one coloured shape on a dark background, ten classes, made
 * in memory and deterministic from a seed (image i depends only on (seed, i)). The default data when
 * Fashion-MNIST is not installed.
 */
public final class Shapes {

    public static final List<String> CLASSES = List.of("disc", "square", "triangle", "cross", "ring",
            "horizontal bars", "vertical bars", "diamond", "frame", "x");
    public static final int SIDE = 32;

    private Shapes() {
    }

    /** {@code n} images from {@code seed}. */
    public static ImageDataset generate(int n, long seed) {
        float[] px = new float[n * 3 * SIDE * SIDE];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            Rng r = new Rng(seed * 1_000_003L + i);
            int cls = r.nextInt(CLASSES.size());
            labels[i] = cls;
            draw(px, i * 3 * SIDE * SIDE, cls, r);
        }
        return new ImageDataset("shapes", px, labels, 3, SIDE, SIDE, CLASSES);
    }

    private static void draw(float[] px, int base, int cls, Rng r) {
        float[] bg = {r.nextFloat() * 0.25f, r.nextFloat() * 0.25f, r.nextFloat() * 0.25f};
        float hue = r.nextFloat();
        float[] fg = {0.6f + 0.4f * wave(hue), 0.6f + 0.4f * wave(hue + 1 / 3f), 0.6f + 0.4f * wave(hue + 2 / 3f)};
        float size = 7 + r.nextFloat() * 5;              // half-extent in pixels
        float cx = size + 1 + r.nextFloat() * (SIDE - 2 * size - 2), cy = size + 1 + r.nextFloat() * (SIDE - 2 * size - 2);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                float u = (x + 0.5f - cx) / size, v = (y + 0.5f - cy) / size;
                boolean in = inside(cls, u, v);
                for (int c = 0; c < 3; c++) {
                    float value = in ? fg[c] : bg[c];
                    px[base + (c * SIDE + y) * SIDE + x] = value * 2f - 1f;
                }
            }
        }
    }

    private static float wave(float t) {
        return (float) Math.cos(2 * Math.PI * t);
    }

    /** Whether (u, v), in units of the shape's half-extent around its centre, is inside shape {@code cls}. */
    private static boolean inside(int cls, float u, float v) {
        float au = Math.abs(u), av = Math.abs(v);
        return switch (cls) {
            case 0 -> u * u + v * v <= 1f;
            case 1 -> au <= 0.8f && av <= 0.8f;
            case 2 -> v <= 0.8f && v >= -0.9f && au <= (v + 0.9f) * 0.55f;
            case 3 -> au <= 0.3f && av <= 1f || av <= 0.3f && au <= 1f;
            case 4 -> u * u + v * v <= 1f && u * u + v * v >= 0.4f;
            case 5 -> au <= 1f && av <= 1f && ((int) Math.floor((v + 1f) * 2.5f)) % 2 == 0;
            case 6 -> au <= 1f && av <= 1f && ((int) Math.floor((u + 1f) * 2.5f)) % 2 == 0;
            case 7 -> au + av <= 1f;
            case 8 -> au <= 0.9f && av <= 0.9f && (au >= 0.55f || av >= 0.55f);
            default -> au <= 1f && av <= 1f && (Math.abs(u - v) <= 0.3f || Math.abs(u + v) <= 0.3f);
        };
    }
}
