"""DCGAN training speed on MNIST or CIFAR-10: the zoo's training loop against a plain loop.

The baseline is written here in the style of pytorch/examples dcgan/main.py:
a DataLoader over the images, BCE on the discriminator's logits, D on real then
fake (two backward calls), then G on the same fake batch. Both train the same
model (zoo.build("dcgan", ...)) with the same batch size, optimiser and data in
memory. Rounds alternate between the loops so that load from other
processes hits all alike; the ratio is of the median rates. The zoo loop is
timed as it is by default (fp32) and with ``--precision bf16 --channels-last``
(`zoo train`'s options: bf16 autocast of the forward passes, NHWC layout).

    python bench/bench_train.py --data ../shared/data/mnist [--steps 30 --rounds 3 --threads 1]
    python bench/bench_train.py --dataset cifar10 --data ../shared/data/cifar10-jpeg-q75 --ngf 64 --ndf 64

Prints iterations (generator steps) per second of each and zoo / baseline.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from zoo.training import LoopConfig, architecture_recipe, load_dataset, train_gan
from zoo.training.run import build_pair, get_architecture, machine_description


def plain_loop(netG: nn.Module, netD: nn.Module, images: torch.Tensor, batch: int, steps: int, lr: float,
               betas: tuple[float, float], nz: int) -> float:
    """pytorch/examples-style DCGAN loop for ``steps`` iterations; returns seconds."""
    data = torch.utils.data.TensorDataset(images.float().div(127.5).sub(1.0))
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, drop_last=True)
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(netD.parameters(), lr=lr, betas=betas)
    optG = torch.optim.Adam(netG.parameters(), lr=lr, betas=betas)
    real_label, fake_label = 1.0, 0.0
    it = iter(loader)
    t0 = time.perf_counter()
    for _ in range(steps):
        try:
            (real,) = next(it)
        except StopIteration:
            it = iter(loader)
            (real,) = next(it)
        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        label = torch.full((batch,), real_label)
        errD_real = criterion(netD(real), label)
        errD_real.backward()
        noise = torch.randn(batch, nz, 1, 1)
        fake = netG(noise)
        label.fill_(fake_label)
        errD_fake = criterion(netD(fake.detach()), label)
        errD_fake.backward()
        optD.step()
        # (2) update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        errG = criterion(netD(fake), label)
        errG.backward()
        optG.step()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="folder with the MNIST IDX files or the CIFAR-10 copy")
    ap.add_argument("--dataset", choices=("mnist", "cifar10"), default="mnist")
    ap.add_argument("--steps", type=int, default=30, help="iterations per round and loop")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ngf", type=int, default=32)
    ap.add_argument("--ndf", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    arch = get_architecture("dcgan")
    nc = 3 if args.dataset == "cifar10" else 1
    cfg = arch.validate_config(nc=nc, image_size=32, ngf=args.ngf, ndf=args.ndf)
    recipe = architecture_recipe(arch)
    images = load_dataset(args.dataset, args.data, "train").resized(32).images
    from zoo.machine import bf16_native

    variants = [("zoo fp32", "fp32", False)]
    if bf16_native():
        variants.append(("zoo bf16 + channels_last", "bf16", True))
    else:
        print("this CPU has no native bf16: the bf16 variant is left out")
    torch.manual_seed(0)
    G0, D0 = build_pair(arch, cfg)
    zoo_rates: dict[str, list[float]] = {v[0]: [] for v in variants}
    base_rates: list[float] = []
    # warm-up both (allocator, kernels)
    plain_loop(G0, D0, images, recipe.batch_size, 3, recipe.lr_g, recipe.betas, cfg["nz"])
    for r in range(args.rounds):
        torch.manual_seed(r)
        G, D = build_pair(arch, cfg)
        sec = plain_loop(G, D, images, recipe.batch_size, args.steps, recipe.lr_g, recipe.betas, cfg["nz"])
        base_rates.append(args.steps / sec)
        line = f"round {r}: baseline {base_rates[-1]:.3f} it/s"
        for label, precision, channels_last in variants:
            torch.manual_seed(r)
            G, D = build_pair(arch, cfg)
            loop_cfg = LoopConfig(steps=args.steps, seed=r, run_dir=None, progress=False, log_every=args.steps,
                                  precision=precision, channels_last=channels_last)
            # one warm-up step in this layout/precision, outside the timing
            train_gan(*build_pair(arch, cfg), images, recipe, LoopConfig(steps=1, seed=r, progress=False,
                                                                         precision=precision,
                                                                         channels_last=channels_last))
            res = train_gan(G, D, images, recipe, loop_cfg)
            zoo_rates[label].append(args.steps / res.wall_time_s)
            line += f", {label} {zoo_rates[label][-1]:.3f} it/s"
        print(line, flush=True)
    b = statistics.median(base_rates)
    print(f"machine: {machine_description()}")
    print(f"DCGAN 32 px {args.dataset}, ngf={args.ngf} ndf={args.ndf}, batch {recipe.batch_size}, {args.rounds} rounds x "
          f"{args.steps} iterations, {args.threads} thread(s)")
    print(f"baseline (pytorch/examples-style loop, fp32): {b:.3f} it/s")
    for label, _, _ in variants:
        z = statistics.median(zoo_rates[label])
        print(f"{label + ':':<45} {z:.3f} it/s   ratio / baseline {z / b:.3f}")


if __name__ == "__main__":
    main()
