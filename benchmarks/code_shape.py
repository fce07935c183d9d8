"""Code shape: the ten longest functions of the package and every place that reads the
environment (issue 11 reports both before and after its refactor).

    python -m benchmarks.code_shape [CHECKOUT]

An environment read is a use of `os.environ` (indexed, `.get`, or passed on, as the edges pass
it to `settings.from_environment`), `os.getenv`, or a click option with `envvar=`;
`os.environ.setdefault(...)` (offline switches for the Hugging Face libraries) is counted
apart, since it decides nothing of ours.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from benchmarks import ROOT


def _is_os(node: ast.AST, attr: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attr
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def shape(root: Path) -> tuple[list[tuple[int, str]], list[str], list[str]]:
    files = sorted((root / "assistant").rglob("*.py")) + [root / "app.py"]
    functions, reads, defaults = [], [], []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(root).as_posix()
        nodes = list(ast.walk(tree))
        setdefaults = {
            id(n.func.value)
            for n in nodes
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "setdefault"
            and _is_os(n.func.value, "environ")
        }
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((length, f"{where}:{node.lineno} {node.name}"))
            elif isinstance(node, ast.keyword) and node.arg == "envvar":
                reads.append(f"{where}:{node.value.lineno} click envvar")
            elif _is_os(node, "getenv"):
                reads.append(f"{where}:{node.lineno} os.getenv")
            elif _is_os(node, "environ"):
                if id(node) in setdefaults:
                    defaults.append(f"{where}:{node.lineno}")
                else:
                    reads.append(f"{where}:{node.lineno} os.environ")
    return sorted(functions, reverse=True)[:10], reads, defaults


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    longest, reads, defaults = shape(root)
    print("ten longest functions (lines):")
    for length, name in longest:
        print(f"  {length:4d}  {name}")
    print(f"environment reads: {len(reads)}")
    for place in reads:
        print(f"  {place}")
    print(f"os.environ.setdefault (library offline switches): {len(defaults)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
