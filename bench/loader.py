"""Loading synthetic memories through the product's own ports, so that a benchmark measures
what the product would hold: nodes through the Store's bulk creation (as the writer creates
them), index records through the IndexStore the worker writes with (vectors precomputed, which
is the one step skipped: embedding 100k texts would take ~10 minutes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ogmem.core.models import ContextNode, ContextType, NewNode
from ogmem.engine import Engine
from ogmem.index.records import records_for

CHUNK = 5_000


def memory_uri(account: str, user: str, number: int, kind: str = "user") -> str:
    """``kind``: "user", or "agent" for an agent's memories."""
    return f"ctx://{account}/{kind}s/{user}/memories/events/e{number}"


def load(
    engine: Engine,
    account: str,
    user: str,
    texts: Sequence[str],
    vectors: npt.NDArray[np.float32],
    *,
    first: int = 0,
    kind: str = "user",
) -> None:
    """One event memory per text (abstract = content = the text), indexed with its vector;
    ``kind`` "agent" makes them the memories of the agent named ``user``."""
    for start in range(0, len(texts), CHUNK):
        nodes = [
            ContextNode(
                account_id=account,
                uri=memory_uri(account, user, first + start + offset, kind),
                context_type=ContextType.MEMORY,
                category="event",
                owner_space=f"{kind}:{user}",
                abstract=text,
                content=text,
            )
            for offset, text in enumerate(texts[start : start + CHUNK])
        ]
        # no events: the records are written below, as the worker would have written them
        stored = engine.store.create_nodes_with_outbox([NewNode(n, (), "") for n in nodes])
        items = []
        for offset, node in enumerate(stored):
            records = [planned.record for planned in records_for(node)]
            vector = vectors[start + offset]
            items.append((node.uri, records, [vector] * len(records)))
        engine.index.replace_many(account, items, engine.embedder.model_id)
