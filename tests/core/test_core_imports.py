"""The `gateway` package imports without a cycle, counting deferred imports too; the heavy
libraries are imported only by the commands and files that need them.

A module may import inside a function to stay fast at start-up, but not to hide a circle: every
`gateway.*` import anywhere in a module's code is an edge. Imports under `if TYPE_CHECKING:` are
left out, since they never run; entry points are not imports either, which is how the
configuration reaches the plugins without depending on them.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import gateway
from tests.conftest import REPO

PACKAGE = Path(gateway.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: set[str], package: str) -> set[str]:
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base])
            found.add(base.strip("."))
            found.update(f"{base}.{alias.name}".strip(".") for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    """Each `gateway` module and the `gateway` modules its code imports."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = _imports(ast.parse(path.read_text(encoding="utf-8")), modules, package) - {name}
    return graph


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 50
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
    assert order.index("gateway.config") < order.index("gateway.pipeline.process")


def test_the_graph_sees_deferred_imports() -> None:
    tree = ast.parse("def f():\n    from gateway import config\n")
    assert _imports(tree, {"gateway", "gateway.config"}, "gateway") == {"gateway", "gateway.config"}


HEAVY = ("pandas", "numpy", "lxml", "paramiko")
PROBE = """
import sys
from gateway.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("imported:", *sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def heavy_imports(*argv: str | Path, cwd: Path) -> set[str]:
    """The heavy libraries a fresh interpreter has imported after running `gateway ARGV`."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *map(str, argv)],
        capture_output=True, text=True, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("imported:")]
    return set(line.split()[1:])


def test_help_and_status_import_no_parser_library(tmp_path: Path) -> None:
    assert heavy_imports("--help", cwd=tmp_path) == set()
    assert heavy_imports("--root", tmp_path / "root", "status", cwd=tmp_path) == set()


def test_reading_a_file_imports_only_what_its_format_needs(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("adjustment_id,sku,mode,quantity_change\n" + "A1,SKU-1,delta,3\n" * 6000)
    samples = REPO / "samples" / "inbound"
    # Detection imports every reader's module: only parsing XML may import lxml. CSV is checked
    # in plain Python: pandas is for `gateway bench`.
    flat_idoc = samples / "idoc" / "orders05-purchase-order.idoc"
    for path in (big, samples / "edifact" / "desadv_d96a.edi", flat_idoc):
        assert heavy_imports("validate", path, cwd=tmp_path) == set(), path.name
    for path in (samples / "xml" / "ubl_order.xml", samples / "xml" / "cxml_order_request.xml",
                 samples / "idoc" / "orders05-extension-namespaced.xml"):  # fmt: skip
        assert heavy_imports("validate", path, cwd=tmp_path) == {"lxml"}, path.name


def test_a_run_on_edifact_imports_no_parser_library(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    edifact = (REPO / "samples" / "inbound" / "edifact" / "desadv_d96a.edi").read_bytes()
    arrived = root / "inbound" / "desadv.edi"
    arrived.write_bytes(edifact)
    os.utime(arrived, (time.time() - 60,) * 2)  # arrived a minute ago: ready at once
    assert heavy_imports("--root", root, "run", "--once", cwd=tmp_path) == set()
    assert len(list((root / "archive").rglob("*.desadv.edi"))) == 1  # accepted, not quarantined
