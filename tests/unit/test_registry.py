from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ogmem.core import errors, models, uri
from ogmem.schemas import fields, registry

BUILTINS = ["case", "entity", "event", "pattern", "preference", "profile", "skill", "tool"]

VALID_DOC: dict[str, Any] = {
    "name": "habit",
    "description": "A habit of the user.",
    "operation_mode": "upsert",
    "owner_scope": "user",
    "directory": "memories/habits",
    "filename": "{routing_key}",
    "fields": [
        {"name": "frequency", "type": "string", "max_length": 50},
        {"name": "streak", "type": "integer", "minimum": 0},
    ],
    "extraction": {"guidance": "Use this for habits."},
}


@pytest.fixture(scope="module")
def reg() -> registry.SchemaRegistry:
    return registry.SchemaRegistry.load()


def write_doc(directory: Path, doc: object, filename: str = "habit.yaml") -> Path:
    path = directory / filename
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), encoding="utf-8")
    return path


def doc_with(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID_DOC)
    for key, value in changes.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    return doc


def doc_with_field(index: int, **changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID_DOC)
    field = doc["fields"][index]
    for key, value in changes.items():
        if value is None:
            del field[key]
        else:
            field[key] = value
    return doc


# --- built-ins ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "scope", "mode", "single_node", "context_type", "directory"),
    [
        ("profile", "user", "upsert", True, "MEMORY", "memories/profile"),
        ("preference", "user", "upsert", False, "MEMORY", "memories/preferences"),
        ("entity", "user", "upsert", False, "MEMORY", "memories/entities"),
        ("event", "user", "add_only", False, "MEMORY", "memories/events"),
        ("case", "agent", "add_only", False, "MEMORY", "memories/cases"),
        ("pattern", "agent", "upsert", False, "MEMORY", "memories/patterns"),
        ("skill", "agent", "upsert", False, "SKILL", "memories/skills"),
        ("tool", "agent", "upsert", False, "MEMORY", "memories/tools"),
    ],
)
def test_builtin_types_match_the_design(
    reg: registry.SchemaRegistry,
    name: str,
    scope: str,
    mode: str,
    single_node: bool,
    context_type: str,
    directory: str,
) -> None:
    memory_type = reg.get(name)
    assert (memory_type.owner_scope, memory_type.operation_mode) == (scope, mode)
    assert memory_type.single_node is single_node
    assert memory_type.context_type == models.ContextType(context_type)
    assert memory_type.directory == directory
    assert memory_type.directory_segments() == tuple(directory.split("/"))
    assert memory_type.source.endswith(f"{name}.yaml")
    assert len(memory_type.guidance) > 200


def test_registry_lists_exactly_the_builtins(reg: registry.SchemaRegistry) -> None:
    assert reg.names() == BUILTINS
    assert "event" in reg
    assert "nope" not in reg
    assert 3 not in reg
    assert [] not in reg


def test_builtins_are_parsed_once() -> None:
    first = registry.SchemaRegistry.load().get("event")
    assert registry.SchemaRegistry.load().get("event") is first


@pytest.mark.parametrize("name", BUILTINS)
def test_every_type_starts_with_the_common_fields(reg: registry.SchemaRegistry, name: str) -> None:
    names = [spec.name for spec in reg.get(name).fields]
    assert names[: len(fields.COMMON_FIELDS)] == [spec.name for spec in fields.COMMON_FIELDS]
    assert len(set(names)) == len(names)


def test_event_tightens_when_to_a_required_date(reg: registry.SchemaRegistry) -> None:
    when = {spec.name: spec for spec in reg.get("event").fields}["when"]
    assert (when.type, when.required) == ("date", True)


def test_single_node_type_does_not_require_a_routing_key(reg: registry.SchemaRegistry) -> None:
    required = {spec.name: spec.required for spec in reg.get("profile").fields}
    assert required["routing_key"] is False
    assert {spec.name: spec.required for spec in reg.get("entity").fields}["routing_key"]


