"""In-memory registries that postings are checked against: agency licences (from filings) and businesses (from registrations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas import AgencyFiling, BusinessRegistration, Record

PLACEMENT_SCOPE = "职业中介"
_GRANTS = {"license_grant", "license_change"}
_ENDS = {"license_revocation", "license_cancellation"}


@dataclass(frozen=True, slots=True)
class LicenceEvent:
    """One licence-relevant filing, reduced to what the status check needs."""

    filing_id: str
    kind: str  # license_grant | license_change | license_revocation | license_cancellation
    effective: dt.date
    number: str | None
    scope: tuple[str, ...]
    valid_from: dt.date | None
    valid_until: dt.date | None


@dataclass(frozen=True, slots=True)
class LicenceStatus:
    """The answer to: could this agency lawfully do job placement (职业中介) on that date, and why (not)."""

    licensed: bool
    state: str  # licensed | unknown | not_yet | expired | revoked | cancelled | out_of_scope
    reason: str
    filing_id: str | None = None
    number: str | None = None


@dataclass(slots=True)
class AgencyLicences:
    uscc: str
    name: str
    events: list[LicenceEvent] = field(default_factory=list)


class LicenceRegistry:
    """Licence history per agency USCC, built from agency_filing records in stream order."""

    def __init__(self) -> None:
        self._by_uscc: dict[str, AgencyLicences] = {}
        self._uscc_by_number: dict[str, str] = {}
        self._uscc_by_name: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._by_uscc)

    def apply(self, filing: AgencyFiling) -> None:
        """Record a filing; only licence grants, changes, revocations and cancellations matter here."""
        uscc = uscc_key(filing.agency.uscc)
        entry = self._by_uscc.setdefault(uscc, AgencyLicences(uscc, filing.agency.name or ""))
        entry.name = filing.agency.name or entry.name
        if uscc and filing.agency.name:
            self._uscc_by_name[_norm_name(filing.agency.name)] = uscc
        if filing.filing_type not in _GRANTS | _ENDS:
            return
        lic = filing.license
        number = (lic.number if lic else None) or filing.agency.license_no
        event = LicenceEvent(
            filing_id=filing.id,
            kind=filing.filing_type,
            effective=filing.filed_at.date(),
            number=number,
            scope=lic.scope if lic else (),
            valid_from=lic.valid_from if lic else None,
            valid_until=lic.valid_until if lic else None,
        )
        if any(e.filing_id == event.filing_id for e in entry.events):
            return  # redelivered filing
        entry.events.append(event)
        entry.events.sort(key=_start)
        if number:
            self._uscc_by_number[_norm_no(number)] = uscc

    def knows(self, uscc: str | None) -> bool:
        return bool(uscc) and uscc_key(uscc) in self._by_uscc

    def uscc_for_number(self, license_no: str | None) -> str | None:
        return self._uscc_by_number.get(_norm_no(license_no)) if license_no else None

    def uscc_for_name(self, name: str | None) -> str | None:
        """The USCC filed under exactly this agency name (blanks and bracket widths ignored), if any."""
        return self._uscc_by_name.get(_norm_name(name)) if name else None

    def status_at(
        self, uscc: str | None, on: dt.date, license_no: str | None = None, *, name: str | None = None
    ) -> LicenceStatus:
        """Placement licence status of the agency on date `on` (by USCC; by licence number, else exact name, only when no USCC is given).

        A licence number held by a different agency than the USCC given does not license it: licences
        are not transferable (就业促进法 第四十一条). A change filing without licence details keeps the
        number, scope and validity in force before it.
        """
        key = uscc_key(uscc)
        if not key:
            key = self.uscc_for_number(license_no) or self.uscc_for_name(name) or ""
        elif key not in self._by_uscc:
            holder = self.uscc_for_number(license_no)
            if holder and holder != key:
                return LicenceStatus(
                    False, "unknown",
                    f"no licence filing is on record for this agency; licence number {license_no} is registered to another agency ({holder})",
                )
        entry = self._by_uscc.get(key)
        if entry is None or not entry.events:
            return LicenceStatus(False, "unknown", "no licence filing is on record for this agency")
        latest: LicenceEvent | None = None
        for event in _in_force(entry.events):
            if _start(event) <= on:
                latest = event
        if latest is None:
            first = entry.events[0]
            return LicenceStatus(False, "not_yet", f"licence valid only from {first.valid_from or first.effective}", first.filing_id, first.number)
        if latest.kind == "license_revocation":
            return LicenceStatus(False, "revoked", f"licence revoked on {latest.effective}", latest.filing_id, latest.number)
        if latest.kind == "license_cancellation":
            return LicenceStatus(False, "cancelled", f"licence cancelled on {latest.effective}", latest.filing_id, latest.number)
        if latest.valid_until is not None and latest.valid_until < on:
            return LicenceStatus(False, "expired", f"licence expired on {latest.valid_until}", latest.filing_id, latest.number)
        if PLACEMENT_SCOPE not in latest.scope:
            scope = "、".join(latest.scope) or "none"
            return LicenceStatus(False, "out_of_scope", f"licence scope ({scope}) does not include {PLACEMENT_SCOPE}", latest.filing_id, latest.number)
        return LicenceStatus(True, "licensed", "licence covers job placement on that date", latest.filing_id, latest.number)

    def agencies(self) -> list[AgencyLicences]:
        return list(self._by_uscc.values())


def _in_force(events: list[LicenceEvent]) -> list[LicenceEvent]:
    """Events in order, each change carrying forward the number, scope and validity it does not restate."""
    out: list[LicenceEvent] = []
    current: LicenceEvent | None = None
    for event in events:
        if event.kind == "license_change" and current is not None:
            event = LicenceEvent(
                filing_id=event.filing_id,
                kind=event.kind,
                effective=event.effective,
                number=event.number or current.number,
                scope=event.scope or current.scope,
                valid_from=event.valid_from,
                valid_until=event.valid_until or current.valid_until,
            )
        if event.kind in _GRANTS:
            current = event
        elif event.kind in _ENDS:
            current = None
        out.append(event)
    return out


def _start(event: LicenceEvent) -> dt.date:
    """When an event takes effect: a grant from its validity start, a change from its filing, an end when filed."""
    if event.kind == "license_grant" and event.valid_from is not None:
        return event.valid_from
    if event.kind == "license_change" and event.valid_from is not None:
        return max(event.valid_from, event.effective)
    return event.effective


def _norm_no(number: str | None) -> str:
    return "".join(ch for ch in (number or "") if ch.isalnum())


def _norm_name(name: str | None) -> str:
    return "".join(ch for ch in (name or "") if not ch.isspace()).replace("（", "(").replace("）", ")")


def uscc_key(uscc: str | None) -> str:
    """A USCC as registry key: surrounding blanks dropped, letters upper-case (codes are case-blind)."""
    return (uscc or "").strip().upper()


@dataclass(frozen=True, slots=True)
class BusinessEntry:
    uscc: str
    name: str
    status: str | None
    updated_at: dt.datetime


class BusinessRegistry:
    """Registered name and status per USCC over time, from business_registration records (may be partial)."""

    def __init__(self) -> None:
        self._by_uscc: dict[str, list[BusinessEntry]] = {}

    def __len__(self) -> int:
        return len(self._by_uscc)

    def apply(self, reg: BusinessRegistration) -> None:
        """Add a registration to the USCC's history; one arriving late is slotted in by its time, not taken as newest."""
        key = uscc_key(reg.uscc)
        history = self._by_uscc.setdefault(key, [])
        entry = BusinessEntry(key, reg.name, reg.status, reg.updated_at)
        # The same change redelivered (same time) replaces the earlier copy.
        history[:] = [e for e in history if e.updated_at != reg.updated_at]
        history.append(entry)
        history.sort(key=lambda e: e.updated_at)

    def get(self, uscc: str | None) -> BusinessEntry | None:
        """The newest registration of the USCC, or None when it is not in the registry."""
        history = self._by_uscc.get(uscc_key(uscc)) if uscc else None
        return history[-1] if history else None

    def at(self, uscc: str | None, when: dt.datetime) -> BusinessEntry | None:
        """The registration in force at `when` (the newest not after it), or None when none is that old."""
        history = self._by_uscc.get(uscc_key(uscc)) if uscc else None
        latest = None
        for entry in history or ():
            if entry.updated_at <= when:
                latest = entry
        return latest


class Registries:
    """Both registries together; `apply` routes registry records to the right one."""

    def __init__(self) -> None:
        self.licences = LicenceRegistry()
        self.businesses = BusinessRegistry()

    def apply(self, record: Record) -> None:
        if isinstance(record, AgencyFiling):
            self.licences.apply(record)
        elif isinstance(record, BusinessRegistration):
            self.businesses.apply(record)
