"""Identifier leaks: resident IDs, mobiles, bank cards, passports, e-mails and IM accounts of third persons, and rosters of them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from itertools import pairwise

from detectors.context import DetectionContext, field_value
from detectors.findings import Evidence, Finding
from detectors.identifiers import resident_id_shape
from detectors.normalize import normalize_pattern
from detectors.personal_data.attribution import (
    OWN_CONTACT,
    THIRD_PERSON,
    UNATTRIBUTED,
    Attribution,
    attribute,
    attribute_named,
    contact_fields,
    digits_of,
    entry_name,
    name_opens_line,
    own_contact_values,
)
from detectors.personal_data.cues import (
    CARD_LABEL,
    EMPLOYER,
    ID_LABEL,
    NOT_PERSONAL,
    PASSPORT_LABEL,
    PAYMENT,
    THIRD,
    CueIndex,
    lexicon,
)
from detectors.personal_data.home_address import record_home_addresses
from detectors.personal_data.sightings import (
    ADDRESS,
    BANK_CARD,
    EMAIL,
    FIRST_GENERATION_ID,
    IM_ACCOUNT,
    MOBILE,
    PASSPORT,
    PERMIT_FORMAT,
    RESIDENT_ID,
    Sighting,
    email_candidates,
    im_candidates,
    number_candidates,
    passport_candidates,
)
from detectors.rules import Detector

_LABEL_WINDOW = 16  # how far back a label ("身份证号", "订单号") names the number after it
_PASSPORT_WINDOW = 24
_ROSTER_REACH = 160
_NEIGHBOURHOOD = 32  # characters before an identifier where its label and attribution cues are
_BULK_PEOPLE = 3
_ENTRY_GAP = 16  # at most this much between two identifiers of one entry ("，微信号 ")
# An organisation named right before an all-digit code makes it its USCC.
_ORGANISATION = re.compile(r"(?:公司|企业|单位|机构|集团|中心|协会|学校|医院|工作室|商行|门店)[^\n。;]{0,6}$")
_ROSTER_KINDS = frozenset({RESIDENT_ID, MOBILE, BANK_CARD, PASSPORT, EMAIL, IM_ACCOUNT})
_STRONG = frozenset({RESIDENT_ID, BANK_CARD, PASSPORT})
_RULE = {k: f"personal_data.{k}" for k in (RESIDENT_ID, MOBILE, BANK_CARD, PASSPORT, EMAIL, IM_ACCOUNT)}


@cache
def _mailbox_words() -> tuple[frozenset[str], frozenset[str]]:
    em = lexicon()["email"]
    return frozenset(em["recruiting_local"]), frozenset(normalize_pattern(d) for d in em["webmail"])


@cache
def _permit_words() -> frozenset[str]:
    return frozenset(normalize_pattern(w) for w in lexicon()["labels"]["travel_permit"])


def _recruiting_mailbox(address: str) -> bool:
    """hr@, zhaopin2024@, szhr_job@ …: a role mailbox, not a person's."""
    local = address.split("@", 1)[0]
    words, _ = _mailbox_words()
    tokens = [t for t in "".join(c if c.isalpha() else " " for c in local).split() if t]
    if any(t in words for t in tokens):
        return True
    stripped = "".join(tokens)
    return stripped in words or stripped.startswith("hr") or stripped.endswith("hr")


class _OwnContact:
    """The posting's own contact channel (contact.phone/wechat/qq/email/name), read once and only when needed."""

    def __init__(self, contact: object) -> None:
        # A dict from the JSON in practice: tested first, as the Mapping ABC check costs ten times more.
        self._contact = contact if isinstance(contact, dict) or isinstance(contact, Mapping) else None
        self._parsed: tuple[frozenset[str], str] | None = None

    def _get(self) -> tuple[frozenset[str], str]:
        if self._parsed is None:
            self._parsed = own_contact_values(self._contact)
        return self._parsed

    @property
    def values(self) -> frozenset[str]:
        return self._get()[0]

    @property
    def name(self) -> str:
        value = self._contact.get("name") if self._contact else None
        return value if isinstance(value, str) else ""

    def mailbox(self, address: str, domain: str) -> bool:
        """The employer's own mailbox: the contact e-mail, its corporate domain, or a role mailbox (hr@, zhaopin@)."""
        values, own_domain = self._get()
        if address in values or _recruiting_mailbox(address):
            return True
        return bool(own_domain) and domain == own_domain and domain not in _mailbox_words()[1]

    def handle(self, handle: str) -> bool:
        """The employer's own WeChat id or QQ number."""
        return handle in self.values or (handle.isdigit() and digits_of(handle) in self.values)


