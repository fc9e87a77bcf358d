"""The rule registry: rule metadata as data (severity, legal basis), and detector classes that register themselves."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, ClassVar

from detectors.findings import CATEGORIES, SEVERITIES

if TYPE_CHECKING:
    from detectors.context import DetectionContext
    from detectors.findings import Finding

# Each category package holds its detectors (one module each) and a rules.toml with the metadata
# of every rule it may emit.
CATEGORY_PACKAGES = {c: f"detectors.{c}" for c in CATEGORIES}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What a rule is: its name, default severity and score, legal basis and a one-line explanation."""

    name: str
    category: str
    severity: str
    score: float
    legal_basis: tuple[str, ...]
    explanation: str


@cache
def rule_specs() -> dict[str, RuleSpec]:
    """All rule metadata, read from detectors/<category>/rules.toml."""
    specs: dict[str, RuleSpec] = {}
    for category, package in CATEGORY_PACKAGES.items():
        path = resources.files(package).joinpath("rules.toml")
        if not path.is_file():
            continue
        data = tomllib.loads(path.read_text("utf-8"))
        for short, entry in data.get("rules", {}).items():
            name = f"{category}.{short}"
            severity = entry["severity"]
            if severity not in SEVERITIES:
                raise ValueError(f"{path}: rules.{short}.severity must be one of {SEVERITIES}, got {severity!r}")
            specs[name] = RuleSpec(
                name=name,
                category=category,
                severity=severity,
                score=float(entry.get("score", 0.8)),
                legal_basis=tuple(entry.get("legal_basis", ())),
                explanation=entry["explanation"],
            )
    return specs


class Detector(ABC):
    """A pure detector: record context in, findings out. Concrete subclasses register themselves.

    `rules` names every rule the detector may emit (each must have an entry in its category's
    rules.toml); `record_types` says which records it looks at.
    """

    rules: ClassVar[tuple[str, ...]] = ()
    record_types: ClassVar[frozenset[str]] = frozenset({"job_posting"})
    _registry: ClassVar[list[type[Detector]]] = []

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not getattr(cls, "__abstractmethods__", None) and cls.rules:
            Detector._registry.append(cls)

    @abstractmethod
    def detect(self, ctx: DetectionContext) -> Iterable[Finding]:
        """Yield the findings for the record in `ctx`."""


@cache
def _discover() -> None:
    for package in CATEGORY_PACKAGES.values():
        try:
            pkg = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        for info in pkgutil.iter_modules(pkg.__path__, package + "."):
            importlib.import_module(info.name)


def all_detectors() -> tuple[Detector, ...]:
    """One instance of every registered detector, after importing every detector module."""
    _discover()
    specs = rule_specs()
    instances = []
    seen: set[type[Detector]] = set()
    for cls in Detector._registry:
        if cls in seen:
            continue
        seen.add(cls)
        missing = [r for r in cls.rules if r not in specs]
        if missing:
            raise ValueError(f"{cls.__name__} emits rules without metadata in rules.toml: {missing}")
        instances.append(cls())
    return tuple(instances)
