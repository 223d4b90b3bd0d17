"""Nothing above the store names an adapter or a driver: logic gets a Backend from
``ogmem.store.open_backend`` and talks to its ports. Read from the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool", "pgvector", "pgserver")
# the one baseline that is the driver on purpose: the writer is compared with a bare INSERT
DRIVER_BASELINES = {"bench/writer_bench.py": {"sqlite3"}}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import of a file."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def _above_the_store() -> list[Path]:
    store = ROOT / "src" / "ogmem" / "store"
    sources = [*(ROOT / "src" / "ogmem").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    return [path for path in sources if store not in path.parents]


def test_no_module_above_the_store_names_an_adapter_or_a_driver() -> None:
    offences = []
    for path in _above_the_store():
        relative = str(path.relative_to(ROOT))
        allowed = DRIVER_BASELINES.get(relative, set())
        for module, names in _imports(path):
            top = module.split(".")[0]
            if top in DRIVERS and top not in allowed:
                offences.append(f"{relative}: imports the driver {module}")
            if module.startswith("ogmem.store."):
                offences.append(f"{relative}: imports the adapter module {module}")
            if module == "ogmem.store" and set(names) - {"open_backend"}:
                offences.append(f"{relative}: imports {names} from ogmem.store")
            adapters = [n for n in names if n.startswith(("Sqlite", "Postgres", "Sql"))]
            if adapters:
                offences.append(f"{relative}: names the adapter class(es) {adapters}")
    assert offences == []


def test_the_check_sees_an_offence() -> None:
    """The walk above reads real imports (it would catch a module that imports an adapter)."""
    engine = ROOT / "src" / "ogmem" / "engine.py"
    assert ("ogmem.store", ["open_backend"]) in _imports(engine)
    assert engine in _above_the_store()
