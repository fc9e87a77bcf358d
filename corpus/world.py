"""The corpus clock, names and places, and the enterprise registry (business_registration records).

Every posting that names an employer is preceded in the stream by the registry
records that make its label true, so a consumer that processes the stream in
order reaches the same verdict as the label. Pools are bounded, so a stream of
any length runs in constant memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from faker import Faker

from corpus import identifiers
from corpus.catalog import Family, Place, places

CST = timezone(timedelta(hours=8))
CORPUS_START = datetime(2023, 1, 3, 9, 0, tzinfo=CST)
CORPUS_SPAN = timedelta(days=3 * 365)

EMPLOYERS_PER_FAMILY = 150
RETIRED_KEPT = 200

_BRAND_CHARS = "华鑫恒瑞盛宏达通泰嘉润远创智锦博源德信安邦腾飞祥和诚汇联新康悦佳正启晟卓誉"
_CITY_NAMES = frozenset(p.city for p in places()) | {"黄石", "济南", "南京", "宁德", "南宁", "澳门"}

Emission = tuple[dict[str, Any], dict[str, Any]]


def rfc3339(moment: datetime) -> str:
    """RFC 3339 with the +08:00 offset every Chinese registry uses."""
    return moment.isoformat(timespec="seconds")


def clean_label(note: str, tags: list[str] | None = None) -> dict[str, Any]:
    """Label body for a lawful record (the generator adds the id)."""
    return {"categories": [], "rules": [], "note": note, "tags": tags or []}


@dataclass
class Employer:
    """A company in the enterprise registry."""

    name: str
    uscc: str
    place: Place
    family: Family
    address: str
    legal_rep: str
    registered_at: datetime
    established_on: date
    capital_cny: int
    last_posted: datetime | None = None


@dataclass
class World:
    """Mutable registry state shared by all postings of one corpus."""

    rng: random.Random
    fake: Faker
    n_records: int
    now: datetime = CORPUS_START
    employers: dict[str, list[Employer]] = field(default_factory=dict)
    retired_employers: list[Employer] = field(default_factory=list)

    # -- clock -----------------------------------------------------------------
    def tick(self) -> datetime:
        """Advance the clock so n records span two to three years of working hours, never backwards."""
        # Time only runs during the 14 posting hours of a day (08:00-22:00), so a
        # short corpus still spans years and a long one has no postings at 3 a.m.
        mean = CORPUS_SPAN.total_seconds() * 14 / 24 / max(self.n_records, 1)
        now = self.now + timedelta(seconds=max(60.0, self.rng.expovariate(1.0 / mean)))
        while now.hour >= 22 or now.hour < 8:
            overflow = now - now.replace(hour=22, minute=0, second=0, microsecond=0)
            if now.hour < 8:
                overflow = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
                now = now.replace(hour=8, minute=0, second=0, microsecond=0) + overflow
            else:
                next_day = now.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)
                now = next_day + overflow
        self.now = now
        return self.now

    def moment_between(self, earliest: datetime | None, latest: datetime) -> datetime:
        """A time after `earliest` (what is already on record) and before `latest`."""
        earliest = earliest or latest - timedelta(days=30)
        if earliest >= latest:
            return latest - timedelta(seconds=30)
        span = (latest - earliest).total_seconds()
        return earliest + timedelta(seconds=span * self.rng.uniform(0.2, 0.95))

    # -- names and places ------------------------------------------------------
    def place(self) -> Place:
        """A random district of a random city."""
        return self.rng.choice(places())

    def street_address(self, place: Place) -> str:
        """An address inside the district."""
        rng = self.rng
        base = f"{place.city}市{place.district}{self.fake.street_name()}{rng.randint(1, 499)}号"
        tail = rng.choice(
            (
                "",
                f"{rng.randint(1, 30)}栋{rng.randint(1, 25)}0{rng.randint(1, 9)}",
                f"{self.fake.company_prefix()[:2]}大厦{rng.randint(2, 32)}楼",
            )
        )
        return base + tail

    def brand(self) -> str:
        """A two-character trade name (字号), never a place name."""
        if self.rng.random() < 0.5:
            return "".join(self.rng.sample(_BRAND_CHARS, 2))
        brand = self.fake.company_prefix()[:2]
        return brand if brand not in _CITY_NAMES else "".join(self.rng.sample(_BRAND_CHARS, 2))

    def company_name(self, place: Place, family: Family) -> str:
        """A plausible registered name, 城市 + 字号 + 行业 + 组织形式."""
        rng = self.rng
        brand = self.brand()
        industry = rng.choice(family.industry)
        form = rng.choice(("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司"))
        if rng.random() < 0.15:
            return f"{brand}{industry}（{place.city}）{form}"
        return f"{place.city}{'市' if rng.random() < 0.5 else ''}{brand}{industry}{form}"

    # -- enterprise registry ---------------------------------------------------
    def registration(self, employer: Employer, status: str, when: datetime, note: str) -> Emission:
        """A business_registration record for the employer as it stands."""
        record = {
            "type": "business_registration",
            "id": None,
            "uscc": employer.uscc,
            "name": employer.name,
            "status": status,
            "registered_capital_cny": employer.capital_cny,
            "established_on": employer.established_on.isoformat(),
            "address": employer.address,
            "business_scope": employer.family.scope,
            "legal_representative": employer.legal_rep,
            "updated_at": rfc3339(when),
        }
        return record, clean_label(note)

    def new_employer(self, family: Family, place: Place | None = None) -> tuple[Employer, Emission]:
        """A company not yet in the registry, with the registration that introduces it."""
        place = place or self.place()
        when = self.now - timedelta(days=self.rng.randint(1, 60), minutes=self.rng.randint(0, 600))
        employer = Employer(
            name=self.company_name(place, family),
            uscc=identifiers.make_uscc(self.rng, place.county_code),
            place=place,
            family=family,
            address=self.street_address(place),
            legal_rep=self.fake.name(),
            registered_at=when,
            established_on=(when - timedelta(days=self.rng.randint(30, 7000))).date(),
            capital_cny=self.rng.choice((10, 50, 100, 200, 300, 500, 1000, 2000, 5000)) * 10_000,
        )
        return employer, self.registration(employer, "active", when, "企业登记信息（存续）")

    def employer(self, family: Family) -> tuple[Employer, list[Emission]]:
        """A registered, active employer in this family; new ones are registered first."""
        pool = self.employers.setdefault(family.key, [])
        full = len(pool) >= EMPLOYERS_PER_FAMILY
        if pool and self.rng.random() > (0.03 if full else 0.15):
            return self.rng.choice(pool), []
        if full:
            # Companies stop recruiting and new ones appear; forgetting one keeps memory flat.
            pool[self.rng.randrange(len(pool))] = pool[-1]
            pool.pop()
        employer, emission = self.new_employer(family)
        pool.append(employer)
        return employer, [emission]

    def _retire(self, employer: Employer) -> None:
        pool = self.employers[employer.family.key]
        pool.remove(employer)
        self.retired_employers.append(employer)
        if len(self.retired_employers) > RETIRED_KEPT:
            self.retired_employers.pop(0)

    def inactive_employer(self, family: Family) -> tuple[Employer, list[Emission], str]:
        """An employer whose registration is revoked or cancelled before it posts."""
        if self.retired_employers and self.rng.random() < 0.3:
            employer = self.rng.choice(self.retired_employers)
            return employer, [], f"招聘主体{employer.name}已被吊销或注销，仍在发布招聘"
        employer, emissions = self.employer(family)
        status, word = self.rng.choice((("revoked", "吊销"), ("cancelled", "注销")))
        when = self.moment_between(
            max(employer.registered_at, employer.last_posted or employer.registered_at), self.now
        )
        emissions.append(self.registration(employer, status, when, f"企业登记状态变更为{word}"))
        employer.registered_at = when
        self._retire(employer)
        return employer, emissions, f"招聘主体营业执照已于{when.date()}{word}，仍以其名义招聘"

    def mismatched_name(self, employer: Employer) -> tuple[str, str]:
        """A posting name that differs from what the registry holds for the employer's USCC."""
        posted = self.company_name(self.place(), employer.family)
        while posted == employer.name:
            posted = self.company_name(self.place(), employer.family)
        return posted, f"统一社会信用代码登记名称为{employer.name}，与招聘主体名称{posted}不符"

    def renamed_employer(self, family: Family) -> tuple[Employer, list[Emission], str]:
        """An employer that changed its name; the posting uses the new, registered name."""
        employer, emissions = self.employer(family)
        old = employer.name
        while employer.name == old:
            employer.name = self.company_name(employer.place, family)
        when = self.moment_between(
            max(employer.registered_at, employer.last_posted or employer.registered_at), self.now
        )
        employer.registered_at = when
        emissions.append(self.registration(employer, "active", when, f"企业名称变更，原名称{old}"))
        return employer, emissions, "企业已办理名称变更，招聘主体名称与最新登记一致"
