"""The package's layout (ARCHITECTURE.md): stages that import one way, from the CLI down to the model; each
package's docstring says what it may import, and that is what it imports; no import circle; no private name taken
from another package; no source file over 400 lines; JSON and CSV output load no rich (nor matplotlib).

The import graph is read from the source (an AST walk), so an import inside a function or under TYPE_CHECKING
counts like one at the top: a lazy import hides a circle at run time, not in the design.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "llmcalc"

# The stages, earliest first: a module may import its own stage and earlier ones, never a later one.
# `llmcalc` itself (the lazy facade of llmcalc/__init__.py) comes after all of them.
STAGES = [
    {"errors", "units", "records"},
    {"model", "figures", "mixers", "grouping", "vision"},
    {"spec"},
    {"hardware"},
    {"importers"},
    {"checkpoints"},
    {"sources"},
    {"formulas"},
    {"api", "results", "checks", "roofline", "explanations"},
    {"present"},
    {"render"},
    {"cli"},
    {"__main__"},
]
FACADE = "llmcalc"
MAX_LINES = 400


def stage_of(module: str) -> str:
    """'llmcalc.spec.builder' -> 'spec'; 'llmcalc' -> 'llmcalc'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else FACADE


def rank(stage: str) -> int:
    if stage == FACADE:
        return len(STAGES)
    return next(i for i, names in enumerate(STAGES) if stage in names)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    base = PACKAGE.parent.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every llmcalc import in the file."""
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names if alias.name.startswith(FACADE)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != FACADE and not target.startswith(FACADE + "."):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, None, node.lineno) if is_module(sub) else (target, alias.name, node.lineno))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {module_name(p): imports(p) for p in SOURCES}


def test_every_stage_is_a_package_or_module_here():
    on_disk = {stage_of(module_name(p)) for p in SOURCES} - {FACADE}
    assert on_disk == set().union(*STAGES)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_imports_a_later_stage(module):
    late = [(target, line) for target, _, line in GRAPH[module] if rank(stage_of(target)) > rank(stage_of(module))]
    assert not late, f"{module} imports a later stage: {late}"


def declared(module: str) -> set[str] | None:
    """The stages a stage's docstring (its package __init__ or its module) says it may import."""
    path = PACKAGE / module.split(".")[1]
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    match = re.search(r"May import: (.*?)(?:\n\n|$)", doc, re.S)
    if not match:
        return None
    text = match.group(1)
    if text.startswith("every earlier stage"):
        return set().union(*STAGES[: rank(stage_of(module))])
    return {stage_of(name) for name in re.findall(r"llmcalc(?:\.\w+)+", text)}


@pytest.mark.parametrize("stage", sorted(set().union(*STAGES)))
def test_each_stage_says_what_it_may_import_and_keeps_to_it(stage):
    allowed = declared(f"{FACADE}.{stage}")
    assert allowed is not None, f"llmcalc.{stage}: its docstring has no 'May import:' line"
    used = {stage_of(target) for module, edges in GRAPH.items() if stage_of(module) == stage
            for target, _, _ in edges} - {stage}
    assert used <= allowed, f"llmcalc.{stage} imports {sorted(used - allowed)}, which its docstring does not allow"


def test_no_import_circle():
    edges = {module: {target for target, _, _ in targets if target != module} for module, targets in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                circle = path[path.index(target):] + [target] if target in path else [module, target]
                pytest.fail("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])


def test_no_private_name_taken_from_another_package():
    reached = [(module, target, name, line) for module, targets in GRAPH.items() for target, name, line in targets
               if stage_of(target) != stage_of(module)
               and any(part.startswith("_") and not part.startswith("__")
                       for part in target.split(".") + ([name] if name else []))]
    assert not reached, f"private names used across packages: {reached}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_source_file_over_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines; split it (ARCHITECTURE.md)"


def test_every_package_says_what_it_holds():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 80, f"{init.relative_to(PACKAGE.parent)} needs a docstring saying what it holds"


COMMANDS = [
    ["count", "gpt2-small"], ["flops", "llama3-8b", "--training"], ["memory", "mixtral-8x7b"],
    ["fit", "llama3-8b"], ["compare", "gpt2-small", "llama3-8b"], ["sweep", "llama3-8b", "--vary", "context=1k..4k"],
    ["verify", "gpt2-small"], ["list"], ["speed", "llama3-8b"], ["plan", "llama3-8b", "--n-gpus", "8"],
    ["explain", "gpt2-small", "llama3-8b"], ["count", str(Path(__file__).parent / "data/checkpoints/tiny-llama")],
    ["check", str(Path(__file__).parent / "data/checkpoints/tiny-llama/config.json"),
     str(Path(__file__).parent / "data/checkpoints/tiny-llama")],
]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_json_and_csv_load_no_rich(fmt):
    """Every command in JSON or CSV, in one process: no rich module, no table or Markdown renderer is loaded."""
    code = (
        "import contextlib, io, sys\n"
        "from llmcalc.cli import cli\n"
        f"for args in {COMMANDS!r}:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        f"        cli.main(args + ['--format', {fmt!r}], prog_name='llmcalc', standalone_mode=False)\n"
        "    assert out.getvalue().strip(), args\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert f"llmcalc.render.{fmt}" in loaded
    assert not {m for m in loaded if m == "rich" or m.startswith("rich.")}
    assert not loaded & {"llmcalc.render.terminal", "llmcalc.render.markdown", "llmcalc.render.chart",
                         "llmcalc.render.plot", "matplotlib"}  # matplotlib only for --plot (and images)


def test_the_table_renderer_is_the_one_that_loads_rich():
    code = ("import contextlib, io, sys\nfrom llmcalc.cli import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    cli.main(['count', 'gpt2-small'], prog_name='llmcalc', standalone_mode=False)\n"
            "print(' '.join(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert {"rich.table", "llmcalc.render.terminal"} <= loaded
    assert not loaded & {"llmcalc.render.json", "llmcalc.render.csv", "llmcalc.render.markdown"}