def test_get_unknown_category_names_the_known_ones(reg: registry.SchemaRegistry) -> None:
    with pytest.raises(errors.InvalidCandidate, match="unknown memory category 'nope'") as exc:
        reg.get("nope")
    assert exc.value.field == "category"
    assert "preference" in str(exc.value)


# --- user directories --------------------------------------------------------------------------


def test_user_directory_adds_a_type(tmp_path: Path) -> None:
    path = write_doc(tmp_path, VALID_DOC)
    reg = registry.SchemaRegistry.load([tmp_path])
    assert reg.names() == sorted([*BUILTINS, "habit"])
    habit = reg.get("habit")
    assert habit.source == str(path)
    assert [spec.name for spec in habit.fields][-2:] == ["frequency", "streak"]
    assert habit.context_type is models.ContextType.MEMORY


def test_user_type_replaces_a_builtin(tmp_path: Path) -> None:
    write_doc(tmp_path, doc_with(name="preference", directory="memories/likes"), "mine.yml")
    reg = registry.SchemaRegistry.load([str(tmp_path)])
    assert reg.get("preference").directory == "memories/likes"
    assert registry.SchemaRegistry.load().get("preference").directory == "memories/preferences"


def test_later_directory_replaces_an_earlier_one(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write_doc(first, VALID_DOC)
    write_doc(second, doc_with(directory="memories/routines"))
    reg = registry.SchemaRegistry.load([first, second])
    assert reg.get("habit").directory == "memories/routines"


def test_two_files_of_one_directory_may_not_define_one_type(tmp_path: Path) -> None:
    write_doc(tmp_path, VALID_DOC, "a.yaml")
    second = write_doc(tmp_path, VALID_DOC, "b.yaml")
    with pytest.raises(errors.SchemaError, match="already defined") as exc:
        registry.SchemaRegistry.load([tmp_path])
    assert (exc.value.file, exc.value.field) == (str(second), "name")


def test_missing_directory_is_a_schema_error(tmp_path: Path) -> None:
    with pytest.raises(errors.SchemaError) as exc:
        registry.SchemaRegistry.load([tmp_path / "absent"])
    assert exc.value.file == str(tmp_path / "absent")


def test_other_files_in_a_user_directory_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not a schema")
    assert registry.SchemaRegistry.load([tmp_path]).names() == BUILTINS


# --- invalid files -----------------------------------------------------------------------------

LONG = "a" * 120

INVALID_DOCS: list[tuple[str, dict[str, Any], str]] = [
    ("missing name", doc_with(name=None), "name"),
    ("missing extraction", doc_with(extraction=None), "extraction"),
    ("missing filename", doc_with(filename=None), "filename"),
    ("unknown key", doc_with(colour="blue"), "colour"),
    ("bad name", doc_with(name="Bad Name"), "name"),
    ("name too long for a tool", doc_with(name="x" * 56), "name"),
    ("empty description", doc_with(description="  "), "description"),
    ("description not a string", doc_with(description=["a"]), "description"),
    ("bad operation_mode", doc_with(operation_mode="append"), "operation_mode"),
    ("bad owner_scope", doc_with(owner_scope="team"), "owner_scope"),
    ("bad context_type", doc_with(context_type="NOTE"), "context_type"),
    ("single_node not a bool", doc_with(single_node="yes"), "single_node"),
    ("single_node add_only", doc_with(single_node=True, operation_mode="add_only"), "single_node"),
    ("directory traversal", doc_with(directory="memories/../secrets"), "directory"),
    ("directory empty segment", doc_with(directory="memories//x"), "directory"),
    ("directory absolute", doc_with(directory="/memories"), "directory"),
    ("directory placeholder", doc_with(directory="memories/{when}"), "directory"),
    ("directory space", doc_with(directory="my memories"), "directory"),
    ("unknown placeholder", doc_with(filename="{user}-{routing_key}"), "filename"),
    ("positional placeholder", doc_with(filename="{}"), "filename"),
    ("format spec", doc_with(filename="{routing_key:>5}"), "filename"),
    ("conversion", doc_with(filename="{routing_key!r}"), "filename"),
    ("attribute access", doc_with(filename="{routing_key.upper}"), "filename"),
    ("unbalanced brace", doc_with(filename="{routing_key"), "filename"),
    ("illegal literal", doc_with(filename="a b-{routing_key}"), "filename"),
    ("escaped brace", doc_with(filename="{{x}}-{routing_key}"), "filename"),
    ("filename can grow too long", doc_with(filename=LONG + "{routing_key}"), "filename"),
    ("upsert without placeholder", doc_with(filename="habits"), "filename"),
    (
        "add_only without content_hash",
        doc_with(operation_mode="add_only", filename="{routing_key}-{when}"),
        "filename",
    ),
    ("single_node with placeholder", doc_with(single_node=True), "filename"),
    ("single_node named dot-dot", doc_with(single_node=True, filename=".."), "filename"),
    ("fields not a list", doc_with(fields={"name": "x"}), "fields"),
    ("field not a mapping", doc_with(fields=["frequency"]), "fields[0]"),
    ("field without name", doc_with_field(0, name=None), "fields[0].name"),
    ("field bad name", doc_with_field(0, name="Frequency"), "fields[0].name"),
    ("field reserved name", doc_with_field(0, name="category"), "fields[0].name"),
    ("field without type", doc_with_field(1, type=None), "fields[1].type"),
    ("field bad type", doc_with_field(1, type="float"), "fields[1].type"),
    ("field unknown key", doc_with_field(0, colour="red"), "fields[0].colour"),
    ("field required not bool", doc_with_field(0, required="no"), "fields[0].required"),
    ("field max_length zero", doc_with_field(0, max_length=0), "fields[0].max_length"),
    ("field max_length text", doc_with_field(0, max_length="ten"), "fields[0].max_length"),
    ("max_length on integer", doc_with_field(1, max_length=3), "fields[1].max_length"),
    ("minimum on string", doc_with_field(0, minimum=1), "fields[0].minimum"),
    ("minimum not a number", doc_with_field(1, minimum="low"), "fields[1].minimum"),
    ("minimum above maximum", doc_with_field(1, minimum=5, maximum=1), "fields[1].maximum"),
    ("choices on integer", doc_with_field(1, choices=["a"]), "fields[1].choices"),
    ("choices duplicated", doc_with_field(0, choices=["a", "a"]), "fields[0].choices"),
    ("choices not strings", doc_with_field(0, choices=[1, 2]), "fields[0].choices"),
    ("duplicate field", doc_with_field(1, name="frequency", minimum=None), "fields[1].name"),
    (
        "duplicate common override",
        doc_with(fields=[{"name": "when", "required": True}, {"name": "when"}]),
        "fields[1].name",
    ),
    (
        "common field loosened",
        doc_with(fields=[{"name": "abstract", "required": False}]),
        "fields[0].required",
    ),
    (
        "common field longer",
        doc_with(fields=[{"name": "content", "max_length": 50000}]),
        "fields[0].max_length",
    ),
    (
        "common field retyped",
        doc_with(fields=[{"name": "confidence", "type": "string"}]),
        "fields[0].type",
    ),
    (
        "common range widened",
        doc_with(fields=[{"name": "confidence", "maximum": 2}]),
        "fields[0].maximum",
    ),
    ("extraction not a mapping", doc_with(extraction="guess"), "extraction"),
    ("extraction without guidance", doc_with(extraction={}), "extraction.guidance"),
    ("empty guidance", doc_with(extraction={"guidance": ""}), "extraction.guidance"),
    (
        "extraction unknown key",
        doc_with(extraction={"guidance": "x", "examples": []}),
        "extraction.examples",
    ),
]


@pytest.mark.parametrize(
    ("doc", "field"),
    [pytest.param(doc, field, id=case) for case, doc, field in INVALID_DOCS],
)
def test_invalid_file_names_file_and_field(tmp_path: Path, doc: dict[str, Any], field: str) -> None:
    path = write_doc(tmp_path, doc)
    with pytest.raises(errors.SchemaError) as exc:
        registry.SchemaRegistry.load([tmp_path])
    assert (exc.value.file, exc.value.field) == (str(path), field)
    assert str(path) in str(exc.value)
    assert f"field {field}" in str(exc.value)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("name: [unclosed\n", id="syntax error"),
        pytest.param("- a\n- b\n", id="list document"),
        pytest.param("just text\n", id="scalar document"),
        pytest.param("", id="empty file"),
        pytest.param("name: a\n---\nname: b\n", id="two documents"),
    ],
)
def test_unusable_yaml_names_the_file(tmp_path: Path, text: str) -> None:
    path = write_doc(tmp_path, text)
    with pytest.raises(errors.SchemaError) as exc:
        registry.SchemaRegistry.load([tmp_path])
    assert exc.value.file == str(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        pytest.param(
            {"fields": [{"name": "when", "type": "date", "required": True}]},
            lambda t: (
                t.fields[7]
                == fields.FieldSpec(
                    "when", "date", True, fields.COMMON_FIELDS[7].description, max_length=64
                )
            ),
            id="common field tightened in place",
        ),
        pytest.param(
            {"fields": [{"name": "abstract", "max_length": 100, "description": "Short."}]},
            lambda t: (t.fields[1].max_length, t.fields[1].description) == (100, "Short."),
            id="common field shortened",
        ),
        pytest.param(
            {"operation_mode": "add_only", "filename": "{when}-{content_hash}"},
            lambda t: t.placeholders() == {"when", "content_hash"},
            id="add_only by date",
        ),
        pytest.param(
            {"single_node": True, "filename": "habits.v1"},
            lambda t: t.render_filename(routing_key="", content_hash="", when=None) == "habits.v1",
            id="single node",
        ),
        pytest.param(
            {"context_type": "RESOURCE", "fields": None},
            lambda t: t.context_type is models.ContextType.RESOURCE,
            id="no own fields",
        ),
    ],
)
def test_valid_variants_load(
    tmp_path: Path, changes: dict[str, Any], check: Callable[[registry.MemoryType], bool]
) -> None:
    write_doc(tmp_path, doc_with(**changes))
    assert check(registry.SchemaRegistry.load([tmp_path]).get("habit"))


