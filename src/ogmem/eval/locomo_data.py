"""Reading LoCoMo files (Maharana et al., ACL 2024): conversations, sessions, questions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ogmem.core import errors
from ogmem.core.models import Message

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
_DATE_FORMAT = "%I:%M %p on %d %B, %Y"  # "1:56 pm on 8 May, 2023"
_EVIDENCE_SPLIT = re.compile(r"[;,\s]+")
_EVIDENCE = re.compile(r"^D:?(\d+):0*(\d+)$")


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    category: int
    evidence: frozenset[str]
    unresolvable: int
    answer: str = ""


@dataclass(frozen=True, slots=True)
class Conversation:
    sample_id: str
    sessions: list[tuple[str, list[Message]]]  # (session key, messages)
    questions: list[Question]

    @property
    def turn_ids(self) -> set[str]:
        return {m.message_id or "" for _, messages in self.sessions for m in messages}


def session_time(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), _DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise errors.InvalidInput(f"unreadable LoCoMo session date {text!r}") from exc


def turn_text(turn: dict[str, Any]) -> str:
    """The turn's text, with the image caption appended (as the benchmark's baselines do)."""
    text = str(turn.get("text", "")).strip()
    caption = turn.get("blip_caption")
    return f"{text} [image: {caption}]" if caption else text


def normalise_evidence(raw: list[str], known: set[str]) -> tuple[frozenset[str], int]:
    """Fix the data's known defects ("D8:6; D9:17", "D:11:26", "D30:05"); count ids that
    point to no turn as unresolvable."""
    found: set[str] = set()
    unresolvable = 0
    for item in raw:
        for token in filter(None, _EVIDENCE_SPLIT.split(str(item))):
            match = _EVIDENCE.match(token)
            dia_id = f"D{match.group(1)}:{match.group(2)}" if match else token
            if dia_id in known:
                found.add(dia_id)
            else:
                unresolvable += 1
    return frozenset(found), unresolvable


def _sessions(conversation: dict[str, Any]) -> list[tuple[str, list[Message]]]:
    numbers = sorted(
        int(key.split("_")[1])
        for key, value in conversation.items()
        if re.fullmatch(r"session_\d+", key) and isinstance(value, list)
    )
    sessions = []
    for number in numbers:
        start = session_time(conversation[f"session_{number}_date_time"])
        turns = conversation[f"session_{number}"]
        messages = [
            # one second apart: order within a session is kept, the date is the session's
            Message(role="user", content=turn_text(turn), created_at=start + timedelta(seconds=i),
                    message_id=str(turn["dia_id"]), name=str(turn["speaker"]))
            for i, turn in enumerate(turns)
        ]  # fmt: skip
        sessions.append((f"session_{number}", messages))
    return sessions


def load(path: str | Path) -> list[Conversation]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise errors.InvalidInput(f"cannot read LoCoMo file {path}: {exc}") from exc
    conversations = []
    for item in data:
        sessions = _sessions(item["conversation"])
        known = {m.message_id or "" for _, messages in sessions for m in messages}
        questions = []
        for qa in item.get("qa", []):
            evidence, unresolvable = normalise_evidence(qa.get("evidence", []), known)
            answer = str(qa.get("answer", qa.get("adversarial_answer", "")))
            questions.append(
                Question(str(qa["question"]), int(qa["category"]), evidence, unresolvable, answer)
            )
        conversations.append(Conversation(str(item["sample_id"]), sessions, questions))
    return conversations