def _id_shaped(value: str) -> bool:
    """18 digits laid out like a resident ID: a province code and a real birth date."""
    return len(value) == 18 and resident_id_shape(value)


def _organisation_code(ctx: DetectionContext, text: str, start: int, value: str) -> bool:
    """An all-digit code that is the employer's or agency's USCC, or follows an organisation's name."""
    if _ORGANISATION.search(text, max(0, start - 10), start) is not None:
        return True
    return any(str(field_value(ctx.record, p) or "").upper() == value for p in ("employer.uscc", "agency.uscc"))


def _label(cues: CueIndex, start: int, kinds: frozenset[str]) -> str | None:
    cue = cues.nearest(start, kinds, window=_LABEL_WINDOW)
    if cue is None:
        return None
    for k in (ID_LABEL, CARD_LABEL, PASSPORT_LABEL, PAYMENT, NOT_PERSONAL):
        if k in cue.kinds and k in kinds:
            return k
    return None


class IdentifierLeakDetector(Detector):
    """Validated identifiers attributed to third persons; rosters of three or more people on top."""

    rules = (*_RULE.values(), "personal_data.bulk_records")
    record_types = frozenset({"job_posting", "agency_filing"})

    def detect(self, ctx: DetectionContext) -> Iterable[Finding]:
        own = _OwnContact(field_value(ctx.record, "contact"))
        leaks: list[tuple[Sighting, str]] = []
        cue_index: dict[str, CueIndex] = {}  # built for a field only once it has something to attribute
        for path in ctx.text_fields:
            leaks.extend(self._field_leaks(ctx, path, own, cue_index))
        by_kind: dict[str, list[tuple[Sighting, str]]] = {}
        for s, why in leaks:
            by_kind.setdefault(s.kind, []).append((s, why))
        for kind, found in by_kind.items():
            yield self._finding(ctx, _RULE[kind], found)
        # A roster: identifiers (home addresses too) of three or more people.
        roster = [(s, why) for s, why in leaks if s.kind in _ROSTER_KINDS]
        for path in ctx.text_fields:
            nt = ctx.norm(path)
            for start, end in record_home_addresses(ctx, path):
                roster.append(
                    (
                        Sighting(ADDRESS, path, start, end, nt.text[start:end], "residence_word+dwelling_number"),
                        "home address",
                    )
                )
        if len(roster) < _BULK_PEOPLE:
            return
        for s, _ in roster:
            if s.field not in cue_index:
                cue_index[s.field] = CueIndex(ctx.norm(s.field))
        people = _count_people([s for s, _ in roster], cue_index)
        if people >= _BULK_PEOPLE:
            yield self._finding(
                ctx,
                "personal_data.bulk_records",
                roster,
                extra={"people": people},
                explanation=f"record lists personal data of {people} different people",
            )

    def _finding(
        self,
        ctx: DetectionContext,
        rule: str,
        found: list[tuple[Sighting, str]],
        *,
        extra: dict[str, object] | None = None,
        explanation: str | None = None,
    ) -> Finding:
        masked = [s.masked for s, _ in found]
        evidence: list[Evidence] = [
            ctx.evidence(s.field, s.start, s.end, excerpt=m) for (s, _), m in zip(found, masked, strict=True)
        ]
        analysis: dict[str, object] = {
            "identifiers": [
                {"kind": s.kind, "field": s.field, "masked": m, "validation": s.validation, "holder": why}
                for (s, why), m in zip(found, masked, strict=True)
            ]
        }
        analysis.update(extra or {})
        return ctx.finding(rule, evidence, analysis=analysis, explanation=explanation)

    def _field_leaks(
        self, ctx: DetectionContext, path: str, own: _OwnContact, cue_index: dict[str, CueIndex]
    ) -> Iterator[tuple[Sighting, str]]:
        nt = ctx.norm(path)
        text = nt.text
        numbers = [c for c in number_candidates(nt) if not (c.kind == MOBILE and c.value in own.values)]
        emails = [e for e in email_candidates(text) if not own.mailbox(e[2], e[3])]
        passports = passport_candidates(text)
        handles = [h for h in im_candidates(text) if not own.handle(h[2])]
        if not (numbers or emails or passports or handles):
            return
        cues = cue_index[path] = CueIndex(nt)
        # The cue words within reach of each identifier, in one scan per neighbourhood.
        near = [(c.start, c.end) for c in numbers]
        near += [(e[0], e[1]) for e in emails] + [(p[0], p[1]) for p in passports] + [(h[0], h[1]) for h in handles]
        cues.prefetch([(a - _NEIGHBOURHOOD, b + 14) for a, b in near])
        strong: list[Sighting] = []
        weak: list[Sighting] = []  # mobiles, e-mails, handles: leaks only when tied to a third person
        taken: list[tuple[int, int]] = []

        for c in numbers:
            label = _label(cues, c.start, frozenset({ID_LABEL, CARD_LABEL, PAYMENT, NOT_PERSONAL}))
            if label == NOT_PERSONAL:
                continue
            kind = c.kind
            if c.validation == FIRST_GENERATION_ID and label != ID_LABEL:
                continue  # 15 digits without a check digit: an ID only when the text calls it one
            if kind == RESIDENT_ID:
                if c.also_card and label == CARD_LABEL:
                    kind = BANK_CARD
                elif c.also_uscc and label != ID_LABEL and _organisation_code(ctx, text, c.start, c.value):
                    continue  # an all-digit USCC that happens to pass the ID checks too
            if kind == BANK_CARD and label != CARD_LABEL and (label == ID_LABEL or _id_shaped(c.value)):
                continue  # a mistyped ID number that happens to pass Luhn is not a card
            if kind == BANK_CARD and (label == PAYMENT or cues.nearest(c.start, frozenset({PAYMENT}), window=30)):
                line_start, line_end = cues.sentence_span(c.start, c.end)
                in_entry = name_opens_line(text, line_start, c.start) or any(
                    o.kind == RESIDENT_ID and line_start <= o.start < line_end for o in numbers
                )
                if not in_entry:
                    continue  # the poster's own collection account in a payment instruction
            if kind == MOBILE and c.area_code_before:
                continue
            s = Sighting(kind, path, c.start, c.end, c.value, c.validation)
            (weak if kind == MOBILE else strong).append(s)
            taken.append((c.start, c.end))

        for start, end, value, written_as in passports:
            # 护照 right before, right after, or heading the list the number sits in.
            named_by = cues.nearest(start, frozenset({PASSPORT_LABEL, NOT_PERSONAL}), window=_PASSPORT_WINDOW)
            if named_by is None:
                named_by = cues.after(end, frozenset({PASSPORT_LABEL}), window=6) or cues.nearest(
                    start, frozenset({PASSPORT_LABEL, NOT_PERSONAL}), window=_ROSTER_REACH, same_sentence=False
                )
            if named_by is None or PASSPORT_LABEL not in named_by.kinds:
                continue
            if written_as == PERMIT_FORMAT:
                if named_by.phrase not in _permit_words():
                    continue  # a permit-format number needs a permit label, not 护照
                validation = "travel_permit_format+通行证_cue"
            else:
                validation = "prc_passport_format+护照_cue"
            strong.append(Sighting(PASSPORT, path, start, end, value, validation))
            taken.append((start, end))

        for start, end, address, domain in emails:
            if domain not in _mailbox_words()[1] and not cues.nearest(start, THIRD, window=30):
                continue  # a corporate mailbox, unless a third person is named right before it
            weak.append(Sighting(EMAIL, path, start, end, address, "email_syntax"))
            taken.append((start, end))

        for start, end, handle, label in handles:
            if any(a < end and start < b for a, b in taken):
                continue  # a phone number written after 微信: reported as the mobile
            validation = "qq_number_after_label" if label == "qq" else "wechat_id_after_label"
            weak.append(Sighting(IM_ACCOUNT, path, start, end, handle, validation, label))

        for s in strong:
            yield s, "sensitive identifier"
        first: dict[Sighting, Attribution] = {}
        for s in weak:
            lo, hi = cues.sentence_span(s.start, s.end)
            strong_here = any(lo <= t.start < hi for t in strong)
            first[s] = attribute(cues, s.start, s.end, strong_in_sentence=strong_here)
        if any(a.holder == UNATTRIBUTED for a in first.values()):
            _attribute_named(cues, weak, first, own)
        if len(weak) > 1 and any(a.holder == UNATTRIBUTED for a in first.values()):
            _attribute_by_neighbour(cues, weak, first)
        for s in weak:
            att = first[s]
            if att.holder == THIRD_PERSON:
                yield s, att.reason


