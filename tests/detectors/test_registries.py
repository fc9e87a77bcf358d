"""Licence and business registries: status of an agency on a date, newest registration wins."""

from __future__ import annotations

import datetime as dt

import pytest

from detectors.registries import Registries
from schemas import parse_record

USCC = "914403051817210921"


def filing(fid: str, kind: str, filed: str, *, scope=("职业中介",), start=None, until=None, number="L-1"):
    rec = {
        "type": "agency_filing", "id": fid, "filing_type": kind,
        "agency": {"name": "前程人力", "uscc": USCC, "license_no": number},
        "filed_at": f"{filed}T10:00:00+08:00",
    }
    if kind in ("license_grant", "license_change"):
        rec["license"] = {"number": number, "scope": list(scope), "valid_from": start or filed, "valid_until": until}
    return parse_record(rec)


@pytest.fixture
def reg() -> Registries:
    r = Registries()
    r.apply(filing("f1", "license_grant", "2020-07-01", until="2025-06-30"))
    return r


@pytest.mark.parametrize(
    ("day", "state"),
    [("2020-06-30", "not_yet"), ("2020-07-01", "licensed"), ("2025-06-30", "licensed"), ("2025-07-01", "expired")],
)
def test_validity_window(reg: Registries, day: str, state: str) -> None:
    assert reg.licences.status_at(USCC, dt.date.fromisoformat(day)).state == state


def test_revocation_applies_from_its_date_only(reg: Registries) -> None:
    reg.apply(filing("f2", "license_revocation", "2023-03-01"))
    assert reg.licences.status_at(USCC, dt.date(2023, 2, 28)).licensed
    status = reg.licences.status_at(USCC, dt.date(2023, 3, 2))
    assert not status.licensed and status.state == "revoked" and "2023-03-01" in status.reason


def test_regrant_after_cancellation(reg: Registries) -> None:
    reg.apply(filing("f2", "license_cancellation", "2022-01-01"))
    reg.apply(filing("f3", "license_grant", "2023-01-01", until="2028-01-01", number="L-2"))
    assert reg.licences.status_at(USCC, dt.date(2022, 6, 1)).state == "cancelled"
    assert reg.licences.status_at(USCC, dt.date(2024, 6, 1)).licensed


def test_scope_without_placement_is_out_of_scope() -> None:
    r = Registries()
    r.apply(filing("f1", "license_grant", "2023-05-10", scope=("劳务派遣",), until="2026-05-09"))
    status = r.licences.status_at(USCC, dt.date(2024, 1, 1))
    assert status.state == "out_of_scope" and "职业中介" in status.reason


def test_change_adds_scope_from_its_filing_date() -> None:
    r = Registries()
    r.apply(filing("f1", "license_grant", "2023-01-01", scope=("劳务派遣",), until="2028-01-01"))
    r.apply(filing("f2", "license_change", "2024-01-01", scope=("劳务派遣", "职业中介"), start="2023-01-01",
                   until="2028-01-01"))
    assert r.licences.status_at(USCC, dt.date(2023, 6, 1)).state == "out_of_scope"
    assert r.licences.status_at(USCC, dt.date(2024, 6, 1)).licensed


def test_unknown_agency_and_lookup_by_licence_number(reg: Registries) -> None:
    assert reg.licences.status_at("91110108MA4YYMGH10", dt.date(2024, 1, 1)).state == "unknown"
    assert reg.licences.status_at(None, dt.date(2024, 1, 1), license_no="L-1").licensed
    assert reg.licences.status_at(None, dt.date(2024, 1, 1)).state == "unknown"


def test_redelivered_filing_is_applied_once(reg: Registries) -> None:
    reg.apply(filing("f1", "license_grant", "2020-07-01", until="2025-06-30"))
    assert len(reg.licences.agencies()[0].events) == 1


def test_business_registry_keeps_newest() -> None:
    r = Registries()
    newer = {"type": "business_registration", "uscc": USCC, "name": "新名称", "status": "revoked",
             "updated_at": "2025-05-01T00:00:00Z"}
    older = {**newer, "name": "旧名称", "status": "active", "updated_at": "2024-01-01T00:00:00Z"}
    r.apply(parse_record(newer))
    r.apply(parse_record(older))
    entry = r.businesses.get(USCC)
    assert entry is not None and entry.name == "新名称" and entry.status == "revoked"
    assert r.businesses.get("unknown") is None and r.businesses.get(None) is None
