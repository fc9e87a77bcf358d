"""HR agency licensing: agencies, their filings (grants, renewals, revocations, reports), and who is licensed when.

Unlicensed-agency labels follow one reading: an agency is licensed on a date only
if a license_grant/license_change with 职业中介 in scope covers that date and no
revocation or cancellation was filed before the posting. Filings that decide a
label are emitted before the posting they decide.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from corpus import identifiers
from corpus.catalog import Place
from corpus.world import CST, Emission, World, clean_label, rfc3339

LICENSE_YEARS = 5
INTERMEDIARY = "职业中介"
OTHER_SCOPES = ("劳务派遣", "猎头", "人力资源外包", "人力资源培训", "人才测评", "网络招聘", "灵活用工")
AGENCY_POOL = 60
UNLICENSED_KEPT = 200


def _plus_years(day: date, years: int) -> date:
    # 29 February has no twin in most years; licences then run to 28 February.
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass
class Agency:
    """An HR service agency and the licence the filings say it holds."""

    name: str
    short: str
    uscc: str
    license_no: str
    scope: list[str]
    valid_from: date
    valid_until: date
    place: Place
    address: str
    legal_rep: str
    ended_at: datetime | None = None  # revoked or cancelled
    last_posted: datetime | None = None
    last_filed: datetime | None = None
    flagged: bool = False  # some posting was labelled unlicensed: never backfill a licence

    def licensed_at(self, moment: datetime) -> bool:
        """Licensed for intermediary work on that date, per the filings emitted so far."""
        if INTERMEDIARY not in self.scope or (self.ended_at is not None and self.ended_at <= moment):
            return False
        return self.valid_from <= moment.date() <= self.valid_until

    def as_posting_field(self) -> dict[str, str]:
        """The `agency` object of a job_posting (no licence number if it never had one)."""
        field = {"name": self.name, "uscc": self.uscc, "license_no": self.license_no}
        return {k: v for k, v in field.items() if v}

    def last_seen(self) -> datetime | None:
        """The later of its last posting and its last filing: nothing may be dated before it."""
        seen = [m for m in (self.last_posted, self.last_filed) if m is not None]
        return max(seen) if seen else None


@dataclass
class AgencyRegistry:
    """The agencies of one corpus and the licence history the emitted filings describe."""

    world: World
    agencies: list[Agency] = field(default_factory=list)
    dispatch_only: list[Agency] = field(default_factory=list)
    unlicensed: list[Agency] = field(default_factory=list)

    @property
    def rng(self) -> random.Random:
        """The corpus's single random source."""
        return self.world.rng

    @property
    def now(self) -> datetime:
        """The corpus clock."""
        return self.world.now

    def _issuer(self, place: Place) -> str:
        if place.county_code.endswith("00"):
            return f"{place.city}市人力资源和社会保障局"
        return f"{place.city}市{place.district}人力资源和社会保障局"

    def _license_no(self, place: Place, year: int) -> str:
        return f"({place.abbr})人服证字〔{year}〕第{place.county_code}{self.rng.randint(1, 9999):06d}号"

    def filing(
        self,
        agency: Agency,
        filing_type: str,
        when: datetime,
        note: str,
        notes_text: str,
        with_license: bool = True,
        **extra: Any,
    ) -> Emission:
        """An agency_filing record in the shape DESIGN.md gives."""
        record: dict[str, Any] = {
            "type": "agency_filing",
            "id": None,
            "filing_type": filing_type,
            "agency": {"name": agency.name, "uscc": agency.uscc, "license_no": agency.license_no},
        }
        if with_license:
            record["license"] = {
                "number": agency.license_no,
                "scope": list(agency.scope),
                "valid_from": agency.valid_from.isoformat(),
                "valid_until": agency.valid_until.isoformat(),
                "issuer": self._issuer(agency.place),
            }
        record.update(extra)
        record.update(
            {
                "legal_representative": agency.legal_rep,
                "address": agency.address,
                "notes": notes_text,
                "filed_at": rfc3339(when),
            }
        )
        agency.last_filed = max(when, agency.last_filed or when)
        return record, clean_label(note)

    def _new_agency(self, scope: list[str], valid_from: date) -> Agency:
        place, rng = self.world.place(), self.rng
        brand = self.world.brand()
        if INTERMEDIARY in scope:
            kind = rng.choice(
                (
                    "人力资源有限公司",
                    "人力资源服务有限公司",
                    "职业介绍有限公司",
                    "人才服务有限公司",
                    "人力资源管理有限公司",
                )
            )
        else:
            kind = rng.choice(("劳务派遣有限公司", "劳务服务有限公司", "人力资源外包服务有限公司"))
        return Agency(
            name=f"{place.city}{brand}{kind}",
            short=f"{brand}人力",
            uscc=identifiers.make_uscc(rng, place.county_code),
            license_no=self._license_no(place, valid_from.year),
            scope=scope,
            valid_from=valid_from,
            valid_until=_plus_years(valid_from, LICENSE_YEARS) - timedelta(days=1),
            place=place,
            address=self.world.street_address(place),
            legal_rep=self.world.fake.name(),
        )

    def _grant(self, agency: Agency, note: str, notes_text: str) -> Emission:
        when = datetime.combine(agency.valid_from, datetime.min.time(), CST) + timedelta(
            hours=self.rng.randint(9, 16), minutes=self.rng.randint(0, 59)
        )
        when -= timedelta(days=self.rng.randint(0, 5))
        return self.filing(agency, "license_grant", min(when, self.now), note, notes_text)

    def _licensed_new(self, backdate_days: int) -> tuple[Agency, Emission]:
        scope = [INTERMEDIARY, *self.rng.sample(OTHER_SCOPES, self.rng.randint(0, 3))]
        agency = self._new_agency(scope, (self.now - timedelta(days=backdate_days)).date())
        return agency, self._grant(
            agency,
            "许可证核发备案，无违规",
            self.rng.choice(("首次许可。", "许可期限五年。", "经审查符合条件，准予许可。")),
        )

    def licensed_agency(self) -> tuple[Agency, list[Emission]]:
        """An agency licensed for intermediary work today; renewals and new grants come first."""
        emissions: list[Emission] = []
        while True:
            grow = len(self.agencies) < AGENCY_POOL or (
                len(self.agencies) < 3 * AGENCY_POOL and self.rng.random() < 0.02
            )
            if grow:
                agency, grant = self._licensed_new(self.rng.randint(0, 4 * 365))
                self.agencies.append(agency)
                return agency, [*emissions, grant]
            agency = self.rng.choice(self.agencies)
            if agency.licensed_at(self.now):
                return agency, emissions
            self.agencies.remove(agency)
            if agency.valid_until < self.now.date() and not agency.flagged and self.rng.random() < 0.6:
                emissions.append(self._renew(agency))
                self.agencies.append(agency)
                return agency, emissions
            self._keep_unlicensed(agency)

    def _renew(self, agency: Agency) -> Emission:
        old_until = agency.valid_until
        agency.valid_from = old_until + timedelta(days=1)
        agency.valid_until = _plus_years(old_until, LICENSE_YEARS)
        when = (
            datetime.combine(old_until, datetime.min.time(), CST)
            - timedelta(days=self.rng.randint(5, 40))
            + timedelta(hours=10)
        )
        return self.filing(agency, "license_grant", when, "许可证延续备案，无违规", "许可到期延续。")

    def _keep_unlicensed(self, agency: Agency) -> None:
        self.unlicensed.append(agency)
        if len(self.unlicensed) > UNLICENSED_KEPT:
            self.unlicensed.pop(0)

    def unlicensed_agency(self) -> tuple[Agency, list[Emission], str]:
        """An agency acting as intermediary without a valid licence, and why."""
        rng = self.rng
        scenario = rng.choice(("ghost", "revoked", "expired", "dispatch_only", "known"))
        if scenario == "known" and self.unlicensed:
            agency = rng.choice(self.unlicensed)
            if not agency.licensed_at(self.now):
                agency.flagged = True
                return agency, [], "发布时该机构无有效许可，仍在代招"
            scenario = "ghost"
        if scenario == "revoked":
            agency, emissions = self.licensed_agency()
            when = self.world.moment_between(agency.last_seen(), self.now)
            revoked = rng.random() < 0.6
            kind, word = ("license_revocation", "吊销") if revoked else ("license_cancellation", "注销")
            reason = (
                rng.choice(("违规向求职者收取费用", "发布虚假招聘信息", "未按规定报送年度报告"))
                if revoked
                else "机构申请注销许可"
            )
            emissions.append(
                self.filing(
                    agency,
                    kind,
                    when,
                    f"许可证{word}决定，该备案本身合法",
                    f"因{reason}，依法{word}人力资源服务许可证。",
                    with_license=False,
                )
            )
            agency.ended_at = when
            self.agencies.remove(agency)
            self._keep_unlicensed(agency)
            agency.flagged = True
            return agency, emissions, f"许可证在{when.date()}被{word}后仍在代招"
        if scenario == "expired":
            agency, grant = self._licensed_new(LICENSE_YEARS * 365 + rng.randint(10, 500))
            self._keep_unlicensed(agency)
            agency.flagged = True
            return agency, [grant], f"许可证{agency.valid_until}到期后未见延续，发布时无有效许可"
        if scenario == "dispatch_only":
            return self._dispatch_only()
        agency = self._new_agency([INTERMEDIARY], self.now.date())
        agency.license_no = rng.choice((agency.license_no, ""))
        self._keep_unlicensed(agency)
        agency.flagged = True
        return agency, [], "查不到该机构的人力资源服务许可备案，属无证中介"

    def _dispatch_only(self) -> tuple[Agency, list[Emission], str]:
        emissions: list[Emission] = []
        if self.dispatch_only and self.rng.random() < 0.6:
            agency = self.rng.choice(self.dispatch_only)
        else:
            scope = ["劳务派遣", *self.rng.sample(("人力资源外包", "灵活用工"), self.rng.randint(0, 1))]
            agency = self._new_agency(scope, (self.now - timedelta(days=self.rng.randint(30, 900))).date())
            emissions.append(self._grant(agency, "仅含劳务派遣的许可备案，本身无违规", "核准劳务派遣业务。"))
            self.dispatch_only.append(agency)
            if len(self.dispatch_only) > AGENCY_POOL:
                self.dispatch_only.pop(0)
        agency.flagged = True
        return agency, emissions, "许可范围只有劳务派遣，替其他单位招人超出许可范围"

    def noise_filing(self) -> Emission | None:
        """A routine filing (annual report, branch, scope change) for a licensed agency."""
        if not self.agencies:
            return None
        rng, agency = self.rng, self.rng.choice(self.agencies)
        when = self.world.moment_between(agency.last_seen(), self.now)
        kind = rng.choice(("annual_report", "annual_report", "branch_filing", "license_change"))
        if kind == "annual_report":
            placements = rng.randint(20, 5000)
            report = {
                "year": when.year - 1,
                "revenue_cny": rng.randint(50, 9000) * 10_000,
                "placements": placements,
                "dispatched_workers": rng.randint(0, 3000),
                "fees_collected_cny": placements * rng.randint(50, 400),
                "tax_paid_cny": rng.randint(2, 400) * 10_000,
            }
            return self.filing(
                agency,
                kind,
                when,
                "年度报告备案，无违规",
                rng.choice(("年度经营情况正常。", "按时报送年度报告。", "经营情况详见年报正文。")),
                with_license=False,
                annual_report=report,
            )
        if kind == "branch_filing":
            branch = self.world.place()
            return self.filing(
                agency,
                kind,
                when,
                "分支机构备案，无违规",
                f"设立{branch.city}{branch.district}分公司，地址：{self.world.street_address(branch)}。",
                with_license=False,
            )
        extra = [s for s in OTHER_SCOPES if s not in agency.scope]
        if extra:
            agency.scope.append(rng.choice(extra))
        return self.filing(agency, kind, when, "许可事项变更备案，无违规", "许可范围变更。")
