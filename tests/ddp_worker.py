"""Run by tests/test_ddp.py under torchrun: tiny GANs trained data-parallel (gloo, CPU)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))
from training_tiny import TinyD, TinyG, tiny_images  # noqa: E402

from zoo.training import LoopConfig, Recipe, init_distributed, train_gan  # noqa: E402
from zoo.training.engine import finish_distributed  # noqa: E402

torch.set_num_threads(1)
out = Path(sys.argv[1])
rank, world = init_distributed("cpu")
report = {"rank": rank, "world": world}
for name, recipe, bn in (
    ("bce", Recipe(batch_size=8, lr_g=1e-3, lr_d=1e-3), True),
    ("wgan-gp", Recipe(loss="wasserstein-gp", gp_lambda=10.0, n_critic=2, batch_size=8, betas=(0.5, 0.9)), False),
):
    torch.manual_seed(0)
    G, D = TinyG(bn=bn), TinyD()
    initial = torch.cat([p.detach().flatten().clone() for p in list(G.parameters()) + list(D.parameters())])
    res = train_gan(G, D, tiny_images(128), recipe,
                    LoopConfig(steps=4, seed=0, run_dir=out / name, progress=False, log_every=1))
    flat = torch.cat([p.detach().flatten() for p in list(G.parameters()) + list(D.parameters())])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    report[name] = {
        "same_on_all_ranks": all(torch.equal(gathered[0], g) for g in gathered),
        "changed": not torch.equal(flat, initial),
        "losses": res.history,
    }
(out / f"rank{rank}.json").write_text(json.dumps(report))
finish_distributed()
