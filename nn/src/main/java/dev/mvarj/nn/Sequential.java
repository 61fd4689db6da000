package dev.mvarj.nn;

import dev.mvarj.autograd.Variable;

import java.util.ArrayList;
import java.util.List;

/** Layers applied in order; children are named "0", "1", ... as torch.nn.Sequential (and ModuleList). */
public final class Sequential extends Module implements Layer {

    private final List<Layer> layers = new ArrayList<>();

    public Sequential(Layer... layers) {
        for (Layer l : layers) {
            add(l);
        }
    }

    /** Appends a layer (which must be a {@link Module}). */
    public Sequential add(Layer layer) {
        if (!(layer instanceof Module m)) {
            throw new IllegalArgumentException("Sequential: " + layer.getClass().getSimpleName() + " is not a Module");
        }
        child(Integer.toString(layers.size()), m);
        layers.add(layer);
        return this;
    }

    public Layer get(int i) {
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public Variable forward(Variable x) {
        for (Layer l : layers) {
            x = l.forward(x);
        }
        return x;
    }
}
