"""The 2D mode-collapse benchmarks of VEEGAN and PacGAN: a ring of 8 and a grid of 25 Gaussians.

Set-up as in PacGAN's synthetic experiments (Lin et al. 2018, section 5.1 and
their code, fjxmlzn/PacGAN synthetic_data_experiments, read for the facts):
- ring: 8 modes evenly on the unit circle, std 0.01; grid: 25 modes at
  {-4, -2, 0, 2, 4}^2, std 0.05; 100,000 training points, uniform mixture;
- generator: z ~ N(0, I_2) -> 4 hidden layers of 400 (batch norm, ReLU) -> 2;
- discriminator: 3 maxout layers of 200 units with 5 pieces -> 1;
- metrics on 2,500 samples: a sample is high quality if it lies within 3
  standard deviations of its nearest mode; a mode is covered if at least one
  high-quality sample is nearest to it; reverse KL is KL(p_gen || uniform) of
  the high-quality samples' histogram over the modes.

The zoo runs three methods with these same network sizes through its one
training loop, changing only the loss, the critic's normalisation and the
optimiser settings: ``gan`` (the non-saturating loss of Goodfellow et al.),
``wasserstein-gp`` (Gulrajani et al.'s gradient penalty) and ``hinge-sn``
(the hinge loss with spectral norm on every critic layer, Miyato et al.).

    python -m zoo.metrics.toy --steps 4000 --seeds 3 --out docs/mode-collapse
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ..training.loop import LoopConfig, train_gan
from ..training.recipes import Recipe

N_EVAL = 2500


def ring_means() -> torch.Tensor:
    a = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return torch.stack([a.cos(), a.sin()], 1).float()


def grid_means() -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(-4, 5, 2), repeat=2)), dtype=torch.float32)


DATASETS = {"ring": (ring_means, 0.01), "grid": (grid_means, 0.05)}
# PacGAN Table 1, the GAN row (mean over 10 runs)
PUBLISHED_GAN = {"ring": {"modes": 6.3, "hq": 0.982, "reverse_kl": 0.45},
                 "grid": {"modes": 17.3, "hq": 0.948, "reverse_kl": 0.70}}


def sample_mixture(name: str, n: int, generator: torch.Generator) -> torch.Tensor:
    means_fn, std = DATASETS[name]
    means = means_fn()
    idx = torch.randint(0, len(means), (n,), generator=generator)
    return means[idx] + std * torch.randn(n, 2, generator=generator)


@dataclass(frozen=True)
class ModeStats:
    modes: int  # modes with at least one high-quality sample
    hq: float  # share of high-quality samples
    reverse_kl: float  # KL(p_gen || uniform) over the modes, from the high-quality samples


def mode_stats(samples: torch.Tensor, name: str) -> ModeStats:
    means_fn, std = DATASETS[name]
    means = means_fn().double()
    d = torch.cdist(samples.double(), means) / std  # distance in standard deviations
    dist, nearest = d.min(1)
    good = dist < 3.0
    counts = torch.bincount(nearest[good], minlength=len(means)).double()
    hq = float(good.double().mean())
    if counts.sum() == 0:
        return ModeStats(0, hq, float("inf"))
    p = counts / counts.sum()
    nz = p > 0
    kl = float((p[nz] * (p[nz] * len(means)).log()).sum())
    return ModeStats(int(nz.sum()), hq, kl)


class ToyG(nn.Module):
    """z (n, 2) -> point (n, 2): 4 x [linear(400, no bias), batch norm, ReLU], linear(2)."""

    def __init__(self, z_dim: int = 2, hidden: int = 400, layers: int = 4):
        super().__init__()
        self.latent_dim = z_dim
        mods: list[nn.Module] = []
        d = z_dim
        for _ in range(layers):
            mods += [nn.Linear(d, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU()]
            d = hidden
        mods.append(nn.Linear(d, 2))
        self.net = nn.Sequential(*mods)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Maxout(nn.Module):
    def __init__(self, d_in: int, d_out: int, pieces: int, sn: bool):
        super().__init__()
        self.pieces = pieces
        lin = nn.Linear(d_in, d_out * pieces)
        nn.init.normal_(lin.weight, 0.0, 0.02)
        nn.init.zeros_(lin.bias)
        self.linear = nn.utils.parametrizations.spectral_norm(lin) if sn else lin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)
        return y.view(y.shape[0], -1, self.pieces).amax(-1)


class ToyD(nn.Module):
    """point (n, 2) -> score (n,): 3 maxout layers (200 units, 5 pieces), linear(1); optional spectral norm."""

    def __init__(self, hidden: int = 200, pieces: int = 5, layers: int = 3, spectral_norm: bool = False):
        super().__init__()
        mods: list[nn.Module] = []
        d = 2
        for _ in range(layers):
            mods.append(Maxout(d, hidden, pieces, spectral_norm))
            d = hidden
        out = nn.Linear(d, 1)
        nn.init.normal_(out.weight, 0.0, 0.02)
        nn.init.zeros_(out.bias)
        mods.append(nn.utils.parametrizations.spectral_norm(out) if spectral_norm else out)
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


# The three methods: the same networks, each with its paper's loss and optimiser settings.
METHODS: dict[str, tuple[Recipe, bool]] = {
    # PacGAN's GAN: Adam lr 1e-4, beta1 0.8, batch 100, non-saturating BCE
    "gan": (Recipe(loss="bce-nonsaturating", lr_g=1e-4, lr_d=1e-4, betas=(0.8, 0.999), batch_size=100), False),
    # Gulrajani et al.: Adam 1e-4, betas (0.5, 0.9), lambda 10, 5 critic steps
    "wasserstein-gp": (Recipe(loss="wasserstein-gp", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), gp_lambda=10.0,
                              n_critic=5, batch_size=100), False),
    # Miyato et al.: hinge loss, spectral norm on every critic layer; PacGAN's optimiser settings
    "hinge-sn": (Recipe(loss="hinge", lr_g=1e-4, lr_d=1e-4, betas=(0.8, 0.999), batch_size=100), True),
}


@dataclass
class ToyResult:
    method: str
    dataset: str
    seed: int
    steps: int
    modes: int
    hq: float
    reverse_kl: float
    seconds: float


def run_one(method: str, dataset: str, seed: int, steps: int, n_train: int = 100_000, g_hidden: int = 400,
            d_hidden: int = 200) -> tuple[ToyResult, torch.Tensor]:
    recipe, sn = METHODS[method]
    g = torch.Generator().manual_seed(10_000 + seed)
    data = sample_mixture(dataset, n_train, g)
    torch.manual_seed(seed)
    G, D = ToyG(hidden=g_hidden), ToyD(hidden=d_hidden, spectral_norm=sn)
    t0 = time.perf_counter()
    train_gan(G, D, data, recipe, LoopConfig(steps=steps, seed=seed, run_dir=None, progress=False, log_every=1000))
    G.eval()
    with torch.no_grad():
        x = G(G.latent(N_EVAL, torch.Generator().manual_seed(2333 + seed)))
    s = mode_stats(x, dataset)
    return ToyResult(method, dataset, seed, steps, s.modes, s.hq, s.reverse_kl, time.perf_counter() - t0), x


def scatter_png(points: dict[str, torch.Tensor], path: Path, dataset: str, size: int = 220) -> None:
    """Side-by-side scatter plots (one panel per method) with the true modes marked in red."""
    from PIL import Image, ImageDraw

    lim = 1.5 if dataset == "ring" else 6.0
    panels = []
    for name, pts in points.items():
        im = Image.new("RGB", (size, size + 18), "white")
        dr = ImageDraw.Draw(im)
        to_px = lambda v: (v + lim) / (2 * lim) * (size - 1)  # noqa: E731
        for x, y in pts.tolist():
            dr.point((to_px(x), size - 1 - to_px(y)), fill=(0, 0, 0))
        for x, y in DATASETS[dataset][0]().tolist():
            cx, cy = to_px(x), size - 1 - to_px(y)
            dr.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), outline=(220, 0, 0))
        dr.text((4, size + 3), name, fill=(0, 0, 0))
        panels.append(im)
    out = Image.new("RGB", (sum(p.width for p in panels) + 4 * (len(panels) - 1), panels[0].height), "white")
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + 4
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(path)


def summarize(results: list[ToyResult]) -> dict[tuple[str, str], dict[str, float]]:
    table: dict[tuple[str, str], dict[str, float]] = {}
    for key in sorted({(r.method, r.dataset) for r in results}):
        rs = [r for r in results if (r.method, r.dataset) == key]
        table[key] = {
            "modes": sum(r.modes for r in rs) / len(rs),
            "hq": sum(r.hq for r in rs) / len(rs),
            "reverse_kl": sum(r.reverse_kl for r in rs) / len(rs),
            "runs": len(rs),
        }
    return table


def markdown_table(results: list[ToyResult]) -> str:
    t = summarize(results)
    lines = [
        "| method | ring: modes (of 8) | ring: high quality | ring: reverse KL | grid: modes (of 25) | grid: high quality | grid: reverse KL |",
        "|---|---|---|---|---|---|---|",
    ]
    p = PUBLISHED_GAN
    lines.append(
        f"| GAN, PacGAN Table 1 (published, 10 runs) | {p['ring']['modes']} | {p['ring']['hq'] * 100:.1f}% | "
        f"{p['ring']['reverse_kl']} | {p['grid']['modes']} | {p['grid']['hq'] * 100:.1f}% | {p['grid']['reverse_kl']} |"
    )
    for method in METHODS:
        cells = []
        for ds in ("ring", "grid"):
            s = t.get((method, ds))
            cells += ["–"] * 3 if s is None else [f"{s['modes']:.1f}", f"{s['hq'] * 100:.1f}%", f"{s['reverse_kl']:.2f}"]
        n = max((t.get((method, ds), {}).get("runs", 0) for ds in ("ring", "grid")), default=0)
        lines.append(f"| {method} (zoo, {n} runs) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--datasets", default="ring,grid")
    ap.add_argument("--out", type=Path, default=Path("toy-results"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--g-hidden", type=int, default=400, help="generator width (PacGAN: 400)")
    ap.add_argument("--d-hidden", type=int, default=200, help="discriminator maxout units (PacGAN: 200)")
    ap.add_argument("--method-steps", default="",
                    help="per-method generator steps overriding --steps, e.g. 'wasserstein-gp=1000' (it makes 5 "
                         "critic updates per step)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[ToyResult] = []
    for ds in args.datasets.split(","):
        shown: dict[str, torch.Tensor] = {}
        for method in args.methods.split(","):
            for seed in range(args.seeds):
                per = dict(kv.split("=") for kv in args.method_steps.split(",") if kv)
                steps = int(per.get(method, args.steps))
                r, pts = run_one(method, ds, seed, steps, g_hidden=args.g_hidden, d_hidden=args.d_hidden)
                results.append(r)
                print(json.dumps(asdict(r)), flush=True)
                if seed == 0:
                    shown[method] = pts
        scatter_png(shown, args.out / f"toy-{ds}.png", ds)
    (args.out / "toy-results.json").write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    table = markdown_table(results)
    (args.out / "toy-table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
