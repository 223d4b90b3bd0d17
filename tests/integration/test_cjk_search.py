"""Keyword search finds Chinese, Japanese and Korean memories (bigram pieces of CJK runs on
both sides, retrieval/cjk.py), on every backend, with the default English embedder: keyword
search carries these questions and the fusion keeps its finds on top."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ogmem import Engine, Message, RequestContext
from ogmem.retrieval.cjk import cjk_pieces
from ogmem.retrieval.keywords import keyword_terms

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
CONVERSATION = [
    ("小明", "我下个月要搬到上海工作了。"),
    ("小红", "太好了！你在上海做什么工作？"),
    ("小明", "我在一家银行做软件工程师。"),
    ("小红", "我最近开始学钢琴，每周六上课。"),
    ("小明", "我的猫叫豆豆，它很喜欢吃鱼。"),
    ("小红", "周末我们一起去爬黄山吧。"),
    ("小明", "東京で寿司を食べるのが好きです。"),
    ("小红", "저는 서울에서 태어났어요."),
]
# each question and the message that answers it (by its words, not by its characters alone)
QUESTIONS = [
    ("小明要搬到哪里？", "m0"),
    ("小明做什么工作？", "m2"),
    ("小红在学什么乐器？钢琴", "m3"),
    ("小明的猫叫什么名字？", "m4"),
    ("周末去爬什么山？", "m5"),
    ("寿司が好きなのは誰？", "m6"),
    ("누가 서울에서 태어났어요?", "m7"),
]


def _remembered(url: str) -> Engine:
    ctx = RequestContext("acme", "xiaoming", session_id="chat")
    messages = [
        Message("user", text, START + timedelta(minutes=i), f"m{i}", name)
        for i, (name, text) in enumerate(CONVERSATION)
    ]
    engine = Engine.open(url, worker=False)  # the default, English MiniLM
    engine.ingest(messages, ctx)
    engine.commit("chat", ctx, wait=True)
    engine.drain()
    return engine


def _missed(engine: Engine, top: int) -> dict[str, list[tuple[str, str]]]:
    """The questions whose memory is not among the first ``top`` hits through keywords."""
    ctx = RequestContext("acme", "xiaoming")
    missed = {}
    for question, message_id in QUESTIONS:
        hits = engine.search(question, ctx, limit=top, include_sessions=False).hits
        sources = [engine.read(h.uri, ctx).metadata["source_message_ids"] for h in hits]
        found = [i for i, ids in enumerate(sources) if message_id in ids]
        if not found or "bm25" not in hits[found[0]].why:
            missed[question] = [(h.abstract, h.why) for h in hits]
    return missed


def test_each_question_finds_its_memory_in_the_top_three(tmp_path: Path) -> None:
    with _remembered(str(tmp_path / "store.sqlite")) as engine:
        assert _missed(engine, top=3) == {}


def test_postgresql_full_text_finds_each_memory_too(pg_url: str) -> None:
    # ts_rank_cd has no inverse document frequency: a bigram found everywhere (a speaker's
    # name) weighs as much as a rare one, so the order is looser than FTS5's BM25
    with _remembered(pg_url) as engine:
        assert _missed(engine, top=5) == {}


def test_cjk_runs_become_bigrams_and_other_words_stay() -> None:
    assert cjk_pieces("我住在北京") == ["我住", "住在", "在北", "北京"]
    assert cjk_pieces("猫 and 狗") == ["猫", "狗"]
    assert cjk_pieces("plain English") == []
    assert keyword_terms("Where is 北京?") == ["北京"]
    assert keyword_terms("我住在北京") == ["我住在北京", "我住", "住在", "在北", "北京"]
