"""The dream bench's set: at least 500 memories, 100 planted paraphrases, each different."""

from __future__ import annotations

from bench import dream_bench
from bench.paraphrase import paraphrase


def test_the_set_has_500_memories_and_100_planted_paraphrases() -> None:
    originals, planted = dream_bench.dataset()
    assert len(originals) + len(planted) >= 500 and len(planted) == 100
    texts = dict(originals)
    assert len(set(texts.values())) == len(originals)
    for message_id, text in planted:
        original = texts[f"o{message_id[1:]}"]
        assert text != original and text not in texts.values()


def test_a_paraphrase_reorders_sentences_and_swaps_words() -> None:
    said = paraphrase("I'm so happy with the kids. We went to the beach!")
    assert said == "We headed to the beach! I am glad with the children."
    assert paraphrase("Zebra zone.") != "Zebra zone."
