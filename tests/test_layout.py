"""The package's rooms and the arrows between them (docs/development.md, "Layout").

Every import of the package's own modules is read from the source (at any depth: a function's
lazy import counts too) and checked against the rules; a failure names the offending import.

- model/ (the core) imports of ours only errors, reading and _version, and model/ itself;
- reading imports only errors; errors and _version nothing of ours;
- excel/ never imports files/ or cli; files/ never imports excel/ or cli; nothing imports cli
  but ``__main__``;
- no room reaches into another's private names or private modules (``_name``);
- no import circle among the modules;
- only cli.py (and ``__main__``) prints.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "udfs" / "customer_equity"
ROOT = "customer_equity"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if module in PACKAGES else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> list[tuple[str, str, int]]:
    """``(imported module, name or "", line)`` for each import of one of ours."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == ROOT]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if target.split(".")[0] != ROOT:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # `from . import cells`: the module cells
                    found.append((sub, "", node.lineno))
                else:
                    found.append((target, alias.name, node.lineno))
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private(module: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in module.split(".")[1:])


ALLOWED = {
    "model": {"model", "errors", "reading", "_version"},
    "reading": {"errors"},
    "errors": set(),
    "_version": set(),
    "_files": {"errors"},
    "excel": {"excel", "model", "reading", "errors", "_version", "_files"},
    "files": {"files", "model", "reading", "errors", "_version", "_files"},
}


def _violations():
    out = []
    for module in MODULES:
        room = _room(module)
        for target, name, line in imports_of(module):
            where = f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} imports {target}" \
                + (f".{name}" if name else "")
            target_room = _room(target)
            if target_room == "cli" and module != f"{ROOT}.__main__":
                out.append(f"{where} (only __main__ may import the command)")
            if room in ALLOWED and target_room not in ALLOWED[room] and target != ROOT:
                out.append(f"{where} ({room}/ may import only {', '.join(sorted(ALLOWED[room]))})")
            if room in ALLOWED and target == ROOT and name not in ("__version__",):
                out.append(f"{where} (import the room, not the package root)")
            if target_room != room and room and target_room not in ("_version", "_files"):
                if _private(target) or (name.startswith("_") and not name.startswith("__")):
                    out.append(f"{where} (a private name of another room)")
    return out


def test_imports_point_down():
    assert _violations() == []


def _graph():
    graph = {}
    for module in MODULES:
        graph[module] = set()
        for target, _, _ in imports_of(module):
            if target in MODULES and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_rules_name_an_offending_import(tmp_path, monkeypatch):
    """A files/ module importing the Excel door is named with its file and line."""
    fake = PACKAGE / "files" / "batch.py"
    source = fake.read_text(encoding="utf-8") + "\nfrom ..excel import cells  # a wrong arrow\n"
    monkeypatch.setitem(MODULES, f"{ROOT}.files.batch", tmp_path / "batch.py")
    (tmp_path / "batch.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(Path, "relative_to", lambda self, other: self)
    found = _violations()
    assert any("customer_equity.files.batch imports customer_equity.excel.cells" in v
               and "files/ may import only" in v for v in found), found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_command_prints(module):
    if module in (f"{ROOT}.cli", f"{ROOT}.__main__"):
        return
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    calls = [node.lineno for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print"]
    assert calls == [], f"{module} prints at lines {calls}; return the text and let cli.py print it"


def test_one_name_for_lifetime_value_and_one_for_the_forecast_horizon():
    """The naming pass of issue 19: lifetime value is ``ltv`` (never ``clv``) and a forecast's
    number of periods ahead is ``horizon`` (the core, the file job and CE_FORECAST_LTV alike);
    ``forecast_clv`` stays importable under its old name only."""
    import inspect
    import io
    import tokenize

    from customer_equity.excel import functions
    from customer_equity.model import forecast as fc
    from customer_equity.model.forecast.opportunities import OpportunityForecast

    for path in sorted(PACKAGE.rglob("*.py")):
        names = {t.string for t in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
                 if t.type == tokenize.NAME and "clv" in t.string.lower()}
        assert names <= {"forecast_clv"}, (path, names)
    from customer_equity.model.forecast.result import PREDICTION_COLUMNS

    assert "ltv" in PREDICTION_COLUMNS and "clv" not in PREDICTION_COLUMNS
    for f in (fc.forecast_values, fc.customer_lifetime_value, fc.CustomerForecast.values,
              fc.CustomerForecast.ltv, fc.CustomerForecast.predict, OpportunityForecast.values,
              functions.ce_forecast_ltv.__wrapped__ if hasattr(functions.ce_forecast_ltv, "__wrapped__")
              else functions.ce_forecast_ltv):
        params = inspect.signature(f).parameters
        assert "horizon" in params and "periods" not in params, f
    assert fc.forecast_clv is fc.forecast_ltv
