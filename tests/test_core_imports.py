"""The answering core words nothing: bot/answer.py and all it imports stay free of presentation.

Wording (the text catalog bot/text, the renderers bot/render) and Slack live at the edges; an
import of them from the core (even a late one inside a function, which a plain `import` does not
show) would bring presentation back into the core. Checked twice: the static import graph of the
core's source, every import statement included, and what importing the core really loads.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_ROOTS = ("bot.answer", "bot.answerer", "bot.record", "bot.decide")
# Presentation and Slack: the catalog, the renderers, every Slack module of ours, Slack's SDKs.
FORBIDDEN = ("bot.text", "bot.render", "bot.listeners", "bot.slack", "slack_sdk", "slack_bolt")


def forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") or module.startswith(name + "_")
               for name in FORBIDDEN)


def source_of(module: str) -> Path | None:
    """The file of one of our modules (bot.*, index.*), None for anything else."""
    if module.split(".")[0] not in ("bot", "index"):
        return None
    base = ROOT.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imports_of(path: Path, module: str) -> set[str]:
    """Every module an import statement anywhere in the file names (late imports included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from bot import render`
    return names


def core_import_graph() -> dict[str, set[str]]:
    """Our modules reachable from the core's roots and every index module, with what each imports."""
    index_modules = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                     for p in (ROOT / "index").rglob("*.py")]
    graph: dict[str, set[str]] = {}
    todo = [*CORE_ROOTS, *index_modules]
    while todo:
        module = todo.pop()
        path = source_of(module)
        if module in graph or path is None:
            continue
        graph[module] = imports_of(path, module)
        todo.extend(graph[module])
    return graph


def test_the_core_source_imports_no_presentation_and_nothing_of_slack():
    graph = core_import_graph()
    assert {"bot.answer", "bot.decide", "bot.record", "index.search", "index.policy"} <= set(graph)
    offending = sorted(f"{module} imports {name}" for module, names in graph.items()
                       for name in names if forbidden(name))
    assert offending == []


def test_importing_the_core_loads_no_presentation_and_nothing_of_slack():
    code = ("import json, sys\n"
            f"for name in {CORE_ROOTS!r}: __import__(name)\n"
            "print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                       check=True).stdout)
    assert "bot.answer" in loaded and "index.search" in loaded
    assert [name for name in loaded if forbidden(name)] == []


def test_the_check_recognises_presentation_and_slack_modules():
    assert all(forbidden(name) for name in ("bot.text", "bot.text.catalog", "bot.render.mailto", "bot.slack_render",
                                            "bot.slack_store", "bot.listeners.stored", "slack_sdk.models"))
    assert not any(forbidden(name) for name in ("bot.answer", "bot.record", "index.search", "bot.textual"))
