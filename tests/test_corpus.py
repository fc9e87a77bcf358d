"""Tests for the synthetic corpus: determinism, coverage of every rule, schema, identifier validity, lengths."""

from __future__ import annotations

import itertools
import json
import re
import statistics
import types
from datetime import date, datetime

import pytest

from corpus import RULES, generate, write_corpus
from corpus.evasion import to_fullwidth
from corpus.generator import NOT_GENERATED
from detectors.rules import rule_specs

# Every registered rule (detectors/<category>/rules.toml), less those the generator writes no examples of yet.
REGISTERED_RULES = set(rule_specs())
GENERATED_RULES = REGISTERED_RULES - NOT_GENERATED

REQUIRED = {
    "job_posting": ("id", "source", "title", "description", "employer", "posted_at"),
    "agency_filing": ("id", "filing_type", "agency", "filed_at"),
    "business_registration": ("uscc", "name", "updated_at"),
}
FILING_TYPES = {
    "license_grant",
    "license_change",
    "license_revocation",
    "license_cancellation",
    "annual_report",
    "branch_filing",
}
SCOPES = {"职业中介", "劳务派遣", "猎头", "人力资源外包", "人力资源培训", "人才测评", "网络招聘", "灵活用工"}
STATUSES = {"active", "suspended", "revoked", "cancelled", "moved"}
UNITS = {"month", "day", "hour", "piece", "year"}
CHANNELS = {"online", "livestream", "job_fair", "offline"}
LABEL_TAGS = {"adversarial", "hard_negative"}


