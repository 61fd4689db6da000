package dev.mvarj.mvar.eval;

/**
 * Class consistency of a class-conditional generator: the share of generated images that the classifier assigns
 * to the class they were requested for, with the full confusion matrix (requested × predicted) behind it, so a
 * collapse onto one class or a pair of classes that the model mixes up is visible.
 *
 * @param confusion {@code confusion[requested][predicted]} image counts
 */
public record ClassConsistency(int[][] confusion) {

    /** Counts the pairs (requested[i], predicted[i]) over {@code classes} classes. */
    public static ClassConsistency of(int[] requested, int[] predicted, int classes) {
        if (requested.length != predicted.length) {
            throw new IllegalArgumentException("ClassConsistency: " + requested.length + " requested labels but "
                    + predicted.length + " predictions");
        }
        int[][] m = new int[classes][classes];
        for (int i = 0; i < requested.length; i++) {
            if (requested[i] < 0 || requested[i] >= classes || predicted[i] < 0 || predicted[i] >= classes) {
                throw new IllegalArgumentException("ClassConsistency: item " + i + " has requested class "
                        + requested[i] + " and predicted class " + predicted[i] + ", outside [0, " + classes + ")");
            }
            m[requested[i]][predicted[i]]++;
        }
        return new ClassConsistency(m);
    }

    public int classes() {
        return confusion.length;
    }

    /** The number of images. */
    public int total() {
        int t = 0;
        for (int[] row : confusion) {
            for (int v : row) {
                t += v;
            }
        }
        return t;
    }

    /** The share of images classified as requested (0 when there are none). */
    public double consistency() {
        int total = total(), hits = 0;
        for (int c = 0; c < confusion.length; c++) {
            hits += confusion[c][c];
        }
        return total == 0 ? 0 : (double) hits / total;
    }

    /** Images requested per class. */
    public int[] requestedPerClass() {
        int[] out = new int[classes()];
        for (int r = 0; r < out.length; r++) {
            for (int v : confusion[r]) {
                out[r] += v;
            }
        }
        return out;
    }

    /** Images classified as requested, per requested class. */
    public int[] consistentPerClass() {
        int[] out = new int[classes()];
        for (int c = 0; c < out.length; c++) {
            out[c] = confusion[c][c];
        }
        return out;
    }

    /** Images per predicted class (a generator that collapses shows one dominant class here). */
    public int[] predictedPerClass() {
        int[] out = new int[classes()];
        for (int[] row : confusion) {
            for (int p = 0; p < out.length; p++) {
                out[p] += row[p];
            }
        }
        return out;
    }
}
