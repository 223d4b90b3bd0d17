"""Erasing a user, exporting and importing one: an account of two users with MEMORIES memories
each (synthetic texts, precomputed vectors, loaded through bench/loader.py into a SQLite
file), one of them erased, the other exported and imported into a new file.

The erase figure includes what SQLite's erase adds to the deletes (zeroed freed space, the
full-text index merged into one segment, the write-ahead log truncated): the merge rewrites
the whole account's full-text index, so it grows with the store, not with the user. Sanity
figures beside the timings: rows the erase removed, nodes exported and imported.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench import corpus, loader
from ogmem.core.models import RequestContext
from ogmem.engine import Engine
from ogmem.export import export_file, import_file
from ogmem.index.embedders import HashEmbedder

MEMORIES = 10_000
ACCOUNT = "bench"


def _load(store: Path) -> None:
    texts = corpus.synthetic_texts(2 * MEMORIES)
    vectors = corpus.clustered_vectors(2 * MEMORIES)
    with Engine.open(store, embedder=HashEmbedder(), worker=False) as engine:
        loader.load(engine, ACCOUNT, "gone", texts[:MEMORIES], vectors[:MEMORIES])
        loader.load(engine, ACCOUNT, "kept", texts[MEMORIES:], vectors[MEMORIES:])


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        store, exported = Path(tmp) / "erase.sqlite", Path(tmp) / "kept.jsonl"
        _load(store)
        with Engine.open(store, embedder=HashEmbedder(), worker=False) as engine:
            started = time.perf_counter()
            report = engine.forget_user(RequestContext(ACCOUNT, "gone"))
            erase_s = time.perf_counter() - started
            started = time.perf_counter()
            written = export_file(engine.backend, exported, ACCOUNT, "kept", sessions=True)
            export_s = time.perf_counter() - started
        with Engine.open(Path(tmp) / "copy.sqlite", embedder=HashEmbedder(), worker=False) as dest:
            started = time.perf_counter()
            with exported.open(encoding="utf-8") as text:
                _, done, _ = import_file(dest.backend, text, dest.embedder.model_id)
            import_s = time.perf_counter() - started
    return {
        "erase_user_s_10k_memories": erase_s,
        "erase_user_rows_removed": float(report.total),
        "export_nodes_per_s": written.counts["nodes"].written / export_s,
        "export_nodes_written": float(written.counts["nodes"].written),
        "import_nodes_per_s": done.counts["nodes"].written / import_s,
        "import_nodes_written": float(done.counts["nodes"].written),
    }
