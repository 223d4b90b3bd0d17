"""How LoCoMo's annotations become the memories a model following the schema guidance proposes.

- An ``event_summary`` entry (a dated event of one speaker) is an ``event`` on the session's
  date, from the speaker's message that says most of it (the annotation names no message).
- An ``observation`` (a fact about a speaker, with the message it came from) is
  - a ``preference`` when it says what the speaker likes, loves, enjoys, prefers or dislikes
    (one node per speaker and topic: "melanie-painting");
  - an ``entity`` when it is about someone or something of the speaker's ("Melanie's kids
    ..."; one node per speaker and thing: "melanie-kids");
  - the ``profile`` when it is a lasting fact about who the speaker is (job, home, family,
    age, identity, education; the single profile node of the user);
  - else an ``event``: what happened or is planned, dated by the time it names ("last
    Saturday", "three years ago", resolved by the product against the message's date) or, as
    the structuring prompt asks, the date of the message that reports it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ogmem.core import uri
from ogmem.core.models import Message
from ogmem.llm.replay import ReplayMemory
from ogmem.llm.replay_answers import clip

_PREFERENCE = re.compile(
    r"\b(?P<verb>loves?|likes?|enjoys?|prefers?|favou?rites?|(?:is |are )?(?:a )?fans? of|"
    r"passionate about|hates?|dislikes?|(?:is |are )?fond of|(?:is |are )?into)\s+(?P<rest>.+)",
    re.IGNORECASE,
)
_PROFILE = re.compile(
    r"\b(works? (?:as|at|for|in)|job|career|profession|lives? in|is from|grew up|moved (?:to|from)|"
    r"years? old|married|divorced|single (?:parent|mom|dad)|identif(?:y|ies)|transgender|"
    r"studies|studying|degree|graduated|has (?:a|an|one|two|three|four|\d+) "
    r"(?:kids?|children|sons?|daughters?|husband|wife|partner|dogs?|cats?|pets?))\b",
    re.IGNORECASE,
)
_ANIMALS = {
    "dog",
    "dogs",
    "cat",
    "cats",
    "pet",
    "pets",
    "puppy",
    "kitten",
    "horse",
    "snake",
    "turtle",
}
_PEOPLE = {
    "kids", "kid", "children", "child", "son", "daughter", "husband", "wife", "partner", "mom",
    "mother", "dad", "father", "sister", "brother", "friend", "friends", "family", "grandma",
    "grandmother", "grandpa", "grandfather", "parents", "boyfriend", "girlfriend", "cousin",
    "aunt", "uncle", "team", "colleague", "colleagues", "boss", "mentor", "mentors",
}  # fmt: skip
_WHEN = re.compile(
    r"\b(yesterday|today|tonight|last (?:night|week|weekend|month|year|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday)|next (?:week|weekend|month|year)|this "
    r"(?:week|weekend|month|year)|(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"\d+) (?:days?|weeks?|months?|years?) ago)\b",
    re.IGNORECASE,
)
_STOP = frozenset(
    "a an the and or of to in on at for with by from is are was were be been being it its this "
    "that these those as about into her his their she he they them i me my we our you your has "
    "have had not no so very also just than then there what which who whom how when where up "
    "out some any all each more most other such only own same can will would could should".split()
)


def with_question(sources: list[str], messages: Sequence[Message]) -> list[str]:
    """``sources`` (in order) and, when the first answers a question of the other speaker, that
    question first: the span prompt asks for "the question that a message answers", and the
    memory comes from both."""
    ids = [m.message_id for m in messages]
    place = ids.index(sources[0]) if sources and sources[0] in ids else 0
    before, source = (messages[place - 1], messages[place]) if place else (None, None)
    if before is None or source is None or before.name == source.name or not before.message_id:
        return sources
    return [before.message_id, *sources] if "?" in before.content else sources


def words(text: str) -> list[str]:
    """The content words of ``text``, lowercased."""
    return [w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOP and len(w) > 1]


def observation_memory(
    speaker: str, text: str, sources: Sequence[str], messages: dict[str, Message], date: str
) -> ReplayMemory:
    """The memory a model proposes for one observation about ``speaker``."""
    base = _base(speaker, text, sources, messages)
    possessive = re.match(rf"{re.escape(speaker)}'s (?P<thing>[A-Za-z]+)", text)
    preference = _PREFERENCE.search(text)
    if possessive:
        return _entity(base, speaker, possessive["thing"].lower())
    if preference and preference.start() < len(text) // 2:
        return _preference(base, speaker, preference["verb"].lower(), preference["rest"])
    if _PROFILE.search(text):
        return ReplayMemory("profile", {**base, "facts": [text]})
    stated = _WHEN.search(text)
    return event_memory(base, stated[0] if stated else date, date)


def event_memory(base: dict[str, Any], when: str, date: str) -> ReplayMemory:
    """An event: ``when`` as the model copies it (the product resolves relative dates);
    ``date``: the session's."""
    text = base["content"]
    arguments = {
        **base,
        "routing_key": "-".join(words(text)[1:6]) or "event",
        "when": when,
        "content": f"{text} (said on {date})",
    }
    return ReplayMemory("event", arguments)


