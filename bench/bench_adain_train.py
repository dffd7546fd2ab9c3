"""AdaIN decoder training step: the zoo's ``train_step`` against a train.py-style baseline.

The baseline is written here in the style of naoto0804/pytorch-AdaIN's train.py and
net.py's ``Net.forward``: float32, NCHW, the style encoded layer by layer with its
intermediate features, the content encoded separately, AdaIN, the decoder, the output
encoded again, the content loss at the last layer and the style loss (mean and std
MSE) at every layer, Adam. The zoo's step (:func:`zoo_adain.train.train_step`)
computes the same losses with one encoder pass for contents and styles together,
bf16 autocast for the convolutions (losses in float32) and channels-last tensors.
Both train the same decoder (fresh copies, same init) over the same fixed encoder
on the same batches. Rounds alternate so that load from other processes hits both
alike; the ratio is of the median step times.

    python bench/bench_adain_train.py [--encoder vgg16-hed --crop 128 --batch 8 --width 0.5 --steps 5 --rounds 3]

Prints seconds per step of each and baseline / zoo (above 1: the zoo is faster).
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from zoo_adain import train as T


def baseline_step(encoder, decoder, opt, content, style, content_weight=1.0, style_weight=10.0, depth=4):
    """One step as train.py does it (fp32, separate encoder passes)."""
    style_feats = T.enc_features(encoder, style, depth)
    content_feat = T.enc_features(encoder, content, depth)[-1]
    t = T.adain(content_feat, style_feats[-1])
    g_t = decoder(t)
    g_t_feats = T.enc_features(encoder, g_t, depth)
    loss_c = F.mse_loss(g_t_feats[-1], t)
    loss_s = 0.0
    for o, s in zip(g_t_feats, style_feats):
        om, os_ = T.mean_std(o)
        sm, ss = T.mean_std(s)
        loss_s = loss_s + F.mse_loss(om, sm) + F.mse_loss(os_, ss)
    loss = content_weight * loss_c + style_weight * loss_s
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss_c.item(), float(loss_s)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--encoder", default="vgg16-hed", choices=T.ENCODER_KINDS)
    p.add_argument("--encoder-weights", default=None)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--width", type=float, default=0.5)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cfg = T.TrainConfig(encoder=a.encoder, encoder_weights=a.encoder_weights, crop=a.crop, batch_size=a.batch,
                        decoder_width=a.width)
    if a.encoder != "vgg16-hed":
        cfg.encoder = a.encoder
    encoder = T.build_encoder(cfg)
    dec0 = T.new_decoder(0, 4, a.width)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.rand(a.batch, 3, a.crop, a.crop, generator=g), torch.rand(a.batch, 3, a.crop, a.crop, generator=g))
               for _ in range(a.steps)]

    dec_b = copy.deepcopy(dec0)
    opt_b = torch.optim.Adam(dec_b.parameters(), lr=1e-4)
    enc_z = copy.deepcopy(encoder).to(memory_format=torch.channels_last)
    dec_z = copy.deepcopy(dec0).to(memory_format=torch.channels_last)
    opt_z = torch.optim.Adam(dec_z.parameters(), lr=1e-4)

    def run_baseline() -> float:
        t0 = time.perf_counter()
        for c, s in batches:
            baseline_step(encoder, dec_b, opt_b, c, s)
        return (time.perf_counter() - t0) / len(batches)

    def run_zoo() -> float:
        t0 = time.perf_counter()
        for c, s in batches:
            T.train_step(enc_z, dec_z, opt_z, c, s, cfg)
        return (time.perf_counter() - t0) / len(batches)

    run_baseline(), run_zoo()  # warm-up (oneDNN primitive caches)
    tb, tz = [], []
    for _ in range(a.rounds):
        tb.append(run_baseline())
        tz.append(run_zoo())
    mb, mz = statistics.median(tb), statistics.median(tz)
    print(f"# AdaIN training step, encoder {a.encoder}, {a.batch} x {a.crop}px, decoder width {a.width}, "
          f"{a.threads} thread(s); {platform.processor() or platform.machine()}, torch {torch.__version__}")
    print(f"baseline (train.py-style, fp32): {mb:.3f} s/step  (rounds: {', '.join(f'{t:.3f}' for t in tb)})")
    print(f"zoo train_step (fused pass, bf16, channels-last): {mz:.3f} s/step  (rounds: {', '.join(f'{t:.3f}' for t in tz)})")
    print(f"ratio baseline / zoo: {mb / mz:.2f}")


if __name__ == "__main__":
    main()
