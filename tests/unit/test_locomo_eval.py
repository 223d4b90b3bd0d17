"""The LoCoMo harness: reading the data (and its defects) and computing recall exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ogmem import Engine
from ogmem.core import errors
from ogmem.core.ports import ChatMessage
from ogmem.eval import locomo, locomo_data
from ogmem.index.embedders import HashEmbedder
from ogmem.llm.scripted import ScriptedLLM, Step


def _qa(question: str, evidence: str, category: int, **answer: str) -> dict[str, Any]:
    return {"question": question, "evidence": [evidence], "category": category, **answer}


def tiny_locomo() -> list[dict[str, Any]]:
    turns_1 = [
        {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a puppy called Rex."},
        {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely! I started pottery classes.",
         "img_url": ["x"], "blip_caption": "a clay bowl on a wheel"},
    ]  # fmt: skip
    turns_2 = [{"speaker": "Ann", "dia_id": "D2:1", "text": "Rex chewed my violin case."}]
    return [
        {
            "sample_id": "conv-x",
            "conversation": {
                "speaker_a": "Ann", "speaker_b": "Bo",
                "session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": turns_1,
                "session_2_date_time": "10:00 am on 9 June, 2023", "session_2": turns_2,
            },
            "qa": [
                _qa("What is the puppy called?", "D1:1", 4, answer="Rex"),
                _qa("What did Bo start?", "D1:02", 1, answer="pottery"),
                _qa("What did Rex chew?", "D:2:1; D9:9", 2, answer="violin case"),
                _qa("Trick", "D1:1", 5, adversarial_answer="none"),
            ],
        }
    ]  # fmt: skip


def test_reading_dates_captions_and_evidence_defects(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_locomo()))
    [conversation] = locomo_data.load(path)
    (_, first), (_, second) = conversation.sessions
    assert first[0].created_at.isoformat() == "2023-05-08T13:56:00+00:00"
    assert first[1].content.endswith("[image: a clay bowl on a wheel]") and first[1].name == "Bo"
    assert second[0].message_id == "D2:1"
    assert [q.evidence for q in conversation.questions[:3]] == [
        frozenset({"D1:1"}),
        frozenset({"D1:2"}),
        frozenset({"D2:1"}),
    ]
    assert conversation.questions[2].unresolvable == 1  # D9:9 points to no turn


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot read LoCoMo file"):
        locomo_data.load(tmp_path / "missing.json")


def test_recall_counts_evidence_covered_by_provenance(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_locomo()))
    conversations = locomo_data.load(path)
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        report = locomo.evaluate(engine, conversations, ks=(1, 3))
    assert report.overall["questions"] == 3  # category 5 left out
    assert report.overall["R@3"] == 1.0  # three memories: every evidence turn is in the top 3
    assert report.by_category["single-hop"]["R@1"] == 1.0  # "puppy called" finds D1:1 first
    assert report.messages == 3 and report.unresolvable_evidence == 1
    assert report.mode == "raw" and "skipped" in report.qa


def test_session_recall_counts_a_question_when_an_evidence_session_ranks_in_the_top_k() -> None:
    tally = locomo._Tally()
    # hits from sessions D2, D2 again, D5, D1, ...: distinct sessions D2, D5, D1, D7, D8, D9
    ranked = locomo._ranked_sessions(
        [{"D2:4"}, {"D2:9"}, {"D5:1"}, {"D1:3"}, {"D7:2"}, {"D8:2"}, {"D9:1"}]
    )
    assert ranked == ["D2", "D5", "D1", "D7", "D8", "D9"]
    tally.add({}, frozenset({"D9:5"}))
    tally.add_sessions(ranked, frozenset({"D9:5"}))  # the sixth distinct session
    tally.add({}, frozenset({"D1:1", "D4:4"}))
    tally.add_sessions(ranked, frozenset({"D1:1", "D4:4"}))  # D1 is third
    figures = tally.figures(ks=())
    assert figures["session_R@5"] == 0.5 and figures["session_R@10"] == 1.0


def _judging_llm(messages: list[ChatMessage]) -> Step:
    """Answers from the memories it is shown; grades by comparing with the gold answer."""
    prompt = str(messages[-1]["content"])
    if prompt.startswith("You grade"):
        gold = prompt.split("GOLD ANSWER: ")[1].split("\n")[0]
        answer = prompt.split("ANSWER: ")[-1]
        if "violin" in gold:
            return "I cannot tell"  # an unreadable verdict: graded WRONG
        return (
            '{"verdict": "CORRECT"}' if gold.lower() in answer.lower() else '{"verdict": "WRONG"}'
        )
    if "What did Bo start?" in prompt:
        raise errors.LLMTimeout("the model timed out")
    return "Rex" if "Rex" in prompt else "I do not know"


def test_with_a_judge_each_question_is_answered_from_compose_and_graded(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_locomo()))
    judge = ScriptedLLM(responder=_judging_llm)
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        report = locomo.evaluate(engine, locomo_data.load(path), ks=(1, 3), judge=judge)

    # puppy: CORRECT; Bo: the model timed out (not graded); violin: unreadable verdict, WRONG
    assert report.overall["J"] == 0.5 and report.overall["judge_errors"] == 1
    assert report.by_category["single-hop"]["J"] == 1.0
    assert report.by_category["temporal"]["J"] == 0.0
    assert report.by_category["multi-hop"]["judge_errors"] == 1
    answer_prompts = [p for p in judge.prompts if "What is the puppy called?" in p]
    assert "Rex" in answer_prompts[0]  # the answer prompt carries the composed memories
    assert any("GOLD ANSWER: Rex" in p for p in judge.prompts)
    assert report.qa == "LLM judge (J)"


def test_ingest_rate_is_set_against_the_embedder_alone_on_the_same_messages(
    tmp_path: Path,
) -> None:
    data = tiny_locomo()
    data[0]["conversation"]["session_2"].append(  # a repeated text is embedded once
        {"speaker": "Ann", "dia_id": "D2:2", "text": "I adopted a puppy called Rex."}
    )
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data))
    conversations = locomo_data.load(path)
    embedder = HashEmbedder()
    with Engine.open(":memory:", embedder=embedder, worker=False) as engine:
        report = locomo.evaluate(engine, conversations, ks=(1,), measure_embedder=True)
    texts = locomo.message_texts(conversations)

    assert texts == [
        "I adopted a puppy called Rex.",
        "Lovely! I started pottery classes. [image: a clay bowl on a wheel]",
        "Rex chewed my violin case.",
    ]
    assert texts in embedder.calls  # alone, in one call, after the ingest's own calls
    assert report.messages == 4
    assert report.ingest_msgs_per_s == pytest.approx(4 / report.ingest_s)
    assert report.embedder_msgs_per_s is not None and report.embedder_msgs_per_s > 0
    assert report.ingest_vs_embedder == pytest.approx(
        report.ingest_msgs_per_s / report.embedder_msgs_per_s
    )
    assert report.as_dict()["ingest_vs_embedder"] == report.ingest_vs_embedder


def test_without_measuring_the_embedder_there_is_no_ratio(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_locomo()))
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        report = locomo.evaluate(engine, locomo_data.load(path), ks=(1,))

    assert report.embedder_msgs_per_s is None and report.ingest_vs_embedder is None
    assert report.ingest_msgs_per_s > 0