def _attribute_named(
    cues: CueIndex, weak: list[Sighting], first: dict[Sighting, Attribution], own: _OwnContact
) -> None:
    """Settle identifiers no cue attributed by the full name they are written under, in place."""
    text = cues.text
    names = {s: entry_name(text, cues.sentence_span(s.start, s.end)[0], s.start) for s in weak}
    for s in weak:
        name = names[s]
        if first[s].holder == UNATTRIBUTED and name and own.name and name in own.name:
            first[s] = Attribution(OWN_CONTACT, "the posting's contact person")
    # Two or more named entries and none of them introduced as a contact: a list of people.
    # One named entry introduced as a contact makes the whole list the employer's contacts.
    named = [s for s in weak if names[s]]
    named_list = (
        len({names[s] for s in named}) >= 2
        and not any(first[s].holder == OWN_CONTACT for s in named)
        and not _contacts_heading(cues, min(s.start for s in named))
    )
    for s in named:
        if first[s].holder == UNATTRIBUTED:
            first[s] = attribute_named(cues, names[s] or "", named_list=named_list)


def _attribute_by_neighbour(cues: CueIndex, weak: list[Sighting], first: dict[Sighting, Attribution]) -> None:
    """Settle, in place, an identifier written right beside a third person's one, with nothing of the
    employer between: the same entry ("应聘者…没来（电话 176…，微信 yangmeng27552）")."""
    ordered = sorted(weak, key=lambda s: s.start)
    for _ in range(2):  # "（扣：…，手机 …，微信 …）": the settled one settles the next
        for a, b in pairwise(ordered):
            pair = (first[a].holder, first[b].holder)
            if pair not in ((THIRD_PERSON, UNATTRIBUTED), (UNATTRIBUTED, THIRD_PERSON)):
                continue
            if b.start - a.end > _ENTRY_GAP or cues.sentence_span(a.start, a.end) != cues.sentence_span(b.start, b.end):
                continue
            if any(EMPLOYER in c.kinds and c.phrase not in contact_fields() for c in cues.scan(a.end, b.start)):
                continue  # "求职者李娜 138…，招聘专员微信 …": the recruiter's, beside it
            if entry_name(cues.text, a.end, b.start) is not None:
                continue  # a second person's name between them
            settled, other = (a, b) if pair[0] == THIRD_PERSON else (b, a)
            first[other] = Attribution(THIRD_PERSON, f"same entry as another identifier ({first[settled].reason})")


