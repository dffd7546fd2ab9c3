"""The trainer template of ``zoo new-plugin NAME --task style-transfer`` (``zoo_NAME/train.py``: the
trainer component ``zoo train NAME`` runs). Part of :mod:`zoo.scaffold.style`.
"""

from __future__ import annotations


TRAIN = '''\
"""The {name} trainer: one decoder step, run by the zoo's training mechanism (`zoo train {name}`).

The zoo's loop does checkpoint and resume, progress, logging, bf16, channels_last, DDP and calls export();
this class does one update. The losses are registered loss names (the recipe's ``losses``), found through
the zoo's loss hook.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from zoo.training import Trainer as ZooTrainer
from zoo.training import get_losses

from .model import adaptive_norm, build

SUFFIXES = (".jpg", ".jpeg", ".png")


def _images(folder: Path, side: int) -> list[torch.Tensor]:
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in SUFFIXES:
            with Image.open(p) as im:
                im.draft("RGB", (side, side))
                im = im.convert("RGB")
                w, h = im.size
                k = side / min(w, h)
                im = im.resize((max(side, round(w * k)), max(side, round(h * k))), Image.BICUBIC)
            out.append(torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous())
    if not out:
        raise FileNotFoundError(f"no images in {{folder}}")
    return out


class Trainer(ZooTrainer):
    task = "style-transfer"

    @classmethod
    def setting_names(cls):
        return ["lr", "batch_size", "crop", "content_weight", "style_weight", "losses"]

    @classmethod
    def from_job(cls, job):
        return cls(job)

    def __init__(self, job):
        self.job = job
        s = job.settings
        self.crop, self.batch = int(s.get("crop", 64)), int(s.get("batch_size", 4))
        self.cw, self.sw = float(s.get("content_weight", 1.0)), float(s.get("style_weight", 10.0))
        self.losses = get_losses(s.get("losses", {{"content": "{name}-content", "style": "{name}-style"}}),
                                 kind="perceptual")
        torch.manual_seed(job.seed)
        self.model = build(**job.config)
        self.model.encoder.requires_grad_(False)
        self.opt = torch.optim.Adam(self.model.decoder.parameters(), lr=float(s.get("lr", 1e-3)))
        root = Path(job.data)
        styles = root / "style" if (root / "style").is_dir() else root
        contents = root / "content" if (root / "content").is_dir() else styles
        self.contents, self.styles = _images(contents, 2 * self.crop), _images(styles, 2 * self.crop)

    def modules(self):
        return {{"decoder": self.model.decoder}}

    def optimizers(self):
        return {{"optimizer": self.opt}}

    def _crops(self, pool, gen):
        out = []
        for _ in range(self.batch):
            x = pool[int(torch.randint(len(pool), (1,), generator=gen))]
            i = int(torch.randint(x.shape[1] - self.crop + 1, (1,), generator=gen))
            j = int(torch.randint(x.shape[2] - self.crop + 1, (1,), generator=gen))
            out.append(x[:, i:i + self.crop, j:j + self.crop])
        return torch.stack(out)

    def step(self, ctx):
        gen = ctx.generator()  # a pure function of (seed, rank, step): resume is exact
        c, s = self._crops(self.contents, gen), self._crops(self.styles, gen)
        enc, dec = self.model.encoder, self.model.decoder
        with ctx.autocast():
            with torch.no_grad():
                fs = [f.float() for f in enc.forward_features(s)]
                t = adaptive_norm(enc(c).float(), fs[-1])
            out = dec(t)
            fo = [f.float() for f in enc.forward_features(out)]
        lc = self.losses["content"].fn(fo[-1], t)
        ls = self.losses["style"].fn(fo, fs)
        loss = self.cw * lc + self.sw * ls
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {{"loss": loss.detach(), "content": lc.detach(), "style": ls.detach()}}

    def sample_images(self, ctx):
        gen = torch.Generator().manual_seed(self.job.seed)
        c, s = self._crops(self.contents, gen), self._crops(self.styles, gen)
        return torch.cat([c, s, self.model.stylize(c, s)])

    def published(self):
        return self.model

    def export(self, out, summary):
        from .make_weights import write_folder

        return write_folder(self.model.eval(), Path(out), summary=summary)

    @classmethod
    def write_card(cls, folder):
        """Re-write a folder's card from its config.json (`zoo eval FOLDER --write` calls this)."""
        from .make_weights import rewrite_card

        return rewrite_card(Path(folder))
'''
