"""LoCoMo's annotations as a ReplayLLM: per session, the memories of its observations and
events (mapped in ``replay_mapping``) and its summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ogmem.core import errors
from ogmem.core.models import Message
from ogmem.eval import locomo_data, replay_mapping
from ogmem.llm.replay import ReplayLLM, ReplayMemory, ReplaySession


def replay_llm(path: str | Path) -> ReplayLLM:
    """The replay of every session of a LoCoMo file."""
    return ReplayLLM(sessions(path))


def sessions(path: str | Path) -> list[ReplaySession]:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise errors.InvalidInput(f"cannot read LoCoMo file {path}: {exc}") from exc
    found = []
    for item, conversation in zip(raw, locomo_data.load(path), strict=True):
        for key, messages in conversation.sessions:
            found.append(session(item, key, messages))
    return found


def session(item: dict[str, Any], key: str, messages: list[Message]) -> ReplaySession:
    """One session (``key`` "session_3") of a LoCoMo conversation ``item``."""
    number = key.removeprefix("session_")
    events = item.get("event_summary", {}).get(f"events_session_{number}", {})
    observed = item.get("observation", {}).get(f"session_{number}_observation", {})
    date = str(events.get("date") or messages[0].created_at.date().isoformat())
    by_id = {m.message_id: m for m in messages if m.message_id}
    order = {message_id: place for place, message_id in enumerate(by_id)}
    memories: list[ReplayMemory] = []
    for speaker, facts in observed.items():
        for text, sources in _facts(facts):
            ids, _ = locomo_data.normalise_evidence(sources, set(by_id))
            if ids:
                ordered = replay_mapping.with_question(sorted(ids, key=order.__getitem__), messages)
                memories.append(
                    replay_mapping.observation_memory(speaker, text, ordered, by_id, date)
                )
    for speaker, texts in events.items():
        for text in texts if speaker != "date" and isinstance(texts, list) else []:
            memories.append(replay_mapping.summary_event(speaker, str(text), by_id, date))
    summary = str(item.get("session_summary", {}).get(f"session_{number}_summary", ""))
    return ReplaySession(tuple(messages), tuple(m for m in memories if m.source_ids), summary)


def _facts(facts: object) -> list[tuple[str, list[str]]]:
    """(text, evidence ids) of each observation; the ids may be one string or a list."""
    found = []
    for fact in facts if isinstance(facts, list) else []:
        if isinstance(fact, list) and len(fact) == 2:
            sources = fact[1] if isinstance(fact[1], list) else [fact[1]]
            found.append((str(fact[0]), [str(source) for source in sources]))
    return found