# --- tool definitions --------------------------------------------------------------------------

JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object"}


@pytest.mark.parametrize("name", BUILTINS)
def test_tool_definition_is_a_function_schema(reg: registry.SchemaRegistry, name: str) -> None:
    memory_type = reg.get(name)
    tool = memory_type.tool_definition()
    assert tool["type"] == "function"
    function = tool["function"]
    assert function["name"] == f"remember_{name}"
    assert memory_type.guidance.strip() in function["description"]
    parameters = function["parameters"]
    assert parameters["type"] == "object"
    assert parameters["additionalProperties"] is False
    assert list(parameters["properties"]) == [spec.name for spec in memory_type.fields]
    assert set(parameters["required"]) <= set(parameters["properties"])
    assert {"abstract", "content"} <= set(parameters["required"])
    assert all(prop["type"] in JSON_TYPES for prop in parameters["properties"].values())
    assert json.loads(json.dumps(tool)) == tool
    assert reg.type_for_tool(function["name"]) is memory_type


def test_tool_definitions_default_to_every_type(reg: registry.SchemaRegistry) -> None:
    names = [tool["function"]["name"] for tool in reg.tool_definitions()]
    assert names == [f"remember_{name}" for name in BUILTINS]
    chosen = reg.tool_definitions(["event", "case"])
    assert [tool["function"]["name"] for tool in chosen] == ["remember_event", "remember_case"]


