"""Settings that cannot work name the variable to set; LLM errors say where they looked."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from ogmem import wiring
from ogmem.core import errors
from ogmem.llm.openai_client import OpenAIClient
from ogmem.settings import Settings


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"OGMEM_DATA_DIR": str(tmp_path), **env})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_base_url_without_a_model_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings(tmp_path, OGMEM_LLM_BASE_URL="http://127.0.0.1:11434/v1")

    with caplog.at_level(logging.WARNING):
        assert wiring.llm_from(settings) is None

    assert "OGMEM_LLM_MODEL is not" in caplog.text


def test_a_missing_llm_key_names_ogmem_llm_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = _settings(tmp_path, OGMEM_LLM_MODEL="qwen2.5")

    with pytest.raises(errors.ConfigurationError, match="OGMEM_LLM_API_KEY") as raised:
        wiring.llm_from(settings)

    assert "OPENAI_API_KEY" not in str(raised.value)


def test_the_openai_embedder_without_a_base_url_names_the_variable(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, OGMEM_EMBEDDER="openai", OGMEM_EMBEDDER_MODEL="m", OGMEM_EMBEDDER_DIMENSIONS="8"
    )

    with pytest.raises(errors.ConfigurationError, match="needs OGMEM_EMBEDDER_BASE_URL"):
        wiring.embedder_from(settings)


def test_an_unreachable_llm_is_named_with_its_port() -> None:
    port = _closed_port()
    llm = OpenAIClient(
        base_url=f"http://127.0.0.1:{port}/v1", model="m", api_key="k", max_retries=0
    )

    with pytest.raises(errors.LLMUnavailable, match=f"127.0.0.1:{port}/v1"):
        llm.complete([{"role": "user", "content": "hi"}])
