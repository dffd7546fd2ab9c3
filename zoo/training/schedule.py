"""A run's learning rate against steps (``zoo train --lr-schedule``), set by the engine's loop for every trainer.

The schedule is a pure function of the step, so a run stopped and resumed follows the same rates as one
trained at once; each parameter group keeps its base rate under ``base_lr``, which the checkpoint's optimiser
state carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    import torch

LR_SCHEDULES = ("constant", "linear-decay")


@dataclass(frozen=True)
class LRSchedule:
    """The learning rate of every optimiser of a run as a factor of its base rate, a pure function of the step.

    ``linear-decay`` holds the base rate until ``start``, then falls linearly to zero at ``end``: with
    start 0 and end the run's steps it is pytorch-gan-collections' ``LambdaLR(lambda step: 1 - step /
    total_steps)`` (its GAN training scripts), and with a later start it is a cool-down
    of a run trained so far at a constant rate. Being a function of the step, it survives a resume: the
    base rate is kept in each parameter group (``base_lr``), which the checkpoint's optimiser state holds.
    """

    kind: str = "constant"
    start: int = 0
    end: int = 0

    def __post_init__(self) -> None:
        if self.kind not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule is one of {list(LR_SCHEDULES)}, got {self.kind!r}")
        if self.kind == "linear-decay" and not 0 <= self.start < self.end:
            raise ConfigError(f"a linear-decay learning rate needs 0 <= start < end (the step where it reaches "
                              f"zero), got start {self.start}, end {self.end}: raise --steps or --lr-decay-end")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], steps: int) -> LRSchedule | None:
        """The schedule that ``lr_schedule``, ``lr_decay_start`` and ``lr_decay_end`` of a recipe's settings
        name (the end defaults to the run's ``steps``); None when they name none or ``constant``."""
        kind = str(settings.get("lr_schedule") or "constant")
        if kind == "constant":
            return None
        start = int(settings.get("lr_decay_start") or 0)
        end = settings.get("lr_decay_end")
        return cls(kind, start, int(end) if end is not None else int(steps))

    def factor(self, step: int) -> float:
        """The learning rate of ``step`` (0-based, before its update) over the base rate."""
        if self.kind == "constant" or step < self.start:
            return 1.0
        return max(0.0, (self.end - step) / (self.end - self.start))

    def to_dict(self) -> dict[str, Any]:
        return {"lr_schedule": self.kind, "lr_decay_start": self.start, "lr_decay_end": self.end}


def apply_lr_schedule(optimizers: Iterable[torch.optim.Optimizer], schedule: LRSchedule | None,
                      step: int) -> float | None:
    """Set every parameter group's learning rate for ``step``: ``base_lr`` x the schedule's factor. Without a
    schedule a group that carries a ``base_lr`` (a run decayed earlier) gets its base rate back. Returns the
    first group's rate when a schedule is set."""
    first = None
    for opt in optimizers:
        for group in opt.param_groups:
            if schedule is None:
                if "base_lr" in group:
                    group["lr"] = group["base_lr"]
                continue
            base = group.setdefault("base_lr", group["lr"])
            group["lr"] = base * schedule.factor(step)
            first = group["lr"] if first is None else first
    return first
