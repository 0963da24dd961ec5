"""Schemathesis hooks for fuzzing fairdraw's API, loaded by ``schemathesis run`` (the
``hooks`` entry of the configuration tests/support/fuzzing.py writes).

Two things a schema cannot tell the fuzzer:

- **One fresh Idempotency-Key per request.** docs/api.md asks a client for a new key with
  each new operation; a key sent again with another request is refused (422
  ``idempotency_key_reused``), as it should be. A generator draws the same few valid keys
  for many different requests, so :func:`before_call` binds each valid key to its request
  (method, path, query, media type, body): the same request keeps its key, and is replayed,
  another gets another. Keys the schema forbids are sent as generated.
- **Rules no JSON Schema can state.** Some 422s apply rules across fields, on the clock or
  on what the store holds; a request the schema allows is then refused on purpose.
  :func:`filter_failure` drops a "schema-valid request rejected" failure only when every
  field the 422 names is one of :data:`UNSTATED_RULES` (matched by operation, field and
  the domain's own message) or an integral JSON float for an integer (see below). Any
  other refusal of schema-valid data still fails the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure

from fairdraw.domain.errors import IdempotencyKeyInvalid
from fairdraw.domain.idempotency import HEADER, KEY_MAX_LENGTH, parse_key
from tests.support.fuzzing import EXPLAINED_LOG_VARIABLE

_DIGEST_CHARS = 16
# The failure of the positive_data_acceptance check.
_REJECTED_POSITIVE_DATA = "ST202"
# What pydantic says of a JSON float for an integer field. JSON Schema counts 5.0 as an
# integer; fairdraw takes counts as JSON integers only (docs/api.md, tests/integration/
# test_bad_input.py), which no schema keyword can say.
_NOT_AN_INTEGER = "Input should be a valid integer"

# (field, start of the message) of each rule a schema cannot state, by operation.
UNSTATED_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "POST /api/v1/draws": (
        ("deadline", "Give a deadline or a duration, not both"),  # across fields
        ("deadline", "The deadline must be in the future"),  # on the clock
        ("duration", "At most 366 days"),  # a sum of the pattern's parts
        ("auto_draw", "Drawing automatically needs a deadline or a duration"),  # across fields
        (r"prizes\.\d+\.name", "Prize names must be unique"),  # across items, any case
        ("embed_origins", "Not an origin"),  # a host name's grammar, a port's range
        # across fields; and on the server's settings (its GitHub OAuth app)
        ("github_sign_in", "Signing in with GitHub is for draws entered with GitHub"),
        ("github_sign_in", "Signing in with GitHub needs the server's GitHub OAuth app"),
        # the zone database (tzdata's names and aliases), not a schema keyword
        ("time_zone", "Unknown time zone"),
    ),
    # A draft's edit: the rules of creation, for either kind, and settings of the other kind.
    "PATCH /api/v1/draws/{draw_id}": (
        ("deadline", "Give a deadline or a duration, not both"),
        ("deadline", "The deadline must be in the future"),
        ("duration", "At most 366 days"),
        ("auto_draw", "Drawing automatically needs a deadline or a duration"),
        (r"prizes\.\d+\.name", "Prize names must be unique"),
        ("embed_origins", "Not an origin"),
        ("github_sign_in", "Signing in with GitHub is for draws entered with GitHub"),
        ("github_sign_in", "Signing in with GitHub needs the server's GitHub OAuth app"),
        ("prizes", "{n} prizes but only {n} tickets"),
        ("per_claimant", "Tickets per person must be between 1 and the number of tickets"),
        ("ticket_count", "A raffle that may not close early can close only when all"),
        ("time_zone", "Unknown time zone"),
        ("(ticket_count|claimants|per_claimant|early_close)", "A giveaway has no setting"),
        (
            "(deadline|duration|entry_identity|auto_draw|embed_origins|github_sign_in)",
            "A raffle has no setting",
        ),
    ),
    "POST /api/v1/raffles": (
        # the zone database (tzdata's names and aliases), not a schema keyword
        ("time_zone", "Unknown time zone"),
        ("prizes", "{n} prizes but only {n} tickets"),  # across fields
        ("per_claimant", "Tickets per person must be between 1 and the number of tickets"),
        # across fields: many tickets need early close
        ("ticket_count", "A raffle that may not close early can close only when all"),
        (r"prizes\.\d+\.name", "Prize names must be unique"),
    ),
    "POST /api/v1/lotteries": (
        ("start", "The start date can't be before today"),  # on the clock
        ("start", "At most 10 years from today"),
        ("end", "The end date can't be before the start date"),  # across fields
        ("end", "The end date can't be before today"),
        ("end", "At most 10 years from today"),
    ),
    "POST /api/v1/users": (
        ("password", "The password must not be the username"),  # across fields
    ),
    # The grammar of e-mail addresses (RFC 5321/5322, IDNA domains, special-use domains):
    # email-validator's, which no pattern states.
    "PATCH /api/v1/account": (
        ("email", "This is not an e-mail address"),
        ("email", "The e-mail address must not be empty"),
    ),
    "POST /api/v1/session/password": (
        ("new_password", "The password must not be the username"),  # the caller's name
    ),
    "POST /api/v1/auth/token": (
        # RFC 6749: which fields are required depends on grant_type.
        ("username", "Field required"),
        ("password", "Field required"),
        ("refresh_token", "Field required"),
    ),
    # On the draw: a GitHub username is required by draws entered with GitHub only.
    "POST /api/v1/draws/{draw_id}/entries": (("github", "Enter a GitHub username"),),
    # A CSV file's rows, read against its own header: nothing a schema can say.
    "POST /api/v1/draws/{draw_id}/import": (("file", "The file has {n} problem"),),
    # On the draw: steps run from 0 to its number of prize slots.
    "POST /api/v1/draws/{draw_id}/reveal": (("step", "Give a whole number from 0 to"),),
    # A search is compared in the canonical form of usernames, which NFKC can make longer
    # than the text sent ("\ufdfa" is 18 characters); the schema bounds the text sent.
    "GET /api/v1/users": (("q", "Search for at most 32 characters"),),
    # The draw log: sizes and indexes are bounded by the log's size now, and by each other.
    "GET /api/v1/log/inclusion": (
        ("leaf_index", "a leaf of the tree: 0 to"),
        ("tree_size", "a tree size from 0 to the log's size"),
    ),
    "GET /api/v1/log/consistency": (
        ("first", "a tree size from 0 to second"),
        ("second", "a tree size from 0 to the log's size"),
    ),
    "GET /api/v1/log/entries": (("end", "at least start"),),
    # On the draw: a single digit is a ticket number, which only raffles have.
    "GET /api/v1/draws/{draw_id}/entries": (("q", "Type at least 2 characters of a name"),),
    # The entrant list searches as the dashboard does (a single digit is a ticket number).
    "GET /api/v1/draws/{draw_id}/entrants": (("q", "Type at least 2 characters of a name"),),
}


def _request_digest(case: schemathesis.Case[Any], method: str) -> str:
    try:
        body = json.dumps(case.body, default=repr)
    except (TypeError, ValueError):
        body = repr(case.body)
    headers: Mapping[str, Any] = case.headers or {}
    content_type = str(headers.get("Content-Type") or case.media_type or "")
    query = json.dumps(case.query, default=repr)
    request = "\0".join([method, case.formatted_path, query, content_type, body])
    return hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]


@schemathesis.hook
def before_call(
    context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]
) -> None:
    """Bind a valid Idempotency-Key to its request (see the module docstring)."""
    raw = case.headers.get(HEADER) if case.headers else None
    if not isinstance(raw, str):
        return
    try:
        key = parse_key(raw)
    except IdempotencyKeyInvalid:
        return  # a malformed key is what the request is testing
    method = str(kwargs.get("method") or case.method).upper()
    digest = _request_digest(case, method)
    case.headers[HEADER] = f"{key[: KEY_MAX_LENGTH - _DIGEST_CHARS - 1]}.{digest}"


def _matches(template: str, message: str) -> bool:
    pattern = re.escape(template).replace(re.escape("{n}"), r"[0-9,]+")
    return re.match(pattern, message) is not None


def _sent_value(body: object, field: str) -> object:
    value = body
    for part in field.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def explanation(operation: str, body: object, errors: dict[str, str]) -> list[str] | None:
    """The rules the schema cannot state that refused every field of a 422's ``errors``
    (for ``operation``, e.g. ``"POST /api/v1/draws"``, that sent ``body``), one per
    field as ``"field: rule"``; None if some field was refused for another reason."""
    found: list[str] = []
    rules = UNSTATED_RULES.get(operation, ())
    for field, message in errors.items():
        value = _sent_value(body, field)
        if message == _NOT_AN_INTEGER and isinstance(value, float) and value.is_integer():
            found.append(f"{field}: a JSON float for an integer")
            continue
        rule = next((m for f, m in rules if re.fullmatch(f, field) and _matches(m, message)), None)
        if rule is None:
            return None
        found.append(f"{field}: {rule}")
    return found or None


@schemathesis.hook
def filter_failure(
    context: schemathesis.HookContext,
    failure: Failure,
    case: schemathesis.Case[Any],
    response: schemathesis.Response,
) -> bool:
    """Keep every failure but a 422 explained by :data:`UNSTATED_RULES`, which is counted
    in the file named by ``$FAIRDRAW_FUZZ_EXPLAINED`` if set (one JSON line each)."""
    if failure.code != _REJECTED_POSITIVE_DATA or response.status_code != 422:
        return True
    try:
        problem = json.loads(response.content)
    except ValueError:
        return True
    errors = problem.get("errors") if isinstance(problem, dict) else None
    if problem.get("code") != "invalid_input" or not isinstance(errors, dict):
        return True
    rules = explanation(case.operation.label, case.body, errors)
    if rules is None:
        return True
    log = os.environ.get(EXPLAINED_LOG_VARIABLE)
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(json.dumps({"operation": case.operation.label, "rules": rules}) + "\n")
    return False
