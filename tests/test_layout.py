"""The house's layout (docs/layout.md): no import circles among the zoo's and the plugins' modules, and no
module much over 400 lines.

The import graph is read statically with ``ast``: every ``import`` and ``from ... import`` counts as an
edge, wherever it is written (module level, inside a function, under ``if TYPE_CHECKING``), so a circle
cannot hide behind a lazy import. ``from pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg``. Importing a submodule is not counted as importing its parent package.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 450

# Modules allowed over MAX_LINES while they wait to be split by concern: none now. The list may only
# shrink: a module that is split must leave it, and no other module may join it.
NOT_YET_SPLIT: set[str] = set()


def _sources() -> dict[str, Path]:
    """Module name -> file, for zoo/ and the plugin packages under plugins/."""
    files = sorted((ROOT / "zoo").rglob("*.py")) + sorted((ROOT / "plugins").glob("*/**/*.py"))
    mods = {}
    for path in files:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[0] == "plugins":
            parts = parts[1:]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of zoo/ and plugins/ it imports (anywhere in its text)."""
    mods = _sources()

    def known(name: str) -> str | None:  # the module itself, or the nearest package holding it
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for mod, path in mods.items():
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                deps.update(filter(None, (known(a.name) for a in node.names)))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    hit = sub if sub in mods else known(target)
                    if hit:
                        deps.add(hit)
        deps.discard(mod)
        graph[mod] = deps
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _edge_lines(graph: dict[str, set[str]], component: list[str]) -> str:
    return "; ".join(f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component)


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    assert "zoo.cli.group" in graph["zoo.cli.models"]  # a module-level relative import
    assert "zoo.repos.hub" in graph["zoo.repos.refs"]  # imported inside functions only
    assert "zoo_adain.trainer" in graph["zoo_adain.train"]  # a plugin's function-level import
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles():
    graph = import_graph()
    found = circles(graph)
    assert not found, "import circles (each edge is an import statement; break them by moving the shared " \
        "part into a leaf module):\n" + "\n".join(f"  {c}: {_edge_lines(graph, c)}" for c in found)


def test_no_module_much_over_400_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in _sources().values()}
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    new = sorted(f"{name} ({over[name]} lines)" for name in set(over) - NOT_YET_SPLIT)
    assert not new, f"modules over {MAX_LINES} lines (split them by concern): {', '.join(new)}"
    done = sorted(set(NOT_YET_SPLIT) - set(over))
    assert not done, f"no longer over {MAX_LINES} lines (or gone): take them out of NOT_YET_SPLIT: {', '.join(done)}"


# What each part of zoo/ may import (README.md, "Layout"): a part is a package of zoo/ or a top-level module;
# "zoo" is the public API (zoo/__init__.py); the former paths kept as aliases may import only their new place.
_LEAVES = {"zoo.errors", "zoo.text", "zoo.generative", "zoo.hookspecs", "zoo.fastconv"}
MAY_IMPORT = {
    "zoo": {"zoo.cards", "zoo.errors", "zoo.hookspecs", "zoo.loading", "zoo.plugins", "zoo.registry", "zoo.repos"},
    "zoo.cli": {"*"},
    "zoo.catalog": {"zoo", "zoo.cards", "zoo.errors", "zoo.images", "zoo.plugins", "zoo.registry", "zoo.repos"},
    "zoo.scaffold": {"zoo", "zoo.errors", "zoo.registry", "zoo.repos"},
    "zoo.testing": {"zoo", "zoo.cards", "zoo.errors", "zoo.loading", "zoo.plugins", "zoo.repos", "zoo.stylizing",
                    "zoo.training"},
    "zoo.metrics": {"zoo", "zoo.cards", "zoo.config", "zoo.errors", "zoo.loading", "zoo.machine", "zoo.plugins",
                    "zoo.repos", "zoo.training"},
    "zoo.training": {"zoo.cards", "zoo.errors", "zoo.images", "zoo.importing", "zoo.loading", "zoo.machine",
                     "zoo.plugins", "zoo.registry"},
    "zoo.repos": {"zoo.cards", "zoo.config", "zoo.errors", "zoo.loading", "zoo.plugins", "zoo.registry"},
    "zoo.cards": {"zoo.config", "zoo.errors", "zoo.plugins", "zoo.registry", "zoo.repos", "zoo.text"},
    "zoo.registry": {"zoo.errors"},
    "zoo.plugins": {"zoo.config", "zoo.errors", "zoo.hookspecs", "zoo.importing", "zoo.plugin_guard", "zoo.registry"},
    "zoo.plugin_guard": {"zoo.errors", "zoo.text"},
    "zoo.importing": {"zoo.errors"},
    "zoo.loading": {"zoo.derived", "zoo.errors", "zoo.importing", "zoo.plugins", "zoo.registry", "zoo.repos"},
    "zoo.derived": {"zoo.config", "zoo.errors", "zoo.plugins", "zoo.registry", "zoo.repos"},
    "zoo.convert": {"zoo.cards", "zoo.errors", "zoo.generative", "zoo.loading", "zoo.plugins", "zoo.registry"},
    "zoo.evaluation": {"zoo.errors", "zoo.importing", "zoo.plugins", "zoo.registry"},
    "zoo.config": {"zoo.errors"},
    "zoo.images": {"zoo.config", "zoo.errors"},
    "zoo.machine": {"zoo.errors"},
    "zoo.stylizing": {"zoo.errors"},
    "zoo.s2dconv": {"zoo.fastconv"},
    **{leaf: set() for leaf in _LEAVES},
}
OLD_PATHS = {"zoo.hub": "zoo.repos", "zoo.refs": "zoo.repos", "zoo.download": "zoo.repos", "zoo.publish": "zoo.repos",
             "zoo.repofolder": "zoo.repos", "zoo.card_writer": "zoo.cards", "zoo.scaffold_style": "zoo.scaffold",
             **{f"zoo.cli_{m}": "zoo.cli" for m in ("models", "catalog", "convert", "publish", "setup", "train")}}


def _part(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "zoo" else parts[0]


def test_each_part_imports_only_what_the_layout_allows():
    graph = import_graph()
    wrong = []
    for mod, deps in sorted(graph.items()):
        part = _part(mod)
        if not part.startswith("zoo") or part.startswith("zoo_"):
            continue  # plugins: below
        allowed = {OLD_PATHS[part]} if part in OLD_PATHS else MAY_IMPORT.get(part)
        assert allowed is not None, f"{part} is not in the layout (MAY_IMPORT here, README.md 'Layout')"
        for dep in sorted(deps):
            target = _part(dep)
            if target != part and "*" not in allowed and target not in allowed:
                wrong.append(f"{mod} -> {dep}")
    for mod, deps in sorted(graph.items()):  # nothing imports a former path; no plugin imports the CLI
        wrong += [f"{mod} -> {dep} (a former path)" for dep in sorted(deps) if _part(dep) in OLD_PATHS
                  and mod.startswith("zoo.")]
        if mod.startswith("zoo_"):
            wrong += [f"{mod} -> {dep} (a plugin importing the CLI)" for dep in sorted(deps) if _part(dep) == "zoo.cli"]
    assert not wrong, "imports outside the layout (README.md, 'Layout'): " + "; ".join(wrong)
