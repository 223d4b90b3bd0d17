"""Rule-based paraphrases for the dream bench: no LLM and no model, so the set is the same
on every machine.

Each paraphrase applies every rule that fits: contractions expanded (or made), synonyms
swapped from a fixed table, intensifiers dropped, greetings and interjections changed, and
the sentences of a multi-sentence turn put in another order. What a person writing the same
thing again would change; what it cannot do is say it with entirely other words (an LLM
would), so recall here is an upper bound for paraphrases that share few words.
"""

from __future__ import annotations

import re

CONTRACTIONS = {
    "i'm": "I am", "it's": "it is", "that's": "that is", "don't": "do not",
    "can't": "cannot", "i've": "I have", "you're": "you are", "we're": "we are",
    "didn't": "did not", "isn't": "is not", "i'll": "I will", "what's": "what is",
    "let's": "let us", "wasn't": "was not", "i'd": "I would", "they're": "they are",
    "doesn't": "does not", "haven't": "have not", "you've": "you have", "we've": "we have",
}  # fmt: skip
SYNONYMS = {
    "great": "wonderful", "happy": "glad", "kids": "children", "love": "adore",
    "amazing": "incredible", "awesome": "fantastic", "big": "large", "started": "began",
    "start": "begin", "went": "headed", "help": "assist", "beautiful": "lovely",
    "hard": "difficult", "picture": "photo", "pictures": "photos", "friends": "pals",
    "thanks": "thank you", "glad": "happy", "tough": "hard", "fun": "enjoyable",
    "awesome!": "fantastic!", "excited": "thrilled", "really": "truly", "lots": "plenty",
    "cool": "neat", "nice": "lovely", "trip": "journey", "job": "work", "talk": "chat",
    "idea": "thought", "support": "backing", "wanted": "wished", "want": "wish",
    "feel": "sense", "recently": "lately", "painting": "artwork", "paintings": "artworks",
    "family": "folks", "journey": "path", "dream": "goal", "dreams": "goals",
    "important": "essential", "special": "unique", "enjoy": "like", "enjoyed": "liked",
    "think": "believe", "thought": "believed", "saw": "noticed", "see": "notice",
    "made": "created", "make": "create", "together": "jointly", "lately": "recently",
}  # fmt: skip
DROPPED = {"so", "just", "super", "totally", "very", "actually", "definitely", "pretty"}
OPENERS = {"hey": "Hi", "hi": "Hello", "wow": "Oh wow", "yeah": "Yes", "oh": "Ah", "omg": "Wow"}
_TOKEN = re.compile(r"[A-Za-z']+|[^A-Za-z'\s]+|\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _swap(token: str, position: int) -> str:
    lower = token.lower()
    if position == 0 and lower in OPENERS:
        return OPENERS[lower]
    swapped = CONTRACTIONS.get(lower) or SYNONYMS.get(lower)
    if swapped is None:
        return token
    return swapped[0].upper() + swapped[1:] if token[0].isupper() else swapped


def _words(sentence: str) -> str:
    out: list[str] = []
    words = 0
    for token in _TOKEN.findall(sentence):
        if token.strip() and token[0].isalpha():
            if token.lower() in DROPPED:
                continue
            out.append(_swap(token, words))
            words += 1
        else:
            out.append(token)
    said = re.sub(r"\s+([,.!?])", r"\1", re.sub(r"\s{2,}", " ", "".join(out))).strip()
    return said[:1].upper() + said[1:]


def paraphrase(text: str) -> str:
    """``text`` said again: sentences reordered (the last first), words swapped per the
    tables. The result always differs from the input."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    if len(sentences) > 1:
        sentences = [sentences[-1], *sentences[:-1]]
    result = " ".join(_words(s) for s in sentences)
    return result if result != text.strip() else f"As I said, {result[0].lower()}{result[1:]}"