def test_tool_definition_carries_limits_and_choices(reg: registry.SchemaRegistry) -> None:
    properties = reg.get("entity").tool_definition()["function"]["parameters"]["properties"]
    assert properties["abstract"]["maxLength"] == 300
    assert properties["source_message_ids"]["maxItems"] == 200
    assert properties["confidence"]["minimum"] == 0 and properties["confidence"]["maximum"] == 1
    assert "person" in properties["kind"]["enum"]
    assert properties["aliases"]["items"] == {"type": "string"}


def test_tool_definition_is_a_fresh_dict(reg: registry.SchemaRegistry) -> None:
    tool = reg.get("event").tool_definition()
    tool["function"]["parameters"]["required"].clear()
    assert reg.get("event").tool_definition()["function"]["parameters"]["required"]


@pytest.mark.parametrize("tool_name", ["remember_nope", "recall_event", "event", ""])
def test_type_for_unknown_tool(reg: registry.SchemaRegistry, tool_name: str) -> None:
    with pytest.raises(errors.InvalidCandidate) as exc:
        reg.type_for_tool(tool_name)
    assert exc.value.field == "category"


# --- filenames ---------------------------------------------------------------------------------

HASH_A, HASH_B = "0f3a9c1d2e4b5a69", "9b8c7d6e5f4a3b21"


