"""Sentences for the load: real LoCoMo turns when the benchmark data is there (as in
``make bench``), otherwise generated ones, so that a fresh clone runs the checks too."""

from __future__ import annotations

import random

from bench import corpus

_SUBJECTS = ("Caroline", "Melanie", "my sister", "our team", "the neighbour", "Jon", "Gina")
_VERBS = ("painted", "visited", "cooked", "adopted", "repaired", "planned", "photographed")
_OBJECTS = ("a mural", "the lake house", "a lemon cake", "a puppy", "the old bike", "a road trip")
_WHEN = ("last weekend", "in May", "yesterday", "after the concert", "on her birthday")


def sentences(count: int, seed: int = 7) -> list[str]:
    if corpus.LOCOMO.exists():
        found = corpus.real_sentences(count)
        if len(found) >= count:
            return found
    rng = random.Random(seed)
    return [
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
        f"{rng.choice(_WHEN)} (note {n})."
        for n in range(count)
    ]
