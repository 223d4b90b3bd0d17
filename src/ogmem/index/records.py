"""Index records of a node: its non-empty, distinct levels, and what each vector is made of
(pure).

A level's vector is the embedding of its text, or, when the text is made of known pieces, it
is composed (``Composed``) from the pieces' vectors. IndexSync embeds each distinct piece of
a batch once, so pieces that several records share cost one embedding. Full text always
indexes the whole level text.

Composed levels are those of transcript nodes, whose texts are messages written as
"Speaker: text" lines: raw memories (metadata ``extraction: raw``), session archives with
a deterministic summary (their overview: the first messages, one per line) and the parts of
a session's transcript (their content: its messages, "[time] Speaker (role): text"); and the
abstract of a directory's deterministic summary, which lists its newest children.

- A message is composed of who said it, its first sentence, the rest and the whole text,
  each weighing the same: the first sentence (what a message is usually about) weighs as much
  as the rest, and the speaker, whom questions name, is a component of its own. The three
  stretches of the text are ``Part``s of it: the model reads the text once and pools each
  stretch from that run (late chunking, index/late_chunks.py), so a message costs one model
  run, not two; an embedder that cannot pool reads the first sentence and the rest alone, and
  the whole is derived from them (index/sync.py). A raw memory's abstract (its speaker and
  opening sentences, for lists) is indexed as its content's first two pieces, "Speaker:
  first sentence", text and vector, whatever the abstract runs to; a speaker is embedded
  once per batch.
- A raw memory's overview (the message it follows, a new line, then its content) is composed
  of those two messages; the one before is split as its own memory is, so in a batch holding
  both memories the overview costs no embedding at all.
- A deterministic session archive has one vector for its three levels, composed of its
  overview's messages: raw mode's memories of the same commit supply every piece. The model
  would read only the first 256 tokens of the transcript, the opening messages the overview
  lists, and the abstract is a template ("Conversation of 2023-05-08 between Caroline,
  Melanie (18 messages)") that tells one session of two people from the next by a date; full
  text still finds every word of all three. The overview's last message, when the summary's
  limit clipped it ("…"), is left out: its clipped text is no message any memory holds, and
  reading it cost a model run per session.
- A part of a session's transcript has the vector of its messages for its abstract as for
  its content: the abstract is a template again ("Session s1, 2023-05-08 13:56, Caroline,
  Melanie (18 messages)"), whose ~30 tokens the model read for each part.

LoCoMo dev, raw mode (docs/decisions.md): R@10 0.648 -> 0.689, R@50 0.837 -> 0.860, up on
each of the five conversations, and ingest embeds 1.1x the tokens of the bare messages
instead of 5x.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ogmem.core.models import ContextNode, ContextType, IndexRecord
from ogmem.extraction.raw import SPEAKER_LIMIT, first_sentence
from ogmem.retrieval.cjk import cjk_terms

LEVELS = ("abstract", "overview", "content")


@dataclass(frozen=True, slots=True)
class Part:
    """A stretch of a text, ``whole[start:end]``, embedded as read within the whole: an
    embedder that can (``ports.PartEmbedder``) runs its model over ``whole`` once and pools
    the stretch's tokens, others embed the stretch alone. A message's first sentence and its
    rest cost one run of the message instead of two runs of their own."""

    whole: str
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.whole[self.start : self.end]


@dataclass(frozen=True, slots=True)
class Opening:
    """A message's first sentence as the run over its message read it, remembered from when
    the message was indexed (IndexSync), or read alone if it was not. A directory summary
    lists its children's openings, cut from their abstracts, not the messages the runs read:
    this shares the children's vectors, so a summary rewritten at every commit costs no run."""

    text: str


@dataclass(frozen=True, slots=True)
class Composed:
    """A vector made of pieces: the normalised sum of the pieces' unit vectors, each weighing
    the same. A piece is a text to embed, a part of one or, nested, another composition."""

    parts: tuple[str | Part | Opening | Composed, ...]

    def texts(self) -> list[Piece]:
        return [text for part in self.parts for text in _texts(part)]


