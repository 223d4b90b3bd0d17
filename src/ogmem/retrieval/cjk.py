"""Keyword search for Chinese, Japanese and Korean text.

Full-text tokenizers split words at spaces and punctuation. Chinese and Japanese write
without spaces, so a sentence is one token and no query word matches it; Korean attaches
particles to its words ("서울에서"). Both sides of keyword search therefore also see the
overlapping two-character pieces (bigrams) of every run of CJK characters: the index gets
them as extra terms of a record, the query as extra words. Bigrams are the usual choice for
CJK full text without a dictionary (most words are one or two characters; a longer word
matches through all its bigrams); a run of one character stays a unigram.
"""

from __future__ import annotations

import re

# Han (with extensions A and compatibility ideographs), Hiragana, Katakana (with phonetic
# extensions and half-width forms) and Hangul syllables and jamo
_CJK_RUN = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]+"
)


def cjk_pieces(text: str) -> list[str]:
    """The bigrams of each CJK run in ``text`` (a one-character run: itself), in order,
    each once."""
    pieces: dict[str, None] = {}
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            pieces[run] = None
        for start in range(len(run) - 1):
            pieces[run[start : start + 2]] = None
    return list(pieces)


def cjk_terms(text: str) -> str:
    """What full text indexes beside a record's text: its CJK pieces, space-separated."""
    return " ".join(cjk_pieces(text))
