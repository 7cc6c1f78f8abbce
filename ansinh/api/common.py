"""What every API operation shares: the types of ids and texts with the limits the API enforces,
the error bodies, and `responses()`, which declares every status an operation answers, so that
the OpenAPI schema tells a client (and the fuzzer, tests/api/test_fuzz.py) exactly what is valid
and what comes back.

The limits are the database's, stated where the request is parsed: an id beyond a 64-bit primary
key, a text longer than its column or holding a NUL character (PostgreSQL text cannot store one)
is a 422 with the field's location, never a database error."""

from typing import Annotated, Any

from ninja import Field, Schema

MAX_ID = 2**63 - 1  # the largest bigint primary key

Id = Annotated[int, Field(ge=1, le=MAX_ID, description="A record id (1 to 2^63 - 1).")]

NO_NUL = r"^[^\x00]*$"  # every text: PostgreSQL text and varchar columns cannot hold U+0000


def text(default: Any = ..., *, max_length: int, min_length: int | None = None, **extra: Any) -> Any:
    """A text field (body or query): at most `max_length` characters (the column's), no NUL."""
    return Field(default, max_length=max_length, min_length=min_length, pattern=NO_NUL, **extra)


# --- error bodies ---------------------------------------------------------------------------


class Message(Schema):
    """400, 401, 403, 404: what went wrong, translated."""

    detail: str


class FieldError(Schema):
    loc: list[str | int] = Field(
        ..., description='Where: `["body", "cccd"]`, `["query", "page"]`, `["path", "beneficiary_id"]`…'
    )
    msg: str = Field(..., description="What is wrong, translated when a registry rule refused it.")
    type: str = Field(
        "rule",
        description="`rule` when a registry rule refused a well-formed request (e.g. a CCCD that "
        "contradicts the birth date); otherwise the parser's error type (e.g. `missing`).",
    )


class ValidationErrors(Schema):
    """422: the request is malformed or a registry rule refused it; one entry per problem."""

    detail: list[FieldError]


def responses(
    ok: dict[int, Any],
    *,
    body: bool = False,
    params: bool = True,
    forbidden: bool = False,
    not_found: bool = False,
) -> dict[int, Any]:
    """The `response=` of an operation: its success statuses `ok` plus the errors it answers.

    Every operation needs a token (401). `body`: it reads a JSON body (400 when that is not JSON,
    422 when it is not valid). `params`: it has query or path parameters (422). `forbidden`: the
    user may see the record but not change it (403). `not_found`: a record named in the path or
    body is not in the user's areas (404)."""
    declared: dict[int, Any] = {**ok, 401: Message}
    if body:
        declared[400] = Message
    if forbidden:
        declared[403] = Message
    if not_found:
        declared[404] = Message
    if body or params:
        declared[422] = ValidationErrors
    return dict(sorted(declared.items()))
