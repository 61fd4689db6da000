package dev.mvarj.mvar.vq;

import dev.mvarj.tensor.Tensor;

import java.util.Arrays;

/**
 * Code-hit histograms per scale: codebook usage (the fraction of the V codes hit at least once) and perplexity
 * (exp of the entropy of the hit distribution; V when uniform, 1 when collapsed to one code).
 */
public final class CodebookStats {

    private final long[][] hits;      // (S, V)
    private final int V;

    public CodebookStats(int scales, int vocab) {
        this.hits = new long[scales][vocab];
        this.V = vocab;
    }

    /** Counts the codes of per-scale index maps (B, n[s]). */
    public void add(Tensor[] indices) {
        for (int s = 0; s < indices.length; s++) {
            for (int v : indices[s].toIntArray()) {
                hits[s][v]++;
            }
        }
    }

    public void clear() {
        for (long[] h : hits) {
            Arrays.fill(h, 0);
        }
    }

    public int scales() {
        return hits.length;
    }

    /** Hits of every code summed over the scales. */
    public long[] total() {
        long[] t = new long[V];
        for (long[] h : hits) {
            for (int v = 0; v < V; v++) {
                t[v] += h[v];
            }
        }
        return t;
    }

    /** The fraction of codes hit at least once at scale s (s = −1: any scale). */
    public double usage(int s) {
        long[] h = s < 0 ? total() : hits[s];
        return Arrays.stream(h).filter(c -> c > 0).count() / (double) V;
    }

    /** exp(−Σ p log p) of the hit distribution at scale s (s = −1: all scales together). */
    public double perplexity(int s) {
        long[] h = s < 0 ? total() : hits[s];
        double n = Arrays.stream(h).sum(), ent = 0;
        if (n == 0) {
            return 0;
        }
        for (long c : h) {
            if (c > 0) {
                double p = c / n;
                ent -= p * Math.log(p);
            }
        }
        return Math.exp(ent);
    }

    /** The number of distinct codes used at scale s. */
    public int distinct(int s) {
        return (int) Arrays.stream(hits[s]).filter(c -> c > 0).count();
    }

    /** The histograms, scale after scale (a data-parallel run sends them to every rank). */
    public long[] counts() {
        long[] c = new long[hits.length * V];
        for (int s = 0; s < hits.length; s++) {
            System.arraycopy(hits[s], 0, c, s * V, V);
        }
        return c;
    }

    /** Restores what {@link #counts} returned. */
    public void setCounts(long[] c) {
        for (int s = 0; s < hits.length; s++) {
            System.arraycopy(c, s * V, hits[s], 0, V);
        }
    }

    /** Serialises the histograms (checkpoint state). */
    public String encode() {
        StringBuilder sb = new StringBuilder();
        for (long[] h : hits) {
            for (int v = 0; v < V; v++) {
                sb.append(h[v]).append(v + 1 < V ? "," : ";");
            }
        }
        return sb.toString();
    }

    /** Restores what {@link #encode} wrote. */
    public void decode(String text) {
        String[] rows = text.split(";");
        if (rows.length != hits.length) {
            throw new IllegalArgumentException("codebook stats: " + rows.length + " scales stored, " + hits.length
                    + " expected");
        }
        for (int s = 0; s < rows.length; s++) {
            String[] v = rows[s].split(",");
            for (int i = 0; i < V; i++) {
                hits[s][i] = Long.parseLong(v[i]);
            }
        }
    }
}