# -- independent check functions (the detectors package has its own) -----------
def resident_id_ok(value: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return "10X98765432"[sum(int(d) * w for d, w in zip(value, weights, strict=False)) % 11] == value[17]


def luhn_ok(value: str) -> bool:
    digits = [int(d) for d in reversed(value)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_ok(value: str) -> bool:
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(value, weights, strict=False))
    return USCC_ALPHABET[(31 - total % 31) % 31] == value[17]


def test_check_functions_agree_on_known_values():
    assert resident_id_ok("11010519491231002X")
    assert not resident_id_ok("110105194912310021")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert uscc_ok("91350100M000100Y43") and not uscc_ok("91350100M000100Y44")


# -- fixtures -------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_3000():
    return list(generate(3000, seed=7))


@pytest.fixture(scope="module")
def realistic_postings():
    return [r for r, _ in generate(6000, seed=3, realistic_length=True) if r["type"] == "job_posting"]


# -- tests ----------------------------------------------------------------------
def test_same_seed_same_records_and_labels():
    first = [json.dumps(pair, ensure_ascii=False) for pair in generate(400, seed=11)]
    second = [json.dumps(pair, ensure_ascii=False) for pair in generate(400, seed=11)]
    other = [json.dumps(pair, ensure_ascii=False) for pair in generate(400, seed=12)]
    assert first == second
    assert first != other


def test_exactly_n_records_with_sequential_ids():
    short = list(generate(50, seed=5))
    assert len(short) == 50
    assert [r["id"] for r, _ in short] == [f"syn5-{i:07d}" for i in range(1, 51)]


def test_every_registered_rule_is_labelled(corpus_3000):
    assert NOT_GENERATED <= REGISTERED_RULES  # a rule named there that the registry lost is a stale entry
    assert set(RULES) == GENERATED_RULES
    seen = {rule for _, label in corpus_3000 for rule in label["rules"]}
    assert GENERATED_RULES <= seen, sorted(GENERATED_RULES - seen)


def test_labels_are_well_formed(corpus_3000):
    for record, label in corpus_3000:
        assert label["id"] == record["id"]
        assert set(label) == {"id", "categories", "rules", "note", "tags"}
        assert label["categories"] == list(dict.fromkeys(r.split(".")[0] for r in label["rules"]))
        assert set(label["rules"]) <= GENERATED_RULES
        assert len(set(label["rules"])) == len(label["rules"])
        assert set(label["tags"]) <= LABEL_TAGS and label["note"]
        if "hard_negative" in label["tags"]:
            assert not label["rules"]
        if "adversarial" in label["tags"]:
            assert label["rules"]


def test_mix_of_clean_hard_negative_and_adversarial(corpus_3000):
    postings = [label for record, label in corpus_3000 if record["type"] == "job_posting"]
    clean = sum(not label["rules"] for label in postings) / len(postings)
    hard = sum("hard_negative" in label["tags"] for label in postings) / len(postings)
    adversarial = sum("adversarial" in label["tags"] for label in postings) / len(postings)
    assert 0.5 < clean < 0.7
    assert hard > 0.08 and adversarial > 0.05
    types_seen = {record["type"] for record, _ in corpus_3000}
    assert types_seen == set(REQUIRED)


def test_records_follow_schema_v1(corpus_3000):
    ids = set()
    for record, _ in corpus_3000:
        kind = record["type"]
        for field in REQUIRED[kind]:
            assert record.get(field) not in (None, "", {}), (kind, field, record)
        assert record["id"] not in ids
        ids.add(record["id"])
        if kind == "job_posting":
            assert record["employer"]["name"]
            assert record["channel"] in CHANNELS
            datetime.fromisoformat(record["posted_at"])
            if "salary" in record:
                assert record["salary"]["unit"] in UNITS
                assert record["salary"]["min"] <= record["salary"]["max"]
            if "uscc" in record["employer"]:
                assert len(record["employer"]["uscc"]) == 18
            assert record["contact"]
        elif kind == "agency_filing":
            assert record["filing_type"] in FILING_TYPES
            assert record["agency"]["name"] and record["agency"]["uscc"]
            assert set(record.get("license", {}).get("scope", [])) <= SCOPES
            datetime.fromisoformat(record["filed_at"])
        else:
            assert record["status"] in STATUSES
            datetime.fromisoformat(record["updated_at"])


def _normalised(text: str) -> str:
    # Undo the evasions the corpus applies to identifiers, so the checks see the digits.
    fullwidth = to_fullwidth("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    text = text.translate(str.maketrans(fullwidth, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    return re.sub(r"(?<=[\dXx])[ \-]+(?=[\dXx])", "", text)


def test_generated_identifiers_validate(corpus_3000):
    counts = {"resident_id": 0, "bank_card": 0, "uscc": 0}
    for record, label in corpus_3000:
        if record["type"] == "job_posting":
            text = _normalised(record["description"])
            uscc = record["employer"].get("uscc")
            if uscc:
                counts["uscc"] += 1
                invalid = "fake_recruitment.invalid_uscc" in label["rules"]
                assert uscc_ok(uscc) is not invalid, (uscc, label)
        elif record["type"] == "agency_filing":
            text = _normalised(record.get("notes", ""))
            assert uscc_ok(record["agency"]["uscc"])
        else:
            assert uscc_ok(record["uscc"])
            continue
        if "personal_data.resident_id" in label["rules"]:
            ids = re.findall(r"(?<![\dA-Z])\d{17}[\dXx](?![\d])", text)
            # An 18-digit card number has the same shape; it must then be a valid card.
            assert any(resident_id_ok(i.upper()) for i in ids), (ids, text)
            assert all(resident_id_ok(i.upper()) or (i.startswith("62") and luhn_ok(i)) for i in ids), (ids, text)
            counts["resident_id"] += len(ids)
            if len({i for i in ids if resident_id_ok(i.upper())}) >= 3:
                assert "personal_data.bulk_records" in label["rules"], text
        if "personal_data.bank_card" in label["rules"]:
            cards = re.findall(r"(?<!\d)62\d{14,17}(?![\dXx])", text)
            assert any(luhn_ok(c) and 16 <= len(c) <= 19 for c in cards), text
            assert all(luhn_ok(c) or resident_id_ok(c) for c in cards), text
            counts["bank_card"] += len(cards)
        if "personal_data.mobile" in label["rules"] and not label["tags"]:
            mobiles = re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)
            assert mobiles, text
    assert all(counts.values()), counts


def test_masked_and_code_look_alikes_are_not_valid_ids(corpus_3000):
    for record, label in corpus_3000:
        if record["type"] != "job_posting" or "hard_negative" not in label["tags"]:
            continue
        for candidate in re.findall(r"(?<![\dA-Z])\d{17}[\dX](?![\dA-Z])", record["description"]):
            assert not resident_id_ok(candidate) or uscc_ok(candidate), candidate


def test_registry_labels_match_a_replay_of_the_stream(corpus_3000):
    grants: dict[str, list[tuple[date, date]]] = {}
    ended: dict[str, datetime] = {}
    registry: dict[str, tuple[str, str]] = {}
    checked = 0
    for record, label in corpus_3000:
        if record["type"] == "agency_filing":
            uscc = record["agency"]["uscc"]
            lic = record.get("license")
            if record["filing_type"] in ("license_grant", "license_change") and lic and "职业中介" in lic["scope"]:
                grants.setdefault(uscc, []).append(
                    (date.fromisoformat(lic["valid_from"]), date.fromisoformat(lic["valid_until"]))
                )
            if record["filing_type"] in ("license_revocation", "license_cancellation"):
                ended.setdefault(uscc, datetime.fromisoformat(record["filed_at"]))
            continue
        if record["type"] == "business_registration":
            registry[record["uscc"]] = (record["name"], record["status"])
            continue
        posted = datetime.fromisoformat(record["posted_at"])
        expected = set()
        if "agency" in record:
            uscc = record["agency"]["uscc"]
            covered = any(a <= posted.date() <= b for a, b in grants.get(uscc, []))
            if not covered or (uscc in ended and ended[uscc] <= posted):
                expected.add("fake_recruitment.unlicensed_agency")
        uscc = record["employer"].get("uscc")
        if uscc:
            if not uscc_ok(uscc):
                expected.add("fake_recruitment.invalid_uscc")
            else:
                assert uscc in registry, ("employer never registered", record)
                name, status = registry[uscc]
                if status in ("revoked", "cancelled"):
                    expected.add("fake_recruitment.inactive_employer")
                elif name != record["employer"]["name"]:
                    expected.add("fake_recruitment.employer_mismatch")
        registry_rules = {
            r
            for r in label["rules"]
            if r
            in {
                "fake_recruitment.unlicensed_agency",
                "fake_recruitment.invalid_uscc",
                "fake_recruitment.inactive_employer",
                "fake_recruitment.employer_mismatch",
            }
        }
        assert registry_rules == expected, (record, label)
        checked += 1
    assert checked > 2000


def test_private_contact_only_means_anonymous_and_im_only(corpus_3000):
    for record, label in corpus_3000:
        if record["type"] != "job_posting":
            continue
        anonymous_im = (
            "uscc" not in record["employer"] and "agency" not in record and set(record["contact"]) <= {"wechat", "qq"}
        )
        assert anonymous_im == ("fake_recruitment.private_contact_only" in label["rules"]), record


def test_realistic_length_median_and_spread(realistic_postings):
    lengths = [len(r["title"]) + len(r["description"]) for r in realistic_postings]
    assert 400 <= statistics.median(lengths) <= 500
    assert min(lengths) < 250 and max(lengths) > 900


def test_streams_without_building_a_list(tmp_path):
    stream = generate(20_000, seed=1)
    assert isinstance(stream, types.GeneratorType)
    assert iter(stream) is stream
    head = list(itertools.islice(stream, 100))
    assert len(head) == 100
    assert sum(1 for _ in stream) == 19_900


def test_write_corpus_writes_matching_jsonl(tmp_path):
    records, labels = tmp_path / "c.jsonl", tmp_path / "c.labels.jsonl"
    assert write_corpus(records, labels, 120, 4, False) == 120
    lines = records.read_text(encoding="utf-8").splitlines()
    label_lines = labels.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(label_lines) == 120
    assert "\\u" not in lines[0]
    assert [json.loads(a)["id"] for a in lines] == [json.loads(b)["id"] for b in label_lines]
