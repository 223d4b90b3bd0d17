"""Benchmark inputs: real sentences from the LoCoMo dev file, synthetic texts and vectors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "bench" / "locomo" / "locomo-dev.json"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def locomo_turns(path: Path = LOCOMO) -> list[str]:
    if not path.exists():
        raise SystemExit(f"benchmark data missing: {path} (see ../shared/bench/README.md)")
    turns: list[str] = []
    for conversation in json.loads(path.read_text()):
        sessions = conversation["conversation"]
        for key, value in sessions.items():
            if key.startswith("session_") and isinstance(value, list):
                turns.extend(turn["text"] for turn in value if turn.get("text"))
    return turns


def real_sentences(count: int) -> list[str]:
    """Distinct sentences of at least four words, in conversation order."""
    sentences: dict[str, None] = {}
    for turn in locomo_turns():
        for sentence in _SENTENCE_END.split(turn):
            if len(sentence.split()) >= 4:
                sentences.setdefault(sentence.strip(), None)
        if len(sentences) >= count:
            break
    return list(sentences)[:count]


def clustered_vectors(
    count: int, dimensions: int = 384, clusters: int = 256, seed: int = 7
) -> npt.NDArray[np.float32]:
    """Unit vectors around random centroids: nearest neighbours are meaningful, as in real data."""
    rng = np.random.default_rng(seed)
    centroids = rng.standard_normal((clusters, dimensions)).astype(np.float32)
    members = centroids[rng.integers(0, clusters, count)]
    vectors = members + 0.6 * rng.standard_normal((count, dimensions)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def synthetic_texts(count: int, seed: int = 7) -> list[str]:
    """Texts of 8-20 words drawn from the LoCoMo vocabulary with Zipf's law over the words'
    real frequency ranks (so "the" and "and" are common and "cello" is rare, as in life)."""
    counts: dict[str, int] = {}
    for turn in locomo_turns():
        for word in re.findall(r"[A-Za-z]+", turn):
            counts[word.lower()] = counts.get(word.lower(), 0) + 1
    vocabulary = sorted(counts, key=lambda w: (-counts[w], w))
    rng = np.random.default_rng(seed)
    ranks = (rng.zipf(1.1, size=count * 20) - 1) % len(vocabulary)
    lengths = rng.integers(8, 21, count)
    texts, cursor = [], 0
    for length in lengths:
        texts.append(" ".join(vocabulary[i] for i in ranks[cursor : cursor + length]))
        cursor += length
    return texts
