"""A small shared base for the zoo's image generators.

Every GAN generator in the zoo subclasses :class:`ImageGenerator`. Its
``forward(z)`` maps a latent batch to images in [-1, 1] (a final tanh, as in
every reference implementation); :meth:`ImageGenerator.sample` maps that to
[0, 1] with ``(x + 1) / 2``, clamped, so users always get displayable floats.

Determinism: latents are drawn on the CPU from a ``torch.Generator`` seeded
with ``seed`` (independent of the global RNG), all ``n`` at once, then moved
to the model's device. The same seed therefore gives the same latents
whatever the batch size or device; in eval mode (batch norm uses running
statistics) the images do not depend on ``batch_size`` either.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ImageGenerator", "to_unit_range"]


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """Map generator output in [-1, 1] (tanh) to [0, 1]: ``(x + 1) / 2``, clamped."""
    return x.add(1.0).mul_(0.5).clamp_(0.0, 1.0)


class ImageGenerator(nn.Module):
    """Base class of a generator: ``latent_dim``, ``latent(n, generator)``, ``sample(n, seed=...)``.

    Subclasses set ``latent_dim``, ``channels`` and ``image_size`` and implement
    ``forward(z) -> (n, channels, image_size, image_size)`` in [-1, 1]. They
    override :meth:`latent` if their latent is not a flat ``(n, latent_dim)``
    standard normal (a convolutional generator's is often ``(n, nz, 1, 1)``).
    """

    latent_dim: int
    channels: int
    image_size: int

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` latent vectors drawn on the CPU from N(0, I) with ``generator``."""
        return torch.randn(n, self.latent_dim, generator=generator)

    def _param_device_dtype(self) -> tuple[torch.device, torch.dtype]:
        for t in self.parameters():
            return t.device, t.dtype
        for t in self.buffers():
            return t.device, t.dtype
        return torch.device("cpu"), torch.float32

    def channels_last(self) -> ImageGenerator:
        """Convert the weights to ``torch.channels_last`` (in place); returns self.

        ``sample`` then also runs with channels_last activations. Whether it is
        faster depends on the machine: measure with bench/generative_channels_last.py.
        """
        self.to(memory_format=torch.channels_last)
        self._zoo_channels_last = True
        return self

    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        device: str | torch.device | None = None,
        batch_size: int = 256,
    ) -> torch.Tensor:
        """``n`` images as a float32 tensor in [0, 1], shape (n, C, H, W), on ``device``.

        ``seed``: the same seed gives the same images; ``None`` draws a fresh
        non-deterministic seed (the global RNG is neither used nor changed).
        ``device``: where to run (default: where the weights are); the model
        is not moved, so the weights must already be there.
        ``batch_size``: how many images go through the network at a time.
        """
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        gen = torch.Generator(device="cpu")
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        wdevice, wdtype = self._param_device_dtype()
        if wdevice.type == "meta":
            raise RuntimeError(
                "this generator has no weights (built on the meta device); load them first, "
                "e.g. zoo.load(name), or build it with zoo.build(arch)"
            )
        device = torch.device(device) if device is not None else wdevice
        if device.type != wdevice.type or (device.index is not None and wdevice.index is not None and device.index != wdevice.index):
            raise ValueError(
                f"the weights are on {wdevice}, not {device}: move the model first "
                f"(model.to({str(device)!r})) or leave device out"
            )
        z = self.latent(n, gen)
        was_training = self.training
        self.eval()
        out = []
        try:
            with torch.inference_mode():
                for start in range(0, n, batch_size):
                    zb = z[start : start + batch_size].to(device=device, dtype=wdtype)
                    if getattr(self, "_zoo_channels_last", False) and zb.dim() == 4:
                        zb = zb.contiguous(memory_format=torch.channels_last)
                    x = self(zb)
                    out.append(to_unit_range(x.float()).contiguous())
        finally:
            self.train(was_training)
        if not out:
            shape = (0, self.channels, self.image_size, self.image_size)
            return torch.empty(shape, device=device)
        return torch.cat(out, 0)
