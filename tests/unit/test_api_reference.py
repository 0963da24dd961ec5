"""The API reference page's data, read from an OpenAPI document."""

from __future__ import annotations

from fairdraw.web.pages.api_reference import (
    Answer,
    Field,
    build_reference,
    prose,
    type_name,
)

DOCUMENT = {
    "info": {"title": "fairdraw", "version": "1.2.3", "description": "Errors carry a `code`."},
    "paths": {
        "/api/v1/draws/{draw_id}": {
            "get": {
                "tags": ["draws"],
                "summary": "Get Draw",
                "description": "One draw; ``404`` when unknown.",
                "operationId": "get_draw_api_v1_draws__draw_id__get",
                "parameters": [
                    {
                        "name": "draw_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "Successful Response",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/DrawOut"}}
                        },
                    }
                },
            },
        },
        "/healthz": {"get": {"summary": "Health", "responses": {}}},
    },
    "components": {
        "schemas": {
            "DrawOut": {
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "description": "The draw's id."},
                    "winners": {"type": "array", "items": {"$ref": "#/components/schemas/Winner"}},
                    "ends": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
            }
        }
    },
}


def test_prose_marks_code_spans_in_single_and_double_backticks() -> None:
    assert prose("a `b` c ``d`` e") == (
        ("a ", False),
        ("b", True),
        (" c ", False),
        ("d", True),
        (" e", False),
    )
    assert prose("") == ()
    assert prose("plain") == (("plain", False),)


def test_type_names_are_short() -> None:
    assert type_name({"$ref": "#/components/schemas/DrawOut"}) == "DrawOut"
    assert type_name({"type": "array", "items": {"type": "integer"}}) == "list of integer"
    assert type_name({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "string or null"
    assert type_name({"enum": ["open", "closed"]}) == "open | closed"
    assert type_name({}) == "any"


def test_the_reference_groups_operations_by_tag_and_lists_every_schema() -> None:
    reference = build_reference(DOCUMENT)
    assert (reference.title, reference.version) == ("fairdraw", "1.2.3")
    assert reference.description == (("Errors carry a ", False), ("code", True), (".", False))
    assert [group.name for group in reference.groups] == ["draws", "other"]
    [operation] = reference.groups[0].operations
    assert (operation.method, operation.path, operation.summary) == (
        "GET",
        "/api/v1/draws/{draw_id}",
        "Get Draw",
    )
    assert operation.anchor == "op-get-draw-api-v1-draws--draw-id--get"
    assert operation.parameters == (Field("draw_id", "path", "string", True, ()),)
    assert operation.answers == (Answer("200", (("Successful Response", False),), "DrawOut"),)
    assert operation.body == ""
    [schema] = reference.schemas
    assert (schema.name, schema.anchor) == ("DrawOut", "schema-drawout")
    assert [(f.name, f.type, f.required) for f in schema.fields] == [
        ("id", "string", True),
        ("winners", "list of Winner", False),
        ("ends", "string or null", False),
    ]