@pytest.mark.parametrize("name", BUILTINS)
def test_render_filename_is_a_legal_segment(reg: registry.SchemaRegistry, name: str) -> None:
    memory_type = reg.get(name)
    first = memory_type.render_filename(routing_key="dark-mode", content_hash=HASH_A, when=None)
    second = memory_type.render_filename(routing_key="dark-mode", content_hash=HASH_B, when=None)
    assert uri.validate_segment(first) == first
    if memory_type.single_node:
        assert first == second == "profile"
    elif memory_type.operation_mode == "add_only":
        assert first != second
        assert first == f"dark-mode-{HASH_A}"
    else:
        assert first == second == "dark-mode"


def test_render_filename_cleans_free_text(tmp_path: Path) -> None:
    write_doc(
        tmp_path,
        doc_with(operation_mode="add_only", filename="{when}_{routing_key}-{content_hash}"),
    )
    habit = registry.SchemaRegistry.load([tmp_path]).get("habit")
    rendered = habit.render_filename(routing_key="Dark Mode!", content_hash="A" * 64, when=None)
    assert rendered == f"undated_dark-mode-{'a' * 32}"
    dated = habit.render_filename(routing_key="x", content_hash="ab", when="2024-05-07")
    assert dated == "2024-05-07_x-ab"


@given(routing_key=st.text(), content_hash=st.text(), when=st.none() | st.text())
def test_render_filename_always_gives_a_legal_segment(
    routing_key: str, content_hash: str, when: str | None
) -> None:
    event = registry.SchemaRegistry.load().get("event")
    rendered = event.render_filename(routing_key=routing_key, content_hash=content_hash, when=when)
    assert uri.validate_segment(rendered) == rendered


# --- candidate validation ----------------------------------------------------------------------

GOOD_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "profile": {"facts": ["Works as a data engineer at Acme"]},
    "preference": {"topic": "code editor", "stance": "prefers"},
    "entity": {"entity_name": "Anna Schmidt", "kind": "person", "relation": "sister"},
    "event": {"participants": ["Anna"], "outcome": "offer expected"},
    "case": {"problem": "database is locked", "solution": "use WAL", "outcome": "solved"},
    "pattern": {"trigger": "before committing", "steps": ["ruff", "pytest"]},
    "skill": {"skill_name": "Release a version", "steps": ["tag", "push"]},
    "tool": {"tool_name": "git", "usage_stats": {"calls": 3, "failures": 1}},
}