def summary_event(speaker: str, text: str, messages: dict[str, Message], date: str) -> ReplayMemory:
    """An ``event_summary`` entry: its source is the speaker's message that shares the most
    words with it (the annotation names none)."""
    mine = [m for m in messages.values() if m.name == speaker and m.message_id]
    wanted = set(words(text))
    best = max(mine, key=lambda m: len(wanted & set(words(m.content))), default=None)
    sources = [best.message_id] if best is not None and best.message_id else []
    return event_memory(_base(speaker, text, sources, messages), date, date)


def _base(
    speaker: str, text: str, sources: Sequence[str], messages: dict[str, Message]
) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "abstract": clip(text, 300),
        "overview": text,
        "content": text,
        "confidence": 0.9,
        "who": speaker,
        "source_message_ids": list(sources),
    }
    quote = _quote(text, [messages[s] for s in sources if s in messages])
    if quote:
        arguments["evidence_quote"] = quote
    return arguments


def _quote(fact: str, sources: Sequence[Message]) -> str:
    """The sentence of the source messages that shares the most words with the fact, verbatim
    (the first on a tie). All sources are read: the first is often the question the fact
    answers, which shows nothing."""
    wanted = set(words(fact))
    sentences = [
        sentence
        for message in sources
        for sentence in re.split(r"(?<=[.!?])\s+", message.content.strip())
    ]
    if not sentences:
        return ""
    sentence = max(sentences, key=lambda s: len(wanted & set(words(s))))
    return sentence[:200].rsplit(" ", 1)[0] if len(sentence) > 200 else sentence


def _entity(base: dict[str, Any], speaker: str, thing: str) -> ReplayMemory:
    kind = "animal" if thing in _ANIMALS else "person" if thing in _PEOPLE else "other"
    arguments = {
        **base,
        "routing_key": uri.slugify(f"{speaker}-{thing}", 64),
        "entity_name": f"{speaker}'s {thing}",
        "kind": kind,
        "relation": f"{speaker}'s {thing}",
    }
    return ReplayMemory("entity", arguments)


def _preference(base: dict[str, Any], speaker: str, verb: str, rest: str) -> ReplayMemory:
    # The topic is what the verb governs, up to the first clause boundary ("pottery and ...").
    phrase = re.split(r",|;|\.| and | because | as | when | with | to ", rest, maxsplit=1)[0]
    topic = " ".join(words(phrase)[:2]) or "general"
    stance = "dislikes" if verb.startswith(("hate", "dislike")) else "likes"
    arguments = {
        **base,
        "routing_key": uri.slugify(f"{speaker}-{topic}", 64),
        "topic": topic,
        "stance": stance,
    }
    return ReplayMemory("preference", arguments)
