"""Search with the real offline embedder: paraphrased questions find their memories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogmem import CandidateMemory, Engine, RequestContext
from ogmem.index.embedders import MiniLMEmbedder

CTX = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
OTHER = RequestContext("globex", "alice", agent_id="coder", session_id="s1")

CORPUS = {
    "editor": "Alice writes all her code in Neovim and dislikes heavy IDEs.",
    "drinks": "Alice drinks green tea in the morning and avoids coffee.",
    "pet": "Alice has a golden retriever called Biscuit.",
    "allergy": "Alice is allergic to peanuts.",
    "commute": "Alice cycles to the office every day, even in winter.",
    "language": "Alice is learning Japanese with a tutor on Tuesdays.",
    "music": "Alice plays the cello in a community orchestra.",
    "deploy": "Deployments of the billing service go through a blue-green rollout on Fridays.",
    "db": "The team runs PostgreSQL 16 with logical replication to a reporting replica.",
    "holiday": "Alice spent her summer holiday hiking in the Dolomites.",
}
QUESTIONS = {
    "which text editor does she prefer for programming?": "editor",
    "what hot beverage does she have at breakfast?": "drinks",
    "does she own a dog?": "pet",
    "what food could give her an allergic reaction?": "allergy",
    "how does she get to work?": "commute",
    "is she studying a foreign language?": "language",
    "what musical instrument does she play?": "music",
    "how are releases of the payment system rolled out?": "deploy",
    "which database do we use?": "db",
    "what did she do during her summer vacation?": "holiday",
}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=MiniLMEmbedder(), worker=False) as opened:
        opened.remember(
            [
                CandidateMemory(category="preference", routing_key=key, abstract=text, content=text)
                for key, text in CORPUS.items()
            ],
            CTX,
        )
        opened.remember(
            [CandidateMemory(category="preference", routing_key="editor", abstract="Uses Emacs",
                             content="Globex's Alice codes in Emacs and drinks coffee.")],
            OTHER,
        )  # fmt: skip
        opened.drain()
        yield opened


@pytest.mark.parametrize("question", QUESTIONS)
def test_paraphrased_question_finds_its_memory(engine: Engine, question: str) -> None:
    hits = engine.search(question, CTX, limit=3).hits
    assert hits[0].uri.endswith("/" + QUESTIONS[question]), [h.uri for h in hits]


def test_compose_counts_real_tokens_and_stays_in_budget(engine: Engine) -> None:
    for budget in (10, 40, 120, 2000):
        block = engine.compose("what does Alice drink and which editor does she use?", CTX, budget)
        assert engine.embedder.count_tokens(block.text) <= budget
        assert block.tokens == engine.embedder.count_tokens(block.text)
    assert "green tea" in engine.compose("what does she drink?", CTX, 2000).text


def test_no_other_account_in_results(engine: Engine) -> None:
    hits = engine.search("which text editor does she prefer?", CTX, limit=50).hits
    assert all(h.uri.startswith("ctx://acme/") for h in hits)
    other = engine.search("which text editor does she prefer?", OTHER, limit=50).hits
    assert [h.uri for h in other] == ["ctx://globex/users/alice/memories/preferences/editor"]
    assert "Neovim" not in engine.compose("editor", OTHER, 2000).text
