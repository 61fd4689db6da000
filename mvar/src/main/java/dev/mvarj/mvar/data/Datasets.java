package dev.mvarj.mvar.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The two data sets by name, with their fixed splits: {@value #FASHION} (the IDX files of a directory) and
 * {@value #SHAPES} (generated: {@value #SHAPES_TRAIN} training images from seed 1, {@value #SHAPES_TEST} test images
 * from seed 2; image i of a seed is the same whatever the count, so a shorter split is a prefix of this one).
 */
public final class Datasets {

    public static final String FASHION = "fashion-mnist";
    public static final String SHAPES = "shapes";
    public static final int SHAPES_TRAIN = 20_000;
    public static final int SHAPES_TEST = 10_000;

    private Datasets() {
    }

    /**
     * The data set a name or an {@link ImageDataset#name()} belongs to: {@value #FASHION} for "fashion-mnist",
     * "fashion-mnist/train", "fmnist" and the like, {@value #SHAPES} for "shapes".
     */
    public static String family(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        if (n.startsWith("fashion") || n.equals("fmnist")) {
            return FASHION;
        }
        if (n.startsWith(SHAPES)) {
            return SHAPES;
        }
        throw new IllegalArgumentException("unknown data set '" + name + "' (fashion-mnist or shapes)");
    }

    /** The image channels of data set {@code name}: 1 for Fashion-MNIST, 3 for the RGB shapes. */
    public static int channels(String name) {
        return family(name).equals(FASHION) ? 1 : 3;
    }

    /** The class names of data set {@code name}, in label order. */
    public static java.util.List<String> classNames(String name) {
        return family(name).equals(FASHION) ? FashionMnist.CLASSES : Shapes.CLASSES;
    }

    /** The first {@code n} images of the test split (the shapes are generated, only those n). */
    public static ImageDataset testImages(String name, Path dir, int n) throws IOException {
        return family(name).equals(FASHION) ? split(name, dir, false).head(n) : Shapes.generate(n, 2);
    }

    /** The training or test split of data set {@code name}; Fashion-MNIST is read from {@code dir}. */
    public static ImageDataset split(String name, Path dir, boolean train) throws IOException {
        if (family(name).equals(FASHION)) {
            return FashionMnist.load(dir, train ? FashionMnist.Split.TRAIN : FashionMnist.Split.TEST);
        }
        return train ? Shapes.generate(SHAPES_TRAIN, 1) : testImages(name, dir, SHAPES_TEST);
    }
}
