package dev.mvarj.mvar.vq;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.nn.Conv2d;
import dev.mvarj.nn.GroupNorm;
import dev.mvarj.nn.Layer;
import dev.mvarj.nn.Module;
import dev.mvarj.nn.ModuleList;
import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.random.Rng;

/**
 * The VQ-VAE's convolutional encoder and decoder (docs/model.md#the-tokenizer, VAR's {@code basic_vae.py}), in the order
 * VAR's code builds them. Parameter names follow VAR's state dict ({@code down.0.block.0.norm1.weight}, ...).
 */
public final class VaeBlocks {

    /** GroupNorm epsilon of VAR's {@code Normalize}. */
    static final float GN_EPS = 1e-6f;

    private VaeBlocks() {
    }

    /** 3×3 convolution, stride 1, padding 1, with bias. */
    static Conv2d conv3(int in, int out, Rng rng) {
        return new Conv2d(in, out, 3, 1, 1, true, rng);
    }

    /** 1×1 convolution with bias. */
    static Conv2d conv1(int in, int out, Rng rng) {
        return new Conv2d(in, out, 1, 1, 0, true, rng);
    }

    /** ResnetBlock: h = conv1(SiLU(GN(x))); h = conv2(SiLU(GN(h))); out = shortcut(x) + h (1×1 conv when in ≠ out). */
    public static final class ResnetBlock extends Module implements Layer {
        final GroupNorm norm1, norm2;
        final Conv2d conv1, conv2, ninShortcut;

        ResnetBlock(int in, int out, int groups, Rng rng) {
            norm1 = child("norm1", new GroupNorm(groups, in, GN_EPS));
            conv1 = child("conv1", conv3(in, out, rng));
            norm2 = child("norm2", new GroupNorm(groups, out, GN_EPS));
            conv2 = child("conv2", conv3(out, out, rng));
            ninShortcut = in != out ? child("nin_shortcut", conv1(in, out, rng)) : null;
        }

        @Override
        public Variable forward(Variable x) {
            Variable h = conv1.forward(F.silu(norm1.forward(x)));
            h = conv2.forward(F.silu(norm2.forward(h)));
            return F.add(ninShortcut == null ? x : ninShortcut.forward(x), h);
        }
    }

    /**
     * AttnBlock: single-head self-attention over the H·W positions, x + proj_out(softmax(q·kᵀ / √C)·v) with
     * (q, k, v) = qkv(GN(x)), a 1×1 conv to 3C. x (B, C, H, W) -> (B, C, H, W).
     */
    public static final class AttnBlock extends Module implements Layer {
        final int C;
        final GroupNorm norm;
        final Conv2d qkv, projOut;

        AttnBlock(int C, int groups, Rng rng) {
            this.C = C;
            norm = child("norm", new GroupNorm(groups, C, GN_EPS));
            qkv = child("qkv", conv1(C, 3 * C, rng));
            projOut = child("proj_out", conv1(C, C, rng));
        }

        @Override
        public Variable forward(Variable x) {
            int B = x.size(0), H = x.size(2), W = x.size(3), N = H * W;
            Variable qkvx = F.reshape(qkv.forward(norm.forward(x)), B, 3, C, N);
            Variable q = tokens(qkvx, 0, B, N), k = tokens(qkvx, 1, B, N), v = tokens(qkvx, 2, B, N);
            Variable h = F.attention(q, k, v, AttentionMask.none(), (float) (1.0 / Math.sqrt(C)));  // (B,1,N,C)
            h = F.reshape(F.transpose(F.reshape(h, B, N, C), 1, 2), B, C, H, W);
            return F.add(x, projOut.forward(h));
        }

        /** Part j of (B, 3, C, N) as attention's (B, 1, N, C). */
        private Variable tokens(Variable qkvx, int j, int B, int N) {
            return F.reshape(F.transpose(F.reshape(F.slice(qkvx, 1, j, j + 1), B, C, N), 1, 2), B, 1, N, C);
        }
    }

    /** Downsample2x: zero-pad right and bottom by 1, then a 3×3 conv with stride 2 and no padding. */
    public static final class Downsample extends Module implements Layer {
        final Conv2d conv;

        Downsample(int C, Rng rng) {
            conv = child("conv", new Conv2d(C, C, 3, 2, 0, 1, 0, 1, true, rng));
        }

        @Override
        public Variable forward(Variable x) {
            return conv.forward(x);
        }
    }

    /** Upsample2x: nearest ×2, then a 3×3 conv. */
    public static final class Upsample extends Module implements Layer {
        final Conv2d conv;

        Upsample(int C, Rng rng) {
            conv = child("conv", conv3(C, C, rng));
        }

        @Override
        public Variable forward(Variable x) {
            return conv.forward(F.upsampleNearest2x(x));
        }
    }

    /** One resolution level: {@code block}s, their {@code attn}s (lowest level only) and an optional resampler. */
    static final class Level extends Module {
        final ModuleList<ResnetBlock> block = child("block", new ModuleList<>());
        final ModuleList<AttnBlock> attn = child("attn", new ModuleList<>());
        Layer resample;

        /** Registers the level's down- or upsampler under {@code name}. */
        <M extends Module & Layer> void resampler(String name, M m) {
            resample = child(name, m);
        }

