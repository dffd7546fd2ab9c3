"""A one-line description of the machine, for model cards and benchmark output."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> str:
    """CPU model, core count, torch version and threads (and the GPU, if any)."""
    import torch

    desc = (f"{cpu_name()}, {os.cpu_count()} logical CPUs, {torch.get_num_threads()} torch thread(s), "
            f"torch {torch.__version__}, python {platform.python_version()}")
    if torch.cuda.is_available():
        desc += f", GPU {torch.cuda.get_device_name(0)}"
    return desc


def bf16_native() -> bool:
    """True if this CPU runs bf16 convolutions natively (avx512_bf16 or AMX), as oneDNN reports."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:
        return False


def resolve_precision(precision: str, device: str | None = None) -> str:
    """'fp32' or 'bf16' for a requested 'auto' | 'fp32' | 'bf16'.

    'auto' is bf16 on a CUDA ``device`` (``None``: CUDA when it is available) or on a CPU that runs
    bf16 convolutions natively (:func:`bf16_native`), else fp32.
    """
    from .errors import ConfigError

    if precision not in ("auto", "fp32", "bf16"):
        raise ConfigError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    if precision != "auto":
        return precision
    if device is None:
        import torch

        cuda = torch.cuda.is_available()
    else:
        cuda = device.startswith("cuda")
    return "bf16" if cuda or bf16_native() else "fp32"
