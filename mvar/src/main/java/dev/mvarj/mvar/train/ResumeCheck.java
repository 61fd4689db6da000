package dev.mvarj.mvar.train;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a resume may not change: the settings stored in a run's checkpoint against the ones of the command that
 * resumes it, field by field. A difference is described with the field's user-facing name (a command-line option
 * where there is one), the run's value and the new one; fields that do not alter the run (how often to checkpoint or
 * log) are left out by the caller.
 */
public final class ResumeCheck {

    private final List<String> differences = new ArrayList<>();

    /**
     * Compares every component of two records of one type, except {@code free}.
     *
     * @param names user-facing names of components (e.g. {@code lr -> --lr}); a component without one is named as is
     */
    public <R extends Record> ResumeCheck compare(R stored, R now, Map<String, String> names, Set<String> free) {
        for (RecordComponent c : stored.getClass().getRecordComponents()) {
            if (free.contains(c.getName())) {
                continue;
            }
            Object a = value(c, stored), b = value(c, now);
            if (!Objects.deepEquals(a, b)) {
                differences.add(names.getOrDefault(c.getName(), c.getName()) + " " + str(b) + " (the run has "
                        + str(a) + ")");
            }
        }
        return this;
    }

    /** Records a difference found by the caller. */
    public ResumeCheck add(String difference) {
        differences.add(difference);
        return this;
    }

    /** Throws when anything differs: the run cannot continue under other settings. */
    public void orRefuse(java.nio.file.Path checkpoint) {
        if (!differences.isEmpty()) {
            throw RunException.refused("--resume: " + String.join("; ", differences) + " would change the run in "
                    + checkpoint.getParent() + "; resume with the run's settings, or start a new run with --overwrite"
                    + " or another --out");
        }
    }

    private static Object value(RecordComponent c, Record r) {
        try {
            return c.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(c.getName(), e);
        }
    }

    private static String str(Object v) {
        if (v instanceof int[] a) {
            return Arrays.toString(a);
        }
        return v instanceof Enum<?> e ? e.name().toLowerCase(java.util.Locale.ROOT) : String.valueOf(v);
    }
}
