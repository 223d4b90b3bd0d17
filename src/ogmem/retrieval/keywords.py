"""The words of a query that keyword search looks for, and the hash recall signals keep."""

from __future__ import annotations

import hashlib
import re

from ogmem.retrieval.cjk import cjk_pieces

_WORD = re.compile(r"\w+", re.UNICODE)
# Function words carry no topic; OR-ing them into the query only makes full-text search rank
# (and scan) every record that contains "the". A query made only of them keeps them.
STOPWORDS = frozenset(
    """
    a about above after again all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    """.split()
)


def keyword_terms(query: str) -> list[str]:
    """The query's distinct words, lower-cased, in order, stop words left out (unless the
    query has nothing else), then the two-character pieces of its CJK text (see cjk)."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    kept = [w for w in words if w not in STOPWORDS] or words
    return kept + [piece for piece in cjk_pieces(query) if piece not in kept]


def query_hash(query: str) -> str:
    return hashlib.sha256(query.strip().lower().encode()).hexdigest()[:16]
