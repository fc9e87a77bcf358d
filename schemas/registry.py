"""Which record types exist, where their JSON Schema files live, and compiled validators for them."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import jsonschema

SCHEMA_VERSION = "v1"

# Adding an input type is one schema file plus one line here (and its topic in streams/).
RECORD_TYPES: tuple[str, ...] = ("job_posting", "agency_filing", "business_registration")
OTHER_SCHEMAS: tuple[str, ...] = ("finding",)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the parsed JSON Schema `<name>.v1.json` shipped with this package."""
    text = resources.files("schemas").joinpath(f"{name}.{SCHEMA_VERSION}.json").read_text("utf-8")
    return json.loads(text)


@cache
def fast_validator(name: str) -> Callable[[Any], Any]:
    """A compiled validator: cheap on valid input, raises on the first violation."""
    return fastjsonschema.compile(load_schema(name))


@cache
def full_validator(name: str) -> jsonschema.Draft202012Validator:
    """The reference validator, used to explain a failure with every error and its path."""
    schema = load_schema(name)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
