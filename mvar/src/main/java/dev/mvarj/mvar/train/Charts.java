package dev.mvarj.mvar.train;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Line charts (loss curves) and image grids written as PNG with the JDK's imaging, headless. */
public final class Charts {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd)};

    private Charts() {
    }

    /** One named series of (x, y) points. */
    public record Series(String name, double[][] points) {
    }

    /** Draws the series on shared axes (y on a linear scale) with a legend and writes a PNG. */
    public static void lineChart(Path file, String title, String xLabel, String yLabel, List<Series> series)
            throws IOException {
        int w = 800, h = 480, left = 70, right = 20, top = 40, bottom = 50;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (Series s : series) {
            for (double[] p : s.points()) {
                if (Double.isFinite(p[1])) {
                    x0 = Math.min(x0, p[0]);
                    x1 = Math.max(x1, p[0]);
                    y0 = Math.min(y0, p[1]);
                    y1 = Math.max(y1, p[1]);
                }
            }
        }
        if (x0 > x1) {
            x0 = 0;
            x1 = 1;
            y0 = 0;
            y1 = 1;
        }
        if (x1 == x0) {
            x1 = x0 + 1;
        }
        if (y1 == y0) {
            y1 = y0 + 1;
        }
        double pad = (y1 - y0) * 0.05;
        y0 -= pad;
        y1 += pad;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawRect(left, top, w - left - right, h - top - bottom);
        for (int i = 0; i <= 4; i++) {
            double yv = y0 + (y1 - y0) * i / 4, xv = x0 + (x1 - x0) * i / 4;
            int py = top + (int) ((h - top - bottom) * (1 - i / 4.0)), px = left + (int) ((w - left - right) * i / 4.0);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left + 1, py, w - right - 1, py);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.3g", yv), 5, py + 4);
            g.drawString(String.format(Locale.ROOT, "%.0f", xv), px - 10, h - bottom + 18);
        }
        g.drawString(xLabel, w / 2 - 20, h - 10);
        g.drawString(yLabel, 5, top - 8);
        g.setStroke(new BasicStroke(1.6f));
        for (int s = 0; s < series.size(); s++) {
            g.setColor(PALETTE[s % PALETTE.length]);
            double[][] pts = series.get(s).points();
            for (int i = 1; i < pts.length; i++) {
                g.drawLine(sx(pts[i - 1][0], x0, x1, left, w - right), sy(pts[i - 1][1], y0, y1, top, h - bottom),
                        sx(pts[i][0], x0, x1, left, w - right), sy(pts[i][1], y0, y1, top, h - bottom));
            }
            g.fillRect(w - right - 170, top + 10 + 18 * s, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(series.get(s).name(), w - right - 152, top + 21 + 18 * s);
        }
        g.dispose();
        write(file, img);
    }

    private static int sx(double x, double x0, double x1, int a, int b) {
        return a + (int) Math.round((x - x0) / (x1 - x0) * (b - a));
    }

    private static int sy(double y, double y0, double y1, int a, int b) {
        return b - (int) Math.round((y - y0) / (y1 - y0) * (b - a));
    }

    /**
     * Writes images as a grid PNG: {@code pixels} holds n images (C = 1 or 3, H, W) in [−1, 1], placed row-major
     * {@code cols} per row and scaled up by {@code zoom}.
     */
    public static void imageGrid(Path file, float[] pixels, int n, int channels, int height, int width, int cols,
                                 int zoom) throws IOException {
        imageGrid(file, pixels, n, channels, height, width, cols, zoom, List.of(), List.of());
    }

    /**
     * As {@link #imageGrid(Path, float[], int, int, int, int, int, int)}, with a label left of each row (a class
     * name) and above each column (a scale), where the lists are not empty.
     */
    public static void imageGrid(Path file, float[] pixels, int n, int channels, int height, int width, int cols,
                                 int zoom, List<String> rowLabels, List<String> colLabels) throws IOException {
        write(file, grid(pixels, n, channels, height, width, cols, zoom, 2, rowLabels, colLabels));
    }

    /** One image (C = 1 or 3, H, W) in [−1, 1] as a PNG file of exactly H × W pixels (no frame, no zoom). */
    public static void image(Path file, float[] pixels, int channels, int height, int width) throws IOException {
        write(file, grid(pixels, 1, channels, height, width, 1, 1, 0, List.of(), List.of()));
    }

    /** As {@link #image(Path, float[], int, int, int)}, the PNG's bytes rather than a file. */
    public static byte[] imagePng(float[] pixels, int channels, int height, int width) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            ImageIO.write(grid(pixels, 1, channels, height, width, 1, 1, 0, List.of(), List.of()), "png", out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);         // a write to memory
        }
        return out.toByteArray();
    }

    private static BufferedImage grid(float[] pixels, int n, int channels, int height, int width, int cols, int zoom,
                                      int gap, List<String> rowLabels, List<String> colLabels) {
        int rows = (n + cols - 1) / cols;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        int left = 0, top = colLabels.isEmpty() ? 0 : 20;
        if (!rowLabels.isEmpty()) {
            BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
            Graphics2D pg = probe.createGraphics();
            for (String label : rowLabels) {
                left = Math.max(left, pg.getFontMetrics(font).stringWidth(label) + 10);
            }
            pg.dispose();
        }
        int cellW = width * zoom + gap, cellH = height * zoom + gap;
        int W = left + cols * cellW + gap, H = top + rows * cellH + gap;
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(0x303030));
        g.fillRect(0, 0, W, H);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font);
        g.setColor(new Color(0xe0e0e0));
        int ascent = g.getFontMetrics().getAscent();
        for (int r = 0; r < Math.min(rows, rowLabels.size()); r++) {
            g.drawString(rowLabels.get(r), 5, top + gap + r * cellH + (height * zoom + ascent) / 2);
        }
        for (int c = 0; c < Math.min(cols, colLabels.size()); c++) {
            int tw = g.getFontMetrics().stringWidth(colLabels.get(c));
            g.drawString(colLabels.get(c), left + gap + c * cellW + (width * zoom - tw) / 2, top - 5);
        }
        g.dispose();
        int per = channels * height * width;
        for (int i = 0; i < n; i++) {
            int ox = left + gap + (i % cols) * cellW, oy = top + gap + (i / cols) * cellH;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int[] c = new int[3];
                    for (int ch = 0; ch < 3; ch++) {
                        float v = pixels[i * per + (channels == 1 ? 0 : ch) * height * width + y * width + x];
                        c[ch] = Math.max(0, Math.min(255, Math.round((v + 1f) * 127.5f)));
                    }
                    int rgb = c[0] << 16 | c[1] << 8 | c[2];
                    for (int dy = 0; dy < zoom; dy++) {
                        for (int dx = 0; dx < zoom; dx++) {
                            img.setRGB(ox + x * zoom + dx, oy + y * zoom + dy, rgb);
                        }
                    }
                }
            }
        }
        return img;
    }

    private static void write(Path file, BufferedImage img) throws IOException {
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        ImageIO.write(img, "png", tmp.toFile());
        Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