        Variable forward(Variable h) {
            for (int j = 0; j < block.size(); j++) {
                h = block.get(j).forward(h);
                if (attn.size() > 0) {
                    h = attn.get(j).forward(h);
                }
            }
            return resample == null ? h : resample.forward(h);
        }
    }

    /** Res → (Attn) → Res at the lowest resolution. */
    static final class Mid extends Module implements Layer {
        final ResnetBlock block1;
        final AttnBlock attn1;
        final ResnetBlock block2;

        Mid(int C, boolean attn, int groups, Rng rng) {
            block1 = child("block_1", new ResnetBlock(C, C, groups, rng));
            attn1 = attn ? child("attn_1", new AttnBlock(C, groups, rng)) : null;
            block2 = child("block_2", new ResnetBlock(C, C, groups, rng));
        }

        @Override
        public Variable forward(Variable h) {
            h = block1.forward(h);
            return block2.forward(attn1 == null ? h : attn1.forward(h));
        }
    }

    /**
     * Encoder: conv_in; per level i, numResBlocks ResnetBlocks (+ an AttnBlock after each at the lowest level) and a
     * Downsample2x except at the last level; mid; GN → SiLU → conv_out to Cvae. x (B, Cin, H, W) -> (B, Cvae, h, w).
     */
    public static final class Encoder extends Module implements Layer {
        final Conv2d convIn;
        final ModuleList<Level> down;
        final Mid mid;
        final GroupNorm normOut;
        final Conv2d convOut;

        Encoder(VqVaeConfig c, Rng rng) {
            int[] mult = c.chMult();
            int levels = mult.length;
            convIn = child("conv_in", conv3(c.imageChannels(), c.ch(), rng));
            down = child("down", new ModuleList<>());
            int blockIn = c.ch();
            for (int i = 0; i < levels; i++) {
                Level level = new Level();
                int blockOut = c.ch() * mult[i];
                for (int j = 0; j < c.numResBlocks(); j++) {
                    level.block.add(new ResnetBlock(blockIn, blockOut, c.groups(), rng));
                    blockIn = blockOut;
                    if (i == levels - 1 && c.attnLowest()) {
                        level.attn.add(new AttnBlock(blockIn, c.groups(), rng));
                    }
                }
                if (i != levels - 1) {
                    level.resampler("downsample", new Downsample(blockIn, rng));
                }
                down.add(level);
            }
            mid = child("mid", new Mid(blockIn, c.midAttn(), c.groups(), rng));
            normOut = child("norm_out", new GroupNorm(c.groups(), blockIn, GN_EPS));
            convOut = child("conv_out", conv3(blockIn, c.codeDim(), rng));
        }

        @Override
        public Variable forward(Variable x) {
            Variable h = convIn.forward(x);
            for (Level level : down) {
                h = level.forward(h);
            }
            h = mid.forward(h);
            return convOut.forward(F.silu(normOut.forward(h)));
        }
    }

    /**
     * Decoder: conv_in from Cvae; mid; levels in reverse order, numResBlocks + 1 ResnetBlocks each (+ AttnBlocks at
     * the lowest level) and an Upsample2x except at level 0; GN → SiLU → conv_out to the image channels.
     * z (B, Cvae, h, w) -> (B, Cin, H, W). {@code up.i} is level i, as VAR's {@code self.up.insert(0, up)}.
     */
    public static final class Decoder extends Module implements Layer {
        final Conv2d convIn;
        final Mid mid;
        final ModuleList<Level> up;
        final GroupNorm normOut;
        final Conv2d convOut;

        Decoder(VqVaeConfig c, Rng rng) {
            int[] mult = c.chMult();
            int levels = mult.length;
            int blockIn = c.ch() * mult[levels - 1];
            convIn = child("conv_in", conv3(c.codeDim(), blockIn, rng));
            mid = child("mid", new Mid(blockIn, c.midAttn(), c.groups(), rng));
            Level[] byLevel = new Level[levels];
            for (int i = levels - 1; i >= 0; i--) {
                Level level = new Level();
                int blockOut = c.ch() * mult[i];
                for (int j = 0; j < c.numResBlocks() + 1; j++) {
                    level.block.add(new ResnetBlock(blockIn, blockOut, c.groups(), rng));
                    blockIn = blockOut;
                    if (i == levels - 1 && c.attnLowest()) {
                        level.attn.add(new AttnBlock(blockIn, c.groups(), rng));
                    }
                }
                if (i != 0) {
                    level.resampler("upsample", new Upsample(blockIn, rng));
                }
                byLevel[i] = level;
            }
            up = child("up", new ModuleList<>());
            for (Level level : byLevel) {
                up.add(level);
            }
            normOut = child("norm_out", new GroupNorm(c.groups(), blockIn, GN_EPS));
            convOut = child("conv_out", conv3(blockIn, c.imageChannels(), rng));
        }

        @Override
        public Variable forward(Variable z) {
            Variable h = mid.forward(convIn.forward(z));
            for (int i = up.size() - 1; i >= 0; i--) {
                h = up.get(i).forward(h);
            }
            return convOut.forward(F.silu(normOut.forward(h)));
        }
    }
}
