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