def candidate(template: str, **changes: Any) -> models.CandidateMemory:
    """A good candidate of the built-in type ``template``, with ``changes`` applied."""
    scope = "agent" if template in {"case", "pattern", "skill", "tool"} else "user"
    values: dict[str, Any] = {
        "category": template,
        "routing_key": "" if template == "profile" else "some-key",
        "abstract": "One line.",
        "overview": "A few facts.",
        "content": "All the details.",
        "confidence": 0.9,
        "owner_scope": scope,
        "when": "2024-05-07",
        "evidence_quote": "I said so",
        "source_message_ids": ("m1", "m2"),
        "attributes": GOOD_ATTRIBUTES[template],
    }
    values.update(changes)
    return models.CandidateMemory(**values)


@pytest.mark.parametrize("name", BUILTINS)
def test_good_candidate_is_accepted(reg: registry.SchemaRegistry, name: str) -> None:
    reg.get(name).validate_candidate(candidate(name))


@pytest.mark.parametrize(
    ("category", "changes"),
    [
        pytest.param("preference", {"when": None, "overview": "", "attributes": {"topic": "tea"}}),
        pytest.param("event", {"when": "2024"}, id="year only"),
        pytest.param("event", {"when": "2024-05-07T10:30:00.123456+02:00"}, id="iso datetime"),
        pytest.param("preference", {"when": "last summer"}, id="loose when elsewhere"),
        pytest.param("tool", {"attributes": {"tool_name": "git", "usage_stats": {}}}),
        pytest.param("event", {"operation": "archive", "abstract": "", "content": ""}),
        pytest.param("profile", {"routing_key": ""}, id="profile without key"),
        pytest.param("event", {"confidence": 0}, id="zero confidence"),
    ],
)
def test_edge_candidates_are_accepted(
    reg: registry.SchemaRegistry, category: str, changes: dict[str, Any]
) -> None:
    reg.get(category).validate_candidate(candidate(category, **changes))