Source = str | Part | Opening | Composed  # what a record's vector is made of
Readable = str | Part  # what the embedder reads: a text, or a part of one
Piece = Readable | Opening  # the leaves of a Source: read, or recalled by IndexSync


@dataclass(frozen=True, slots=True)
class PlannedRecord:
    record: IndexRecord
    source: Source

    def texts(self) -> list[Piece]:
        """The texts (and parts of texts) to embed for this record's vector."""
        return _texts(self.source)


def records_for(node: ContextNode) -> list[PlannedRecord]:
    """Up to three records (L0 abstract, L1 overview, L2 content), each with its source.

    Empty levels are skipped, and so is a level whose text repeats a lower level's (a one-line
    memory has abstract == content): the same text embedded twice only costs time and crowds
    out other memories in the nearest-neighbour list.

    A directory summary gives only its abstract: its overview lists its children's abstracts,
    which are indexed as the children themselves, and re-embedding that long text on every
    refresh cost ~5 % of the embedder's time during a bulk ingest (bench: ingest).
    """
    planned: list[PlannedRecord] = []
    seen: set[str] = set()
    levels = LEVELS[:1] if node.context_type is ContextType.DIRECTORY else LEVELS
    texts = [getattr(node, name).strip() for name in LEVELS]
    texts[2] = _with_quote(node, texts[2])
    sources = _sources(node, texts)
    if node.metadata.get("extraction") == "raw" and texts[2]:
        # the abstract shows the opening sentences (for lists); it is indexed as the opening
        # its vector is made of, speaker and first sentence: the longer text, indexed in full,
        # cost LoCoMo R@50 0.861 -> 0.856, and the content's record holds every word anyway
        texts[0] = _opening_text(texts[2])
    for level, _ in enumerate(levels):
        text = texts[level]
        if not text or text in seen:
            continue
        seen.add(text)
        planned.append(PlannedRecord(_record(node, level, text), sources[level]))
    return planned


def _with_quote(node: ContextNode, content: str) -> str:
    """An extracted memory's content with its evidence quote, the speaker's own words: a later
    question tends to use them, where the memory restates them in the model's words."""
    quote = node.metadata.get("evidence_quote")
    if node.context_type is not ContextType.MEMORY or not isinstance(quote, str):
        return content
    quote = quote.strip()
    return f"{content}\n“{quote}”" if content and quote and quote not in content else content


def _sources(node: ContextNode, texts: list[str]) -> list[Source]:
    abstract, overview, content = texts
    deterministic = node.metadata.get("summary") == "deterministic"
    if node.context_type is ContextType.SESSION and node.metadata.get("part_of"):
        # a part of a session's transcript: its messages, each as a raw memory's message
        lines = [_message(_speaker_line(line)) for line in content.splitlines() if line.strip()]
        if lines:
            whole = Composed(tuple(lines)) if len(lines) > 1 else lines[0]
            return [whole, overview, whole]
    if node.context_type is ContextType.SESSION and deterministic:
        shown = [line for line in overview.splitlines() if line.strip()]
        if len(shown) > 1 and shown[-1].endswith("…"):
            shown.pop()
        lines = [_message(line) for line in shown]
        if lines:
            whole = Composed(tuple(lines)) if len(lines) > 1 else lines[0]
            return [whole, whole, whole]
    if node.context_type is ContextType.DIRECTORY and deterministic:
        return [_listing(abstract, overview), overview, content]
    if node.metadata.get("extraction") == "raw":
        return [_opening(content), _in_context(overview, content), _message(content)]
    return list(texts)


