"""compose never exceeds its budget, whatever the corpus."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ogmem.core.models import ContextNode, ContextType
from ogmem.index.embedders import HashEmbedder, MiniLMEmbedder
from ogmem.retrieval.compose import compose_block
from ogmem.retrieval.search import SearchHit

COUNT = HashEmbedder().count_tokens
words = st.text(st.sampled_from("abcdefghij "), min_size=0, max_size=60)
nodes = st.builds(
    lambda i, cat, a, o, c: ContextNode(
        account_id="acme", uri=f"ctx://acme/users/u/memories/{cat}/n{i}",
        context_type=ContextType.MEMORY, category=cat, owner_space="user:u",
        abstract=a or "x", overview=o, content=c,
    ),
    st.integers(0, 10_000), st.sampled_from(["preference", "event", "profile"]),
    words, words, st.text(st.sampled_from("abc \n"), max_size=400),
)  # fmt: skip


def _hits(corpus: list[ContextNode]) -> list[SearchHit]:
    return [
        SearchHit(n.uri, n.category, n.abstract, 1.0 / (i + 1), 0, "") for i, n in enumerate(corpus)
    ]


@settings(max_examples=300, deadline=None)
@given(corpus=st.lists(nodes, max_size=25, unique_by=lambda n: n.uri), budget=st.integers(1, 400))
def test_never_over_budget(corpus: list[ContextNode], budget: int) -> None:
    by_uri = {n.uri: n for n in corpus}
    result = compose_block(_hits(corpus), by_uri.get, COUNT, budget)
    assert COUNT(result.text) <= budget
    assert result.tokens == COUNT(result.text)
    assert set(result.uris) <= set(by_uri)
    assert set(result.detailed) <= set(result.uris)


def test_best_memories_get_detail_and_the_rest_abstracts() -> None:
    corpus = [
        ContextNode("acme", f"ctx://acme/users/u/memories/preference/n{i}", ContextType.MEMORY,
                    "preference", "user:u", abstract=f"abstract {i}", content=f"content {i} " * 5)
        for i in range(6)
    ]  # fmt: skip
    by_uri = {n.uri: n for n in corpus}
    result = compose_block(_hits(corpus), by_uri.get, COUNT, 10_000, detailed=2)
    assert result.detailed == [corpus[0].uri, corpus[1].uri]
    assert result.text.startswith("## preference\n- abstract 0\n  content 0")
    assert "- abstract 5" in result.text and "content 5" not in result.text


def test_detail_gives_way_to_the_abstract_when_the_budget_is_tight() -> None:
    node = ContextNode("acme", "ctx://acme/users/u/memories/p/n", ContextType.MEMORY, "p", "user:u",
                       abstract="short", overview="a b c", content="word " * 100)  # fmt: skip
    result = compose_block(_hits([node]), {node.uri: node}.get, COUNT, 8)
    assert result.text == "## p\n- short\n  a b c"


MINILM_COUNT = MiniLMEmbedder().count_tokens
prose = st.text(st.sampled_from("abc,.!?'é-( )\n0123"), min_size=1, max_size=200)
rich_nodes = st.builds(
    lambda i, cat, a, c: ContextNode(
        account_id="acme", uri=f"ctx://acme/users/u/memories/{cat}/n{i}",
        context_type=ContextType.MEMORY, category=cat, owner_space="user:u",
        abstract=a, content=c,
    ),
    st.integers(0, 10_000), st.sampled_from(["preference", "event"]), prose, prose,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    corpus=st.lists(rich_nodes, max_size=12, unique_by=lambda n: n.uri),
    budget=st.integers(1, 300),
)
def test_the_wordpiece_count_of_a_block_is_the_sum_of_its_lines(
    corpus: list[ContextNode], budget: int
) -> None:
    """The budget is kept piece by piece; with the model's own tokenizer the block's count
    equals the sum (punctuation, accents and newlines included), so nothing is trimmed after."""
    by_uri = {n.uri: n for n in corpus}
    result = compose_block(_hits(corpus), by_uri.get, MINILM_COUNT, budget)
    assert result.tokens == MINILM_COUNT(result.text) <= budget
    pieces = result.text.splitlines()
    assert result.tokens == sum(MINILM_COUNT(line) for line in pieces)
