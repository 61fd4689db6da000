package dev.mvarj.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** An indexed list of modules named "0", "1", ..., as torch.nn.ModuleList (e.g. a transformer's blocks). */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {

    private final List<M> modules = new ArrayList<>();

    public ModuleList<M> add(M module) {
        child(Integer.toString(modules.size()), module);
        modules.add(module);
        return this;
    }

    public M get(int i) {
        return modules.get(i);
    }

    public int size() {
        return modules.size();
    }

    @Override
    public Iterator<M> iterator() {
        return modules.iterator();
    }
}
