"""The routing policy as data (sharing/policy.toml): partners, routes, fields; validated with errors naming entry and field."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detectors.findings import CATEGORIES, SEVERITIES
from detectors.rules import rule_specs
from sharing.minimise import FIELDS, UNMASKABLE

SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
SHARE_MODES = ("immediate", "after_confirmation")
SUBJECT_TYPES = ("job_posting", "agency_filing", "business_registration")
PARTNER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ROUTE_NAME = re.compile(r"^[a-z0-9_.\-]{1,100}$")
ON_REQUEST = "on_request"

_TOP_KEYS = {"version", "partners", "routes"}
_PARTNER_KEYS = {"name", "classification", "fields", ON_REQUEST}
_ON_REQUEST_KEYS = {"legal_basis", "fields", "unmask", "unmask_legal_basis"}
_ROUTE_KEYS = {
    "name",
    "partner",
    "rules",
    "subject_types",
    "min_severity",
    "min_score",
    "subject_has",
    "share",
    "legal_basis",
    "fields",
    "unmask",
    "unmask_legal_basis",
    "classification",
}


class PolicyError(ValueError):
    """The policy file is invalid; `problems` lists each one as `<entry>.<field>: <what is wrong>`."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"invalid sharing policy {source}:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True, slots=True)
class Route:
    """One routing decision: findings matching it go to `partner`, now or after a regulator confirms them."""

    name: str
    partner: str
    rules: frozenset[str]  # exact rule names
    categories: frozenset[str]  # whole categories ("personal_data.*")
    subject_types: frozenset[str]  # empty: any
    min_severity: str
    min_score: float
    subject_has: tuple[str, ...]
    share: str  # immediate | after_confirmation | on_request (a partner's on_request route)
    legal_basis: tuple[str, ...]
    fields: tuple[str, ...]
    unmask: tuple[str, ...]
    unmask_legal_basis: tuple[str, ...]
    classification: str

    @property
    def after_confirmation(self) -> bool:
        return self.share == "after_confirmation"

    def matches(self, finding: Mapping[str, Any]) -> bool:
        """Whether the finding itself matches (rule, subject type, severity, score); `subject_has` is checked apart."""
        rule = str(finding.get("rule", ""))
        if rule not in self.rules and rule.split(".", 1)[0] not in self.categories:
            return False
        subject = finding.get("subject") or {}
        if self.subject_types and subject.get("type") not in self.subject_types:
            return False
        if SEVERITY_RANK.get(str(finding.get("severity")), -1) < SEVERITY_RANK[self.min_severity]:
            return False
        return float(finding.get("score") or 0.0) >= self.min_score


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner department: display name, classification marking, default fields, and its on-request route."""

    name: str
    title: str
    classification: str
    fields: tuple[str, ...]
    on_request: Route | None  # used for a supervisor's explicit "share" decision; None: not allowed


@dataclass(frozen=True, slots=True)
class SharingPolicy:
    """The validated policy; `digest` (sha256 of the file) and `version` go into every envelope and audit row."""

    version: str
    digest: str
    source: str
    partners: Mapping[str, Partner]
    routes: tuple[Route, ...]

    def routes_of(self, partner: str) -> tuple[Route, ...]:
        return tuple(r for r in self.routes if r.partner == partner)

    def candidates(self, finding: Mapping[str, Any]) -> dict[str, list[Route]]:
        """Per partner, the routes the finding matches, in policy order (the first whose `subject_has` holds decides)."""
        out: dict[str, list[Route]] = {}
        for route in self.routes:
            if route.matches(finding):
                out.setdefault(route.partner, []).append(route)
        return out

    def route(self, name: str) -> Route | None:
        for r in self.routes:
            if r.name == name:
                return r
        for p in self.partners.values():
            if p.on_request is not None and p.on_request.name == name:
                return p.on_request
        return None

    def table(self) -> str:
        """The routing table, one line per route, for `hrwatch share policy`."""
        lines = [f"policy {self.version} (sha256 {self.digest[:12]}) from {self.source}"]
        for p in self.partners.values():
            lines.append(f"{p.name}: {p.title} [{p.classification}]")
            for r in (*self.routes_of(p.name), *([p.on_request] if p.on_request else [])):
                what = ", ".join(sorted(r.rules) + [f"{c}.*" for c in sorted(r.categories)]) or "(on request)"
                extra = f" subject_types={sorted(r.subject_types)}" if r.subject_types else ""
                extra += f" subject_has={list(r.subject_has)}" if r.subject_has else ""
                extra += f" unmask={list(r.unmask)}" if r.unmask else ""
                lines.append(f"  {r.name}: {what} ≥{r.min_severity} {r.share}{extra}; {len(r.fields)} fields")
        return "\n".join(lines)


def default_policy_path() -> Path:
    return Path(__file__).with_name("policy.toml")


def load_policy(path: str | Path | None = None) -> SharingPolicy:
    """Read and validate a policy file (default: the bundled sharing/policy.toml); PolicyError lists every problem."""
    p = Path(path) if path is not None else default_policy_path()
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PolicyError(str(p), [f"cannot read the file: {exc.strerror}"]) from None
    return parse_policy(raw, str(p))


def parse_policy(raw: bytes | str, source: str = "<policy>") -> SharingPolicy:
    """Validate policy TOML text; PolicyError lists every problem found, not just the first."""
    data_bytes = raw.encode("utf-8") if isinstance(raw, str) else raw
    try:
        data = tomllib.loads(data_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from None
    checker = _Checker()
    policy = checker.policy(data, hashlib.sha256(data_bytes).hexdigest(), source)
    if checker.problems:
        raise PolicyError(source, checker.problems)
    assert policy is not None
    return policy


class _Checker:
    """Collects every problem with its place, so one run of `hrwatch share policy` shows them all."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.known_rules = set(rule_specs())

    def bad(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def unknown_keys(self, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(table) - allowed):
            self.bad(f"{where}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def string(self, where: str, value: Any, *, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.bad(
                where, "required, a non-empty string" if value is None else f"must be a non-empty string, got {value!r}"
            )
            return ""
        return value

    def strings(self, where: str, value: Any, *, required: bool = True) -> tuple[str, ...]:
        if value is None:
            if required:
                self.bad(where, "required, a non-empty list of strings")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.bad(where, f"must be a list of non-empty strings, got {value!r}")
            return ()
        if required and not value:
            self.bad(where, "must not be empty")
        dupes = sorted({v for v in value if value.count(v) > 1})
        if dupes:
            self.bad(where, f"lists {', '.join(dupes)} more than once")
        return tuple(value)

    def field_names(self, where: str, value: Any, *, required: bool) -> tuple[str, ...]:
        names = self.strings(where, value, required=required)
        unknown = [n for n in names if n not in FIELDS]
        if unknown:
            self.bad(where, f"unknown field name(s) {', '.join(unknown)}; known: see sharing/minimise.py FIELDS")
        return names

    def policy(self, data: Mapping[str, Any], digest: str, source: str) -> SharingPolicy | None:
        self.unknown_keys("policy", data, _TOP_KEYS)
        version = self.string("policy.version", data.get("version"))
        partners_raw = data.get("partners")
        partners: dict[str, Partner] = {}
        if not isinstance(partners_raw, dict) or not partners_raw:
            self.bad("policy.partners", "required: at least one [partners.<name>] table")
            partners_raw = {}
        for name, entry in partners_raw.items():
            partner = self.partner(name, entry)
            if partner is not None:
                partners[name] = partner
        routes_raw = data.get("routes", [])
        routes: list[Route] = []
        if not isinstance(routes_raw, list):
            self.bad("policy.routes", "must be an array of [[routes]] tables")
            routes_raw = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(routes_raw):
            route = self.route(i, entry, partners_raw, partners)
            if route is None:
                continue
            if route.name in seen:
                self.bad(f"routes[{i}] ({route.name}).name", f"duplicates routes[{seen[route.name]}]")
            seen[route.name] = i
            routes.append(route)
        for p in partners.values():
            if p.on_request is not None and p.on_request.name in seen:
                self.bad(f"routes[{seen[p.on_request.name]}].name", f"{p.on_request.name!r} is reserved for on_request")
        if not self.problems:
            return SharingPolicy(version, digest, source, partners, tuple(routes))
        return None

    def partner(self, name: str, entry: Any) -> Partner | None:
        where = f"partners.{name}"
        if not PARTNER_NAME.match(name):
            self.bad(
                where, "a partner name is lower-case letters, digits and _ (it names the topic hr.share.<name>.v1)"
            )
        if not isinstance(entry, dict):
            self.bad(where, "must be a table")
            return None
        self.unknown_keys(where, entry, _PARTNER_KEYS)
        title = self.string(f"{where}.name", entry.get("name"))
        classification = self.string(f"{where}.classification", entry.get("classification"))
        fields = self.field_names(f"{where}.fields", entry.get("fields"), required=True)
        on_request = None
        raw = entry.get(ON_REQUEST)
        if raw is not None:
            if not isinstance(raw, dict):
                self.bad(f"{where}.{ON_REQUEST}", "must be a table")
            else:
                here = f"{where}.{ON_REQUEST}"
                self.unknown_keys(here, raw, _ON_REQUEST_KEYS)
                on_request = self.route_body(
                    here,
                    f"{name}.{ON_REQUEST}",
                    name,
                    raw,
                    fields,
                    classification,
                    rules=frozenset(),
                    categories=frozenset(),
                    subject_types=frozenset(),
                    min_severity="low",
                    min_score=0.0,
                    subject_has=(),
                    share=ON_REQUEST,
                )
        return Partner(name, title, classification, fields, on_request)

    def route(
        self, i: int, entry: Any, partners_raw: Mapping[str, Any], partners: Mapping[str, Partner]
    ) -> Route | None:
        if not isinstance(entry, dict):
            self.bad(f"routes[{i}]", "must be a table")
            return None
        name = entry.get("name")
        where = f"routes[{i}] ({name})" if isinstance(name, str) and name else f"routes[{i}]"
        self.unknown_keys(where, entry, _ROUTE_KEYS)
        name = self.string(f"{where}.name", name)
        if name and not ROUTE_NAME.match(name):
            self.bad(f"{where}.name", "lower-case letters, digits, '.', '_' and '-' only")
        partner_name = self.string(f"{where}.partner", entry.get("partner"))
        partner = partners.get(partner_name)
        if partner_name and partner_name not in partners_raw:
            known = ", ".join(sorted(partners_raw)) or "none"
            self.bad(f"{where}.partner", f"no partner {partner_name!r} in [partners] (known: {known})")
        rules, categories = self.rule_names(f"{where}.rules", entry.get("rules"))
        subject_types = self.strings(f"{where}.subject_types", entry.get("subject_types"), required=False)
        for t in subject_types:
            if t not in SUBJECT_TYPES:
                self.bad(f"{where}.subject_types", f"{t!r} is not one of {', '.join(SUBJECT_TYPES)}")
        min_severity = entry.get("min_severity")
        if min_severity not in SEVERITY_RANK:
            self.bad(f"{where}.min_severity", f"must be one of {', '.join(SEVERITIES)}, got {min_severity!r}")
            min_severity = "low"
        min_score = entry.get("min_score", 0.0)
        if not isinstance(min_score, int | float) or isinstance(min_score, bool) or not 0 <= min_score <= 1:
            self.bad(f"{where}.min_score", f"must be a number from 0 to 1, got {min_score!r}")
            min_score = 0.0
        share = entry.get("share")
        if share not in SHARE_MODES:
            self.bad(f"{where}.share", f"must be one of {', '.join(SHARE_MODES)}, got {share!r}")
            share = "after_confirmation"
        subject_has = self.field_names(f"{where}.subject_has", entry.get("subject_has"), required=False)
        for f in subject_has:
            if f in FIELDS and not f.startswith("record."):
                self.bad(f"{where}.subject_has", f"{f} is a finding field; subject_has names record.* fields")
        default_fields = partner.fields if partner else ()
        classification = partner.classification if partner else ""
        return self.route_body(
            where,
            name,
            partner_name,
            entry,
            default_fields,
            classification,
            rules=rules,
            categories=categories,
            subject_types=frozenset(subject_types),
            min_severity=str(min_severity),
            min_score=float(min_score),
            subject_has=subject_has,
            share=str(share),
        )

    def route_body(
        self,
        where: str,
        name: str,
        partner: str,
        entry: Mapping[str, Any],
        default_fields: tuple[str, ...],
        default_classification: str,
        **match: Any,
    ) -> Route:
        """The parts routes and on_request share: legal basis, fields, unmasking, classification."""
        legal_basis = self.strings(f"{where}.legal_basis", entry.get("legal_basis"), required=True)
        fields = default_fields
        if "fields" in entry:
            fields = self.field_names(f"{where}.fields", entry.get("fields"), required=True)
        unmask = self.field_names(f"{where}.unmask", entry.get("unmask"), required=False)
        unmask_basis = self.strings(f"{where}.unmask_legal_basis", entry.get("unmask_legal_basis"), required=False)
        for f in unmask:
            if f in FIELDS and f not in UNMASKABLE:
                self.bad(f"{where}.unmask", f"{f} is not personal data that could be unmasked")
            elif f in FIELDS and f not in fields:
                self.bad(f"{where}.unmask", f"{f} is not among the fields shared by this route")
        if unmask and not unmask_basis:
            self.bad(
                f"{where}.unmask_legal_basis",
                "required when unmask lists fields: the legal basis for sending personal data unmasked",
            )
        if unmask_basis and not unmask:
            self.bad(f"{where}.unmask_legal_basis", "given but unmask lists no field")
        classification = default_classification
        if "classification" in entry:
            classification = self.string(f"{where}.classification", entry.get("classification"))
        if "finding.id" not in fields and fields:
            self.bad(f"{where}.fields", "must include finding.id (partners refer to findings by it)")
        return Route(
            name=name,
            partner=partner,
            legal_basis=legal_basis,
            fields=fields,
            unmask=unmask,
            unmask_legal_basis=unmask_basis,
            classification=classification,
            **match,
        )

    def rule_names(self, where: str, value: Any) -> tuple[frozenset[str], frozenset[str]]:
        names = self.strings(where, value, required=True)
        rules: set[str] = set()
        categories: set[str] = set()
        for n in names:
            if n.endswith(".*"):
                category = n[:-2]
                if category in CATEGORIES:
                    categories.add(category)
                else:
                    self.bad(where, f"{n!r}: no category {category!r} (one of {', '.join(CATEGORIES)})")
            elif n in self.known_rules:
                rules.add(n)
            else:
                close = sorted(r for r in self.known_rules if r.split(".")[-1] == n.split(".")[-1])
                hint = f"; did you mean {close[0]}?" if close else ""
                self.bad(where, f"unknown rule {n!r}{hint}")
        return frozenset(rules), frozenset(categories)


def partners_of(policy: SharingPolicy, names: Iterable[str] | None = None) -> list[str]:
    """The partner names to act for: all of them, or the given ones (each must be in the policy)."""
    if names is None:
        return list(policy.partners)
    wanted = list(names)
    unknown = [n for n in wanted if n not in policy.partners]
    if unknown:
        raise PolicyError(policy.source, [f"partners.{n}: no such partner in the policy" for n in unknown])
    return wanted
