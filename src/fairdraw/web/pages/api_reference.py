"""The API reference as plain data for ``api_docs.html``, read from the OpenAPI document:
operations grouped by tag, each with its parameters, body and answers, and every schema
with its fields. A server-rendered page built from it works with a screen reader, a
keyboard and no JavaScript; Swagger UI stays available for trying calls out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_METHODS = ("get", "post", "put", "patch", "delete")
_REF_PREFIX = "#/components/schemas/"
# Code spans as the docstrings write them: `x` or ``x``.
_CODE_SPAN = re.compile(r"``([^`]+)``|`([^`]+)`")

# Text with its code spans marked: (text, is_code) pairs, for the template to set.
Prose = tuple[tuple[str, bool], ...]


def prose(text: str) -> Prose:
    """``text`` cut into plain runs and code spans (the backticks dropped)."""
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        if match.start() > position:
            parts.append((text[position : match.start()], False))
        parts.append((match[1] or match[2], True))
        position = match.end()
    if position < len(text):
        parts.append((text[position:], False))
    return tuple(parts)


@dataclass(frozen=True)
class Field:
    """A parameter or a schema property."""

    name: str
    where: str
    type: str
    required: bool
    description: Prose


@dataclass(frozen=True)
class Answer:
    status: str
    description: Prose
    schema: str


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: Prose
    parameters: tuple[Field, ...]
    body: str
    body_anchor: str
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Group:
    name: str
    anchor: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Schema:
    name: str
    anchor: str
    description: Prose
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    description: Prose
    groups: tuple[Group, ...]
    schemas: tuple[Schema, ...]


def type_name(schema: Mapping[str, Any]) -> str:
    """A short human name for a JSON schema: ``string``, ``list of DrawOut``, ``A or B``."""
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(_REF_PREFIX)
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            names = [type_name(part) for part in schema[combined]]
            return " or ".join(dict.fromkeys(names))
    kind = schema.get("type")
    if kind == "array":
        return f"list of {type_name(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if kind is None:
        return "any"
    return str(kind)


def _anchor(prefix: str, text: str) -> str:
    return prefix + "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _body_schema(content: Mapping[str, Any]) -> str:
    for media in content.values():
        if "schema" in media:
            return type_name(media["schema"])
    return ""


def _operation(path: str, method: str, spec: Mapping[str, Any]) -> Operation:
    parameters = tuple(
        Field(
            name=str(p["name"]),
            where=str(p.get("in", "")),
            type=type_name(p.get("schema", {})),
            required=bool(p.get("required", False)),
            description=prose(str(p.get("description", ""))),
        )
        for p in spec.get("parameters", [])
    )
    answers = tuple(
        Answer(
            str(status),
            prose(str(answer.get("description", ""))),
            _body_schema(answer.get("content", {})),
        )
        for status, answer in spec.get("responses", {}).items()
    )
    body = _body_schema(spec.get("requestBody", {}).get("content", {}))
    return Operation(
        anchor=_anchor("op-", spec.get("operationId", f"{method}-{path}")),
        method=method.upper(),
        path=path,
        summary=str(spec.get("summary", "")),
        description=prose(str(spec.get("description", ""))),
        parameters=parameters,
        body=body,
        body_anchor=_anchor("schema-", body),
        answers=answers,
    )


def build_reference(document: Mapping[str, Any]) -> Reference:
    """The reference for the OpenAPI ``document``, in the document's order."""
    groups: dict[str, list[Operation]] = {}
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                spec = item[method]
                tag = str((spec.get("tags") or ["other"])[0])
                groups.setdefault(tag, []).append(_operation(path, method, spec))
    schemas = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        fields = tuple(
            Field(
                name=str(prop_name),
                where="",
                type=type_name(prop),
                required=prop_name in required,
                description=prose(str(prop.get("description", ""))),
            )
            for prop_name, prop in schema.get("properties", {}).items()
        )
        schemas.append(
            Schema(
                name, _anchor("schema-", name), prose(str(schema.get("description", ""))), fields
            )
        )
    info = document.get("info", {})
    return Reference(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        description=prose(str(info.get("description", ""))),
        groups=tuple(
            Group(tag, _anchor("tag-", tag), tuple(operations))
            for tag, operations in groups.items()
        ),
        schemas=tuple(schemas),
    )