def _listing(abstract: str, overview: str) -> Source:
    """A deterministic directory summary's abstract ("N memories in D: A1; A2; ...", the
    newest children's abstracts, clipped) as the children it shows, each as its own abstract's
    vector is made: speaker and first sentence, or the abstract whole. The children were
    embedded when they were indexed, so a summary rewritten at every commit costs no model run
    (one run of its ~75 tokens was half the embedding time of an agent's turn)."""
    listed = abstract.partition(": ")[2]
    shown: list[Source] = []
    for line in overview.splitlines():
        child = line.removeprefix("- ").strip().removesuffix("…")
        shown_part = listed[:-1].rstrip() if listed.endswith("…") else ""
        clipped_here = bool(shown_part) and child.startswith(shown_part)
        if not child or not (listed.startswith(child) or clipped_here):
            break
        speaker, first, _ = _pieces(child)
        opening = Opening(first.text) if isinstance(first, Part) else first
        shown.append(_of((speaker, opening), child) if speaker else child)
        listed = listed[len(child) :].removeprefix("; ")
        if clipped_here or not listed:
            break
    if not shown:
        return abstract
    return Composed(tuple(shown)) if len(shown) > 1 else shown[0]


_TRANSCRIPT_LINE = re.compile(r"^\[[^\]]*\] (?P<name>[^()\n]*?) \((?P<role>[^()\n]*)\): ")


def _speaker_line(line: str) -> str:
    """A transcript line "[time] Name (role): text" as a message "Name: text"."""
    found = _TRANSCRIPT_LINE.match(line)
    return f"{found['name']}: {line[found.end() :]}" if found else line


def _in_context(overview: str, content: str) -> Source:
    """The message before, then the content on a new line: two messages; else the text."""
    head, joint, tail = overview.rpartition("\n" + content) if content else ("", "", "")
    if joint and not tail and head.strip():
        return Composed((_message(head), _message(content)))
    return overview


@functools.lru_cache(maxsize=1024)  # a message is parsed for its memory and the next overview
def _pieces(line: str) -> tuple[str, Readable, Readable]:
    """A message written "Speaker: text" as (speaker, first sentence or whole text, rest);
    the first sentence and the rest are parts of the text, empty pieces are ""."""
    line = line.strip()
    speaker, colon, text = line.partition(": ")
    if not colon or not speaker.strip() or len(speaker) > SPEAKER_LIMIT or "\n" in speaker:
        speaker, text = "", line
    text = text.strip()
    first = first_sentence(text)
    rest = text[len(first) :].strip() if first and text.startswith(first) else ""
    if not rest:
        return speaker.strip(), text, ""
    return speaker.strip(), Part(text, 0, len(first)), Part(text, len(text) - len(rest), len(text))


def _message(line: str) -> Source:
    """A message written "Speaker: text": the speaker, its first sentence, the rest and, when
    there is a rest, the whole text, each a part of the one run over the text."""
    speaker, first, rest = _pieces(line)
    if isinstance(first, Part):
        return _of((speaker, first, rest, Part(first.whole, 0, len(first.whole))), line)
    return _of((speaker, first, rest), line)


def _opening(line: str) -> Source:
    """A message's speaker and first sentence: the vector of a raw memory's abstract, whose
    text (the opening sentences, for lists) may run past the first sentence."""
    return _of(_pieces(line)[:2], line)


def _opening_text(line: str) -> str:
    speaker, first, _ = _pieces(line)
    first_text = first.text if isinstance(first, Part) else first
    return f"{speaker}: {first_text}" if speaker else first_text


def _of(pieces: tuple[Piece, ...], line: str) -> Source:
    parts = tuple(part for part in pieces if part)
    return Composed(parts) if len(parts) > 1 else (parts[0] if parts else line.strip())


def _texts(source: Source) -> list[Piece]:
    return source.texts() if isinstance(source, Composed) else [source]


def _record(node: ContextNode, level: int, text: str) -> IndexRecord:
    return IndexRecord(
        account_id=node.account_id,
        uri=node.uri,
        level=level,
        text=text,
        owner_space=node.owner_space,
        category=node.category,
        context_type=node.context_type,
        status=node.status,
        node_version=node.version,
        terms=cjk_terms(text),
    )
