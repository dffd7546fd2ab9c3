"""The registry: every record registered by the plugins, found by name (:class:`Registry`, :class:`ModelInfo`).
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, DuplicateNameError, InvalidRecordError, UnknownModelError
from .components import Command, Evaluator, Loss, TrainingRecipe


from .models import Architecture, Weights
from .names import normalise_loss_name


Record = Architecture | Weights | Loss | TrainingRecipe | Command | Evaluator


@dataclass(frozen=True)
class ModelInfo:
    """What `zoo.model_info` returns: the architecture and, if any, its weights."""

    name: str
    architecture: Architecture
    weights: Weights | None

    @property
    def pretrained(self) -> bool:
        return self.weights is not None


class Registry:
    """Holds the records registered by plugins and answers lookups by name."""

    def __init__(self) -> None:
        self.architectures: dict[str, Architecture] = {}
        self.weights: dict[str, Weights] = {}
        self.losses: dict[str, Loss] = {}  # canonical name -> record
        self.loss_names: dict[str, str] = {}  # name or alias -> canonical name
        self.recipes: dict[str, TrainingRecipe] = {}  # "architecture:name" -> record
        self.commands: dict[str, Command] = {}
        self.evaluators: dict[str, Evaluator] = {}
        # names a broken plugin registered or claimed, to the plugin's name
        # (models by name; others as "loss:NAME", "recipe:ARCH:NAME", "command:NAME")
        self.broken_names: dict[str, str] = {}
        # broken plugin -> its error message
        self.plugin_errors: dict[str, str] = {}

    # -- registration ------------------------------------------------------
    def add(self, record: Record, plugin: str) -> Record:
        if isinstance(record, Loss):
            for n in record.names:
                if n in self.loss_names:
                    owner = self.losses[self.loss_names[n]].plugin
                    raise DuplicateNameError(n, owner, plugin, kind="loss")
            stamped_loss = dataclasses.replace(record, plugin=plugin)
            self.losses[record.name] = stamped_loss
            self.loss_names.update((n, record.name) for n in record.names)
            return stamped_loss
        if isinstance(record, Architecture):
            table: dict[str, Any] = self.architectures
            key, kind = record.name, "model"
        elif isinstance(record, Weights):
            table, key, kind = self.weights, record.name, "model"
        elif isinstance(record, TrainingRecipe):
            table, key, kind = self.recipes, record.key, "recipe"
        elif isinstance(record, Command):
            table, key, kind = self.commands, record.name, "command"
        elif isinstance(record, Evaluator):
            table, key, kind = self.evaluators, record.name, "evaluator"
        else:
            raise InvalidRecordError(
                f"plugin {plugin!r} registered {type(record).__name__}; "
                "register zoo.Architecture, zoo.Weights, zoo.Loss, zoo.TrainingRecipe, zoo.Command or "
                "zoo.Evaluator records"
            )
        if key in table:
            raise DuplicateNameError(key, table[key].plugin, plugin, kind=kind)
        stamped = dataclasses.replace(record, plugin=plugin)
        table[key] = stamped
        return stamped

    def remove(self, record: Record) -> None:
        """Undo :meth:`add` (a plugin that failed half-way keeps none of its records)."""
        if isinstance(record, Loss):
            if self.losses.get(record.name) is not None and self.losses[record.name].plugin == record.plugin:
                del self.losses[record.name]
                for n in record.names:
                    self.loss_names.pop(n, None)
            return
        table: dict[str, Any] = {Architecture: self.architectures, Weights: self.weights,
                                 TrainingRecipe: self.recipes, Command: self.commands,
                                 Evaluator: self.evaluators}[type(record)]
        key = record.key if isinstance(record, TrainingRecipe) else record.name
        if key in table and table[key].plugin == record.plugin:
            del table[key]

    def check_consistency(self) -> list[tuple[str, str]]:
        """Weights whose architecture is missing or whose config does not validate; recipes for no
        registered architecture or naming an unregistered loss.

        Returns (plugin, reason) pairs; the offending records are dropped. Then every architecture's
        ``recipes`` becomes the recipes registered for it by any plugin.
        """
        problems = []
        for name, w in list(self.weights.items()):
            arch = self.architectures.get(w.architecture)
            if arch is None:
                problems.append((w.plugin, f"weights {name!r} name architecture {w.architecture!r}, which no plugin registered"))
                del self.weights[name]
                continue
            try:
                arch.validate_config(w.config)
            except ConfigError as e:
                problems.append((w.plugin, f"weights {name!r}: {e}"))
                del self.weights[name]
                continue
            missing = sorted(other for other in w.includes.values() if other not in self.weights)
            if missing:
                problems.append((w.plugin, f"weights {name!r} include {missing}, which no plugin registered"))
                del self.weights[name]
        for key, r in list(self.recipes.items()):
            if r.architecture not in self.architectures:
                problems.append((r.plugin, f"recipe {r.name!r} is for architecture {r.architecture!r}, which no "
                                           f"plugin registered (architectures: {sorted(self.architectures)})"))
                del self.recipes[key]
        # a recipe naming a loss no loaded plugin registers is kept (the plugin that registers it may be
        # disabled); `zoo plugins --check` reports it and `zoo train` refuses it, saying which losses exist
        for name, arch in list(self.architectures.items()):
            mine = {r.name: r.settings for r in self.recipes.values() if r.architecture == name}
            default = arch.default_recipe
            if default and default not in mine:
                problems.append((arch.plugin, f"architecture {name!r}: default_recipe {default!r} is not one of its "
                                              f"registered recipes {sorted(mine)}"))
                default = ""
            if mine != dict(arch.recipes) or default != arch.default_recipe:
                self.architectures[name] = dataclasses.replace(arch, recipes=mine, default_recipe=default)
        return problems

    def recipes_missing_losses(self) -> list[tuple[TrainingRecipe, str]]:
        """(recipe, loss) for every recipe whose ``loss`` no loaded plugin registers."""
        out = []
        for r in self.recipes.values():
            loss = r.settings.get("loss")
            if loss is not None and self.find_loss(loss) is None:
                out.append((r, str(loss)))
        return sorted(out, key=lambda x: x[0].key)

    def describe_recipes(self, arch: Architecture) -> str:
        """``name (plugin P, loss L)`` for each recipe of ``arch``, the default marked (no torch)."""
        parts = []
        for name, settings in sorted(arch.recipes.items()):
            record = self.recipes.get(f"{arch.name}:{name}")
            bits = [f"plugin {record.plugin}"] if record is not None else []
            if settings.get("loss"):
                bits.append(f"loss {settings['loss']}")
            if name == arch.default_recipe:
                bits.append("default")
            parts.append(f"{name} ({', '.join(bits)})" if bits else name)
        return ", ".join(parts) or "none"

    def recipes_of(self, architecture: str) -> list[TrainingRecipe]:
        """The recipes registered for ``architecture``, by name."""
        return sorted((r for r in self.recipes.values() if r.architecture == architecture), key=lambda r: r.name)

    def evaluators_for(self, task: str) -> list[Evaluator]:
        """The evaluators registered for ``task``, in the order they were registered (the first is the default)."""
        return [e for e in self.evaluators.values() if e.task == task]

    def find_loss(self, name: str) -> Loss | None:
        """The loss registered under ``name`` or one of its aliases (compared as :func:`normalise_loss_name`)."""
        canonical = self.loss_names.get(normalise_loss_name(name))
        return self.losses.get(canonical) if canonical else None

    # -- lookup ------------------------------------------------------------
    def all_names(self) -> list[str]:
        names = set(self.weights)
        names.update(self.architectures)
        return sorted(names)

    def resolve_name(self, name: str) -> str:
        """Normalise ``name``: lower case, bare architecture -> ``arch.default_tag``."""
        if not isinstance(name, str) or not name.strip():
            raise UnknownModelError(str(name), [], sorted(self.plugin_errors))
        name = name.strip().lower()
        if "." not in name and name in self.architectures:
            return f"{name}.{self.architectures[name].default_tag}"
        return name

    def info(self, name: str) -> ModelInfo:
        full = self.resolve_name(name)
        arch = self.architectures.get(full.split(".", 1)[0])
        if arch is not None and full in self.weights:
            return ModelInfo(full, arch, self.weights[full])
        if arch is not None and "." not in name.strip():
            return ModelInfo(full, arch, None)  # an architecture whose default tag has no weights
        raise self.unknown(name)

    def unknown(self, name: str) -> Exception:
        """The error for a name nobody registered: the broken plugin's, or suggestions."""
        from ..errors import PluginError

        key = str(name).strip().lower()
        plugin = self.broken_names.get(key) or self.broken_names.get(key.split(".", 1)[0])
        if plugin is not None and plugin in self.plugin_errors:
            return PluginError(plugin, self.plugin_errors[plugin])
        return UnknownModelError(str(name), self._suggest(key), sorted(self.plugin_errors))

    def _suggest(self, name: str) -> list[str]:
        candidates = self.all_names()
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        if not close:
            close = [c for c in candidates if name and (name in c or c.split(".")[0] in name)][:3]
        return close

    def list(self, pattern: str | Iterable[str] | None = None, *, pretrained: bool = False) -> list[str]:
        """Names matching shell-style glob(s); with ``pretrained``, only names with weights."""
        names = sorted(self.weights) if pretrained else self.all_names()
        if pattern is None:
            return names
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        patterns = [p.lower() for p in patterns]
        return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
