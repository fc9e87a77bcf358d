"""The corpus's phrasing data (templates/*.toml) loaded once, and the slot filler that renders it."""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from faker import Faker

from corpus import identifiers

TEMPLATE_DIR = Path(__file__).with_name("templates")


@cache
def load(name: str) -> dict[str, Any]:
    """One template file, parsed; cached so a million postings parse it once."""
    with (TEMPLATE_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class Place:
    """A district of a city: enough to write addresses, licence numbers and phone numbers."""

    city: str
    abbr: str
    area_code: str
    district: str
    county_code: str


@dataclass(frozen=True)
class Family:
    """An occupation family from jobs.toml."""

    key: str
    skill: str
    salary: tuple[int, int]
    industry: tuple[str, ...]
    scope: str
    titles: tuple[tuple[str, str], ...]
    duties: tuple[str, ...]
    requirements: tuple[str, ...]
    food: bool = False
    mining: bool = False


@cache
def places() -> tuple[Place, ...]:
    """Every district of every city in places.toml."""
    result = []
    for city in load("places")["city"]:
        for district, code in city["districts"]:
            result.append(Place(city["name"], city["abbr"], city["area_code"], district, code))
    return tuple(result)


@cache
def families() -> dict[str, Family]:
    """Occupation families keyed by name."""
    result = {}
    for key, raw in load("jobs")["family"].items():
        result[key] = Family(
            key=key,
            skill=raw["skill"],
            salary=(raw["salary"][0], raw["salary"][1]),
            industry=tuple(raw["industry"]),
            scope=raw["scope"],
            titles=tuple((t, o) for t, o in raw["titles"]),
            duties=tuple(raw["duties"]),
            requirements=tuple(raw["requirements"]),
            food=raw.get("food", False),
            mining=raw.get("mining", False),
        )
    return result


# Native places that discriminatory postings single out, with their one-character abbreviation.
PROVINCES = (
    ("河南", "豫"),
    ("湖南", "湘"),
    ("江西", "赣"),
    ("四川", "川"),
    ("贵州", "黔"),
    ("安徽", "皖"),
    ("甘肃", "甘"),
    ("广西", "桂"),
    ("东北", "东北"),
    ("新疆", "新"),
    ("湖北", "鄂"),
    ("河北", "冀"),
    ("山东", "鲁"),
    ("福建", "闽"),
    ("潮汕", "潮汕"),
)
PERSONAL_MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com")


class Slots(dict):
    """Values for `{slot}` placeholders, drawn on first use and then fixed for one posting.

    Fixing a value per posting keeps a number or name consistent when a template
    mentions it twice; format_map calls __missing__ for slots nobody set explicitly.
    """

    def __init__(self, rng: random.Random, fake: Faker, **preset: Any) -> None:
        super().__init__(preset)
        self.rng = rng
        self.fake = fake

    def render(self, template: str) -> str:
        """The template with every slot filled."""
        return template.format_map(self)

    def __missing__(self, key: str) -> Any:
        value = self._draw(key)
        self[key] = value
        return value

    def _draw(self, key: str) -> Any:  # one flat table of slot kinds reads best
        rng, fake = self.rng, self.fake
        if key in ("person", "hr_person"):
            return fake.name()
        if key == "surname":
            return fake.last_name()
        if key == "hr_name":
            return fake.last_name() + rng.choice(("经理", "主管", "女士", "先生"))
        if key == "age_min":
            return rng.choice((18, 18, 20, 22, 23, 25))
        if key == "age_max":
            return rng.choice((28, 30, 30, 32, 35, 35, 35, 38, 40, 45))
        if key == "born":
            return rng.choice(("80", "85", "90", "95", "00"))
        if key in ("province", "province_abbr"):
            name, abbr = rng.choice(PROVINCES)
            self["province"], self["province_abbr"] = name, abbr
            return self[key]
        if key == "height":
            return rng.choice((155, 158, 160, 163, 165, 168, 170, 172, 175, 180))
        if key == "weight":
            return rng.choice((45, 48, 50, 52, 55, 60, 65))
        if key == "years":
            return rng.choice((1, 2, 3, 3, 5, 5, 8))
        if key == "fee":
            return rng.choice((50, 80, 98, 120, 150, 200, 260, 300, 380, 500, 600, 800, 1000, 1500))
        if key in ("months", "probation"):
            return rng.choice((1, 2, 3, 3, 6))
        if key == "commission":
            return rng.choice((2, 3, 5, 8, 10, 15, 20, 30))
        if key == "daily":
            return rng.choice((150, 200, 300, 500, 800))
        if key == "n":
            return rng.choice((2, 3, 5, 8, 10, 20, 30, 50, 100, 200, 300, 500))
        if key == "k":
            return rng.choice((2, 3, 3, 4, 5))
        if key == "k2":
            return self["k"] + rng.choice((2, 3, 5))
        if key == "lo":
            return rng.choice((25000, 30000, 35000, 40000))
        if key == "hi":
            return self["lo"] + rng.choice((10000, 20000, 30000))
        if key == "price":
            return rng.choice(("0.5", "1", "2", "0.3"))
        if key == "founded":
            return rng.randint(1998, 2021)
        if key == "staff":
            return rng.choice((50, 80, 120, 300, 500, 800, 1200, 3000))
        if key == "provinces":
            return rng.randint(5, 31)
        if key == "clients":
            return rng.choice((200, 500, 1000, 3000, 10000))
        if key == "payday":
            return rng.choice((5, 10, 15, 20, 25))
        if key == "start":
            return rng.choice((8, 8, 9))
        if key == "end":
            return rng.choice((17, 18, 18, 20))
        if key == "road":
            return fake.street_name() + f"{rng.randint(1, 399)}号"
        if key == "field":
            return rng.choice(load("jobs")["generic"]["fields"])
        if key == "fee_item":
            return rng.choice(load("fraud")["fee_demand"]["fee_items"])
        if key == "place":
            return rng.choice(load("fraud")["overseas_lure"]["places"])
        if key == "job":
            return rng.choice(load("fraud")["overseas_lure"]["jobs"])
        if key == "wechat":
            return wechat_id(rng, fake)
        if key == "qq":
            return qq_number(rng)
        if key == "company_word":
            return fake.company_prefix()[:2]
        if key == "uscc_digits":
            return identifiers.make_uscc(rng, rng.choice(places()).county_code, digits_only=True)
        if key == "job_code":
            return identifiers.make_non_id_number(rng)
        if key == "last4":
            return f"{rng.randint(0, 9999):04d}"
        if key == "own_mobile":
            return identifiers.make_mobile(rng)
        raise KeyError(key)


def wechat_id(rng: random.Random, fake: Faker) -> str:
    """A personal WeChat ID: letters first, then digits or an underscore suffix."""
    base = fake.user_name()[:10]
    return base + rng.choice(("", "_", "")) + str(rng.randint(1, 99999))


def qq_number(rng: random.Random) -> str:
    """A QQ number, 6 to 10 digits, never starting with zero."""
    return str(rng.randint(10**5, 10 ** rng.randint(6, 10) - 1))


def personal_email(rng: random.Random, fake: Faker) -> str:
    """A private mailbox on a consumer mail service."""
    user = fake.user_name() + rng.choice(("", str(rng.randint(1, 9999)), f"_{rng.randint(80, 99)}"))
    return f"{user}@{rng.choice(PERSONAL_MAIL_DOMAINS)}"