@pytest.mark.parametrize(
    ("category", "changes", "field"),
    [
        pytest.param("event", {"category": "case"}, "category", id="wrong type"),
        pytest.param("event", {"abstract": ""}, "abstract", id="empty abstract"),
        pytest.param("event", {"abstract": "  \n"}, "abstract", id="blank abstract"),
        pytest.param("event", {"abstract": "x" * 301}, "abstract", id="long abstract"),
        pytest.param("event", {"abstract": 3}, "abstract", id="abstract not text"),
        pytest.param("event", {"content": ""}, "content", id="empty content"),
        pytest.param("event", {"content": "x" * 20001}, "content", id="long content"),
        pytest.param("event", {"overview": "x" * 2001}, "overview", id="long overview"),
        pytest.param("preference", {"routing_key": ""}, "routing_key", id="missing key"),
        pytest.param("preference", {"routing_key": "Dark Mode"}, "routing_key", id="not a slug"),
        pytest.param("preference", {"routing_key": "a" * 65}, "routing_key", id="long key"),
        pytest.param("event", {"confidence": 1.5}, "confidence", id="confidence high"),
        pytest.param("event", {"confidence": -0.1}, "confidence", id="confidence low"),
        pytest.param("event", {"confidence": "high"}, "confidence", id="confidence text"),
        pytest.param("event", {"confidence": True}, "confidence", id="confidence bool"),
        pytest.param("event", {"confidence": float("nan")}, "confidence", id="confidence nan"),
        pytest.param("event", {"evidence_quote": "x" * 1001}, "evidence_quote", id="long quote"),
        pytest.param(
            "event", {"source_message_ids": ("m",) * 201}, "source_message_ids", id="many ids"
        ),
        pytest.param("event", {"source_message_ids": (1,)}, "source_message_ids", id="id not text"),
        pytest.param("event", {"when": None}, "when", id="event undated"),
        pytest.param("event", {"when": "yesterday"}, "when", id="event relative date"),
        pytest.param("event", {"when": "2024-02-30"}, "when", id="event impossible date"),
        pytest.param("event", {"when": "2024-05-07T25:00"}, "when", id="event impossible hour"),
        pytest.param("event", {"attributes": {"mood": "good"}}, "mood", id="unknown attribute"),
        pytest.param(
            "event", {"attributes": {"abstract": "x"}}, "abstract", id="common field in attributes"
        ),
        pytest.param(
            "entity", {"attributes": {"entity_name": "Anna"}}, "kind", id="missing attribute"
        ),
        pytest.param(
            "entity",
            {"attributes": {"entity_name": "Anna", "kind": "spaceship"}},
            "kind",
            id="not a choice",
        ),
        pytest.param(
            "entity",
            {"attributes": {"entity_name": "Anna", "kind": "person", "aliases": "Annie"}},
            "aliases",
            id="list given as text",
        ),
        pytest.param(
            "tool",
            {"attributes": {"tool_name": "git", "usage_stats": "lots"}},
            "usage_stats",
            id="object given as text",
        ),
        pytest.param(
            "case",
            {"attributes": {"problem": "x", "solution": "y", "tags": ["t"] * 21}},
            "tags",
            id="too many items",
        ),
        pytest.param("case", {"attributes": {"solution": "y"}}, "problem", id="missing problem"),
        pytest.param(
            "event", {"operation": "delete", "routing_key": ""}, "routing_key", id="retract no key"
        ),
    ],
)
def test_bad_candidate_is_rejected(
    reg: registry.SchemaRegistry, category: str, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(errors.InvalidCandidate) as exc:
        reg.get(category).validate_candidate(candidate(category, **changes))
    assert exc.value.field == field
    assert category in str(exc.value) and field in str(exc.value)


ALL_TYPES_DOC = doc_with(
    fields=[
        {"name": "count", "type": "integer", "minimum": 1, "maximum": 10},
        {"name": "ratio", "type": "number", "maximum": 0.5},
        {"name": "done", "type": "boolean"},
        {"name": "day", "type": "date"},
        {"name": "label", "type": "slug", "max_length": 8},
        {"name": "tags", "type": "string_list", "choices": ["a", "b"]},
        {"name": "data", "type": "object"},
    ]
)


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("count", 3, True),
        ("count", 3.0, True),
        ("count", 3.5, False),
        ("count", 0, False),
        ("count", 11, False),
        ("count", True, False),
        ("count", "3", False),
        ("ratio", 0.25, True),
        ("ratio", -4, True),
        ("ratio", 0.75, False),
        ("done", False, True),
        ("done", "no", False),
        ("done", 0, False),
        ("day", "1999-12-31", True),
        ("day", "1999-13", False),
        ("day", 1999, False),
        ("label", "a.b_c-d", True),
        ("label", "-ab", False),
        ("label", "abcdefghi", False),
        ("tags", ["a", "b"], True),
        ("tags", ["c"], False),
        ("data", {"k": [1, 2]}, True),
        ("data", {1: "v"}, False),
        ("data", ["k"], False),
    ],
)
def test_attribute_types_are_checked(tmp_path: Path, field: str, value: Any, ok: bool) -> None:
    write_doc(tmp_path, ALL_TYPES_DOC)
    habit = registry.SchemaRegistry.load([tmp_path]).get("habit")
    good = candidate("event", category="habit", attributes={field: value})
    if ok:
        habit.validate_candidate(good)
    else:
        with pytest.raises(errors.InvalidCandidate) as exc:
            habit.validate_candidate(good)
        assert exc.value.field == field


def test_parse_type_accepts_a_mapping_built_in_code() -> None:
    memory_type = registry.parse_type(VALID_DOC, source="<test>")
    assert registry.SchemaRegistry([memory_type]).names() == ["habit"]
    with pytest.raises(errors.SchemaError) as exc:
        registry.parse_type(doc_with(owner_scope="team"), source="<test>")
    assert (exc.value.file, exc.value.field) == ("<test>", "owner_scope")
