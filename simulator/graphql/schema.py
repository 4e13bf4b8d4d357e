"""The Admin API schema subset (``schema.graphql``), and parsing + validation against it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from graphql import (
    DocumentNode,
    GraphQLError,
    build_schema,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import (
    FieldsOnCorrectTypeRule,
    KnownArgumentNamesRule,
    ProvidedRequiredArgumentsRule,
)

SCHEMA = build_schema((Path(__file__).parent / "schema.graphql").read_text())

# Shopify's (graphql-ruby) error codes for the validation failures a client meets most.
CODES = {
    FieldsOnCorrectTypeRule: "undefinedField",
    KnownArgumentNamesRule: "argumentNotAccepted",
    ProvidedRequiredArgumentsRule: "missingRequiredArguments",
}


def error_dict(error: GraphQLError, code: str) -> dict:
    """A graphql-core error in Shopify's shape."""
    out: dict = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    out["extensions"] = {"code": code}
    return out


@lru_cache(maxsize=512)
def checked(query: str) -> tuple[DocumentNode | None, tuple[dict, ...]]:
    """The parsed document, or the errors of parsing/validating it (cached per text)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, (error_dict(exc, "parseError"),)
    errors = validate(SCHEMA, document)
    if not errors:
        return document, ()
    # again rule by rule, to tag each error with its code
    tagged = [
        error_dict(error, CODES.get(rule, "validationError"))
        for rule in specified_rules
        for error in validate(SCHEMA, document, [rule])
    ]
    return None, tuple(tagged)
