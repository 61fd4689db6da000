package dev.mvarj.tensor;

/**
 * Element-wise comparison as {@code torch.allclose}: {@code |a - e| <= atol + rtol · |e|} everywhere, with a report
 * that prints the largest absolute and relative errors and the first elements that differ. Tests use the report as
 * their assertion message.
 *
 * @param ok      every element within tolerance (NaN only matches NaN)
 * @param maxAbs  the largest |a - e|
 * @param maxRel  the largest |a - e| / |e| over elements with e != 0
 * @param message a one-paragraph description for a failure message
 */
public record AllClose(boolean ok, double maxAbs, double maxRel, String message) {

    private static final int SHOWN = 5;

    public static AllClose check(String what, float[] actual, float[] expected, double atol, double rtol) {
        if (actual.length != expected.length) {
            return new AllClose(false, Double.NaN, Double.NaN,
                    what + ": " + actual.length + " values, expected " + expected.length);
        }
        double maxAbs = 0, maxRel = 0;
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < actual.length; i++) {
            float a = actual[i], e = expected[i];
            boolean same = Float.isNaN(a) && Float.isNaN(e) || a == e;
            double abs = same ? 0 : Math.abs((double) a - e);
            if (!same && !(abs <= atol + rtol * Math.abs(e))) {
                if (bad++ < SHOWN) {
                    first.append(String.format("%n  [%d] got %s, expected %s (abs err %.3g)", i, a, e, abs));
                }
            }
            if (!Double.isNaN(abs)) {
                maxAbs = Math.max(maxAbs, abs);
                if (e != 0) {
                    maxRel = Math.max(maxRel, abs / Math.abs(e));
                }
            }
        }
        String msg = String.format("%s: %d of %d elements outside atol=%.1g rtol=%.1g; max abs err %.3g, max rel err"
                + " %.3g%s", what, bad, actual.length, atol, rtol, maxAbs, maxRel, first);
        return new AllClose(bad == 0, maxAbs, maxRel, msg);
    }

    public static AllClose check(String what, Tensor actual, Tensor expected, double atol, double rtol) {
        if (!actual.sameShape(expected)) {
            return new AllClose(false, Double.NaN, Double.NaN, what + ": shape " + Shape.str(actual.shape())
                    + ", expected " + Shape.str(expected.shape()));
        }
        return check(what, actual.toFloatArray(), expected.toFloatArray(), atol, rtol);
    }
}
