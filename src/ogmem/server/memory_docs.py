"""What the OpenAPI document says about memories: the built-in types' own fields (read from
the schema registry, so the document cannot drift from the YAML) and an example per type."""

from __future__ import annotations

from pydantic import JsonValue

from ogmem.schemas import fields as schema_fields
from ogmem.schemas.registry import SchemaRegistry


def _field(spec: schema_fields.FieldSpec) -> str:
    kind = "|".join(spec.choices) if spec.choices else spec.type
    return f"{spec.name}{'' if spec.required else '?'} ({kind})"


def attributes_description() -> str:
    """One line per built-in type: its own fields (``?``: optional), its owner."""
    registry = SchemaRegistry.load()
    lines = []
    for name in registry.names():
        memory_type = registry.get(name)
        own = [
            _field(s) for s in memory_type.fields if s.name not in schema_fields.COMMON_FIELD_NAMES
        ]
        required_common = [
            s.name for s in memory_type.fields
            if s.required and s.name in ("when", "who", "where")
        ]  # fmt: skip
        needs = f"; top-level {', '.join(required_common)} required" if required_common else ""
        owner = "; needs agent_id" if memory_type.owner_scope == "agent" else ""
        lines.append(f"- {name}: {', '.join(own) or 'none'}{needs}{owner}")
    return (
        "The type's own fields (the category's), validated by the schema registry:\n"
        + "\n".join(lines)
    )


TYPED_EXAMPLES: list[JsonValue] = [
    {"category": "preference", "routing_key": "editor", "abstract": "Prefers vim",
     "content": "Alice edits all her code in vim.", "attributes": {"stance": "prefers"}},
    {"category": "entity", "routing_key": "person-anna", "abstract": "Anna, Alice's sister",
     "content": "Anna is Alice's sister, a nurse in Hamburg.",
     "attributes": {"kind": "person", "relation": "sister"}},
    {"category": "event", "routing_key": "move-to-lisbon", "abstract": "2024-03: moved to Lisbon",
     "content": "Alice moved from Berlin to Lisbon in March 2024.", "when": "2024-03"},
    {"category": "profile", "abstract": "Data engineer at Acme",
     "content": "Alice works as a data engineer at Acme.",
     "attributes": {"facts": ["Works as a data engineer at Acme"]}},
    {"category": "case", "routing_key": "sqlite-database-locked",
     "abstract": "SQLite 'database is locked': fixed with WAL", "content": "...",
     "attributes": {"problem": "database is locked under threads",
                    "solution": "WAL mode and one writer connection"}},
]  # fmt: skip
