package dev.mvarj.mvar.data;

import dev.mvarj.tensor.Tensor;

import java.util.List;

/**
 * Images in memory as float NCHW in [−1, 1], with integer labels.
 *
 * @param name       a short name for logs ("fashion-mnist/train", "shapes")
 * @param pixels     n · channels · height · width values in [−1, 1]
 * @param labels     n class indices
 * @param classNames one name per class
 */
public record ImageDataset(String name, float[] pixels, int[] labels, int channels, int height, int width,
                           List<String> classNames) {

    public ImageDataset {
        if (pixels.length != (long) labels.length * channels * height * width) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixel values for " + labels.length
                    + " images of " + channels + "x" + height + "x" + width);
        }
    }

    public int size() {
        return labels.length;
    }

    public int classes() {
        return classNames.size();
    }

    /** Values per image. */
    public int imageSize() {
        return channels * height * width;
    }

    /** Images {@code idx} as a tensor (B, C, H, W), mirrored left-right where {@code flip[i]}. */
    public Tensor images(int[] idx, boolean[] flip) {
        int per = imageSize();
        float[] out = new float[idx.length * per];
        for (int i = 0; i < idx.length; i++) {
            int src = idx[i] * per, dst = i * per;
            if (flip != null && flip[i]) {
                for (int row = 0; row < channels * height; row++) {
                    for (int col = 0; col < width; col++) {
                        out[dst + row * width + col] = pixels[src + row * width + width - 1 - col];
                    }
                }
            } else {
                System.arraycopy(pixels, src, out, dst, per);
            }
        }
        return Tensor.of(out, idx.length, channels, height, width);
    }

    /** Labels {@code idx} as an I32 tensor (B). */
    public Tensor labels(int[] idx) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = labels[idx[i]];
        }
        return Tensor.ofInts(out, idx.length);
    }

    /**
     * The indices of the first {@code n} images of every class, class by class: element c·n + k is the k-th image of
     * class c. A class with fewer than n images is refused.
     */
    public int[] firstPerClass(int n) {
        int classes = classNames.size();
        int[] idx = new int[classes * n], taken = new int[classes];
        int found = 0;
        for (int i = 0; i < labels.length && found < idx.length; i++) {
            int c = labels[i];
            if (taken[c] < n) {
                idx[c * n + taken[c]++] = i;
                found++;
            }
        }
        if (found < idx.length) {
            throw new IllegalArgumentException(name + ": fewer than " + n + " images in some class");
        }
        return idx;
    }

    /** The first {@code n} images (for quick runs and tests). */
    public ImageDataset head(int n) {
        int m = Math.min(n, size());
        float[] px = java.util.Arrays.copyOf(pixels, m * imageSize());
        return new ImageDataset(name, px, java.util.Arrays.copyOf(labels, m), channels, height, width, classNames);
    }
}