def _contacts_heading(cues: CueIndex, first_entry: int) -> bool:
    """The line above a named list speaks of contacts ("各门店联系方式：", "招聘负责人："): the recruiters."""
    line_start = cues.sentence_span(first_entry, first_entry)[0]
    if line_start == 0:
        return False
    header_start = cues.sentence_span(line_start - 1, line_start - 1)[0]
    # A header pointing at its list ("已发送至以下邮箱，未收到请联系HR：") speaks of contacts only in
    # the clause that points ("请投递至以下邮箱", "请联系以下负责人"), not in a clause beside it.
    header = cues.text[header_start:line_start]
    pointer = max(header.rfind("以下"), header.rfind("如下"))
    if pointer >= 0:
        clause_start = max(header.rfind(c, 0, pointer) for c in ",;") + 1
        clause_end = min((i for i in (header.find(c, pointer) for c in ",;") if i >= 0), default=len(header))
        header_start, line_start = header_start + clause_start, header_start + clause_end
    reach = line_start - header_start
    return cues.nearest(line_start, frozenset({EMPLOYER}), window=reach, same_sentence=False) is not None


def _count_people(sightings: list[Sighting], cues: dict[str, CueIndex]) -> int:
    """People behind the personal data. A new entry starts on a new line that opens with a name or
    repeats a kind, and within a line where an ID/card/passport repeats or a kind repeats after a new
    name (one person may give two phones)."""
    people = 0
    current: set[str] = set()
    seen_values: set[str] = set()
    prev: Sighting | None = None
    for s in sorted(sightings, key=lambda s: (s.field, s.start)):
        if s.value in seen_values:
            continue
        seen_values.add(s.value)
        if prev is None or prev.field != s.field:
            new_entry = True
        else:
            index = cues[s.field]
            line = index.sentence_span(s.start, s.end)
            if line != index.sentence_span(prev.start, prev.end):
                new_entry = s.kind in current or name_opens_line(index.text, line[0], s.start)
            elif s.kind in current:
                new_entry = s.kind in _STRONG or entry_name(index.text, prev.end, s.start) is not None
            else:
                new_entry = False
        if new_entry:
            people += 1
            current = set()
        current.add(s.kind)
        prev = s
    return people
