"""Settings read from the environment; only the edges (CLI, server, MCP) call from_env()."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_PREFIX = "OGMEM_"
DEFAULT_STORE_FILE = "ogmem.sqlite"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    store: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get(f"{ENV_PREFIX}DATA_DIR") or platformdirs.user_data_dir("ogmem"))
        store = env.get(f"{ENV_PREFIX}STORE") or str(data_dir / DEFAULT_STORE_FILE)
        return cls(data_dir=data_dir.expanduser(), store=store)
