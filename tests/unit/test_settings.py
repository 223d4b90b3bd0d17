from __future__ import annotations

from pathlib import Path

import pytest

from ogmem.core import errors
from ogmem.index.embedders import HashEmbedder, make_embedder
from ogmem.settings import Settings
from ogmem.wiring import llm_from, open_engine


def test_defaults_use_the_data_dir() -> None:
    settings = Settings.from_env({"OGMEM_DATA_DIR": "/tmp/x"})
    assert settings.store == str(Path("/tmp/x") / "ogmem.sqlite")
    assert settings.embedder == "minilm" and not settings.llm_configured
    assert llm_from(settings) is None


def test_embedder_and_llm_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "OGMEM_STORE": str(tmp_path / "s.sqlite"),
            "OGMEM_EMBEDDER": "hash",
            "OGMEM_LLM_MODEL": "gpt-x",
            "OGMEM_LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "OGMEM_LLM_API_KEY": "sk-secret",
        }
    )
    assert "sk-secret" not in repr(settings)
    with open_engine(settings) as engine:
        assert isinstance(engine.embedder, HashEmbedder)
        assert engine.llm is not None
        assert engine.describe_store() == str(tmp_path / "s.sqlite")


def test_bad_numbers_name_the_variable() -> None:
    with pytest.raises(errors.ConfigurationError, match="OGMEM_EMBEDDER_DIMENSIONS"):
        Settings.from_env({"OGMEM_EMBEDDER_DIMENSIONS": "many"})


def test_options_that_the_embedder_does_not_take_are_refused() -> None:
    with pytest.raises(errors.ConfigurationError, match="minilm"):
        make_embedder("minilm", model="x")


def test_vector_index_choice(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "OGMEM_STORE": str(tmp_path / "v.sqlite"),
            "OGMEM_EMBEDDER": "hash",
            "OGMEM_VECTOR_INDEX": "hnsw",
        }
    )
    with open_engine(settings) as engine:
        assert type(engine.vectors).__name__ == "HnswVectorIndex"
    default = Settings.from_env(
        {"OGMEM_STORE": str(tmp_path / "d.sqlite"), "OGMEM_EMBEDDER": "hash"}
    )
    assert default.vector_index is None  # the store's own default: exact on SQLite
    with open_engine(default) as engine:
        assert type(engine.vectors).__name__ == "NumpyVectorIndex"
    bad = Settings.from_env({"OGMEM_STORE": str(tmp_path / "w.sqlite"), "OGMEM_EMBEDDER": "hash",
                             "OGMEM_VECTOR_INDEX": "faiss"})  # fmt: skip
    with pytest.raises(errors.ConfigurationError, match="unknown vector index 'faiss'"):
        open_engine(bad)
