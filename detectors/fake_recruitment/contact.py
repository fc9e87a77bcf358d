"""Private-contact-only recruiting: an employer with no registered identity, reachable only through a private IM account."""

from __future__ import annotations

import re
from collections.abc import Iterator

from detectors.context import DetectionContext
from detectors.fake_recruitment.cues import Scan, lexicon, scan
from detectors.fake_recruitment.registry_checks import cached_valid_uscc, written_code
from detectors.findings import Evidence, Finding
from detectors.rules import Detector, rule_specs
from schemas import JobPosting

RULE = "fake_recruitment.private_contact_only"
IM_FIELDS = ("contact.wechat", "contact.qq")
OTHER_FIELDS = ("contact.phone", "contact.email")
# A reachable phone (mobile, landline, 400/800 line) or e-mail address written in the text.
_PHONE_OR_MAIL = re.compile(
    r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)|(?<!\d)[48]00-?\d{3}-?\d{4}(?!\d)"
    r"|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+"
)
# How far before a number its channel cue may stand (电话：, 联系方式 HR 王女士 …).
_CUE_GAP = 12


def _find(text: str, list_name: str) -> list[tuple[int, int]]:
    return [m.span() for m in lexicon().lists[list_name].finditer(text)]


class PrivateContactOnlyDetector(Detector):
    """No valid USCC, a job offered, and no way in but WeChat/QQ (or the text refuses every other channel)."""

    rules = (RULE,)

    def detect(self, ctx: DetectionContext) -> Iterator[Finding]:
        rec = ctx.record
        if not isinstance(rec, JobPosting):
            return
        uscc = (rec.employer.uscc if rec.employer else None) or ""
        if cached_valid_uscc(written_code(uscc)):
            return  # a registered employer that also lists WeChat is not anonymous
        sc = scan(ctx)
        c = rec.contact
        im_fields = [
            p for p, v in zip(IM_FIELDS, (c.wechat, c.qq) if c else (None, None), strict=True) if v and v.strip()
        ]
        other = [
            p for p, v in zip(OTHER_FIELDS, (c.phone, c.email) if c else (None, None), strict=True) if v and v.strip()
        ]
        # Phrases in a warning sentence (谨防只加微信的招聘) are not the poster's own terms.
        only = [(fs, s, e) for fs, s, e in sc.find("contact.im_only") if not fs.in_warning(s)]
        if other and not only:
            return
        im_text = [] if im_fields else [(fs, s, e) for fs, s, e in sc.find("contact.im") if not fs.in_warning(s)]
        if not (im_fields or im_text or only):
            return
        if not only and self._channel_in_text(sc):
            return
        if not self._offers_job(ctx, sc):
            return
        if im_fields and not only:
            im_text = [(fs, s, e) for fs, s, e in sc.find("contact.im") if not fs.in_warning(s)]
        evidence: list[Evidence] = [ctx.whole_field(p) for p in im_fields]
        evidence += [ctx.evidence(fs.path, s, e) for fs, s, e in (only or im_text)[:2]]
        name = rec.employer.name if rec.employer else ""
        name_nt = ctx.norm("employer.name")
        if name:
            evidence.append(ctx.whole_field("employer.name"))
        anonymous = [name_nt.text[s:e] for s, e in _find(name_nt.text, "contact.anonymous_names")]
        channels = ", ".join(p.split(".")[1] for p in im_fields) or "an IM account named in the text"
        spec = rule_specs()[RULE]
        explanation = (
            f"{spec.explanation}: employer {name or '(unnamed)'!r} gives no valid unified social credit code"
            + (f" and a non-legal-person name ({anonymous[0]})" if anonymous else "")
            + f"; contact only via {channels}"
            + (f", and the text refuses other channels ({only[0][0].text[only[0][1] : only[0][2]]})" if only else "")
        )
        yield ctx.finding(
            RULE,
            evidence,
            score=min(0.9, spec.score + (0.1 if only else 0.0) + (0.05 if anonymous else 0.0)),
            explanation=explanation,
            analysis={"im_fields": im_fields, "refuses_other_channels": bool(only), "other_channels": other},
        )

    @staticmethod
    def _offers_job(ctx: DetectionContext, sc: Scan) -> bool:
        """A job is on offer: a salary, or more hiring words (月薪, 入职, 日结 …) than marks of a post that
        buys or sells data or services (收购, 出售, 资源出, 价格私聊 …). A trade advertisement is not
        recruitment, whoever it reaches through WeChat (dev-0097 convention: such posts are resume trade)."""
        if ctx.record.raw.get("salary"):
            return True
        trade = sum(1 for _ in sc.find("contact.not_a_job"))
        if not trade:
            return True
        return sum(1 for _ in sc.find("contact.job_offer")) > trade

    @staticmethod
    def _channel_in_text(sc: Scan) -> bool:
        """A phone or e-mail in the text introduced as the poster's own (联系电话…), not one of a list of people's."""
        found = []
        for fs in sc.fields:
            if fs.structured:
                continue
            numbers = list(_PHONE_OR_MAIL.finditer(fs.text))
            if not numbers:
                continue
            lex = lexicon()
            cue_ends = [e for _, e in fs.find(lex.lists["contact.channel"])]
            third = {fs.sentence(s) for s, _ in fs.find(lex.lists["contact.third_party"])}
            for m in numbers:
                own = fs.sentence(m.start()) not in third and any(0 <= m.start() - end <= _CUE_GAP for end in cue_ends)
                found.append(own)
        # Three or more numbers or addresses are a roster of people, not the poster's channel.
        return 0 < len(found) <= 2 and any(found)
