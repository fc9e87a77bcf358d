"""Personal-data leak rules (泄露个人信息), one row table per rule, run through the real engine.

Each row is (text, expected rule or None, expected masked excerpt). Positives and hard negatives
sit side by side: the employer's own recruiting contact, masked numbers, USCCs and order numbers,
warnings against résumé trade. Every finding is checked for evidence offsets that point at the
identifier in the ORIGINAL text and for the absence of the raw identifier anywhere in its JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors import DetectionEngine
from detectors.findings import Finding
from detectors.identifiers import luhn_valid, resident_id_check_char, valid_uscc
from detectors.normalize import normalize
from schemas import parse_record


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def bank_card(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


# Identifiers used in the tables (valid check digits, computed rather than copied).
ID_A = resident_id("32050219870316004")  # Suzhou, born 1987-03-16
ID_B = resident_id("51010419930822153")  # Chengdu, born 1993-08-22
ID_C = resident_id("23010320000101762")  # Harbin, born 2000-01-01
ID_X = next(v for v in (resident_id(f"33010620010712{n:03d}") for n in range(1000)) if v.endswith("X"))
CARD_A = bank_card("621226100200345678")  # 19 digits, UnionPay
CARD_B = bank_card("622848003211987654")
CARD_C = bank_card("436742991200567")  # 16 digits, Visa-range prefix
# An all-digit string that passes both the resident-ID checks and the USCC check.
USCC_LIKE_ID = next(
    v for v in (resident_id(f"32050219850611{n:03d}") for n in range(1000)) if valid_uscc(v) and v.isdigit()
)

M_ID_A = ID_A[:6] + "********" + ID_A[-4:]
M_ID_B = ID_B[:6] + "********" + ID_B[-4:]
M_ID_C = ID_C[:6] + "********" + ID_C[-4:]
M_CARD_A = CARD_A[:6] + "*" * (len(CARD_A) - 10) + CARD_A[-4:]
M_CARD_B = CARD_B[:6] + "*" * (len(CARD_B) - 10) + CARD_B[-4:]


def posting(text: str, **extra: Any) -> dict[str, Any]:
    record = {
        "type": "job_posting",
        "id": "pd-test",
        "source": "test",
        "title": "招聘普工",
        "description": text,
        "employer": {"name": "苏州恒达电子有限公司"},
        "posted_at": "2024-05-20T09:00:00+08:00",
    }
    record.update(extra)
    return record


def annual_report(notes: str) -> dict[str, Any]:
    return {
        "type": "agency_filing",
        "id": "pd-filing",
        "filing_type": "annual_report",
        "agency": {"name": "苏州快聘人力资源有限公司", "uscc": "91320505MA1XXXXX0A"},
        "notes": notes,
        "filed_at": "2024-03-01T10:00:00+08:00",
    }


@pytest.fixture(scope="module")
def engine() -> DetectionEngine:
    return DetectionEngine()


def personal_findings(engine: DetectionEngine, record: dict[str, Any]) -> list[Finding]:
    return [f for f in engine.process(parse_record(record)) if f.category == "personal_data"]


_SPELLED = [
    ("(at)", "@"),
    ("[at]", "@"),
    (" at ", "@"),
    ("艾特", "@"),
    ("圈a", "@"),
    ("(dot)", "."),
    ("[dot]", "."),
    (" dot ", "."),
    ("点", "."),
    ("#", "@"),
]


def _compact(value: str) -> str:
    """An identifier as written, reduced to what it identifies: digits, letters, @ and dots, lower-case."""
    text = normalize(value).text
    for spelled, plain in _SPELLED:
        text = text.replace(spelled, plain)
    return re.sub(r"[^0-9a-z@.*_]", "", text)


def check_row(
    engine: DetectionEngine, record: dict[str, Any], field: str, rule: str | None, excerpt: str | None
) -> None:
    found = personal_findings(engine, record)
    text = record[field] if field in record else record["description"]
    if rule is None:
        assert found == [], [f.to_dict() for f in found]
        return
    by_rule = {f.rule: f for f in found}
    assert rule in by_rule, sorted(by_rule)
    finding = by_rule[rule]
    excerpts = [e.excerpt for e in finding.evidence]
    assert excerpt in excerpts
    for e in finding.evidence:
        assert e.field == field
        assert 0 <= e.start < e.end <= len(text)
    assert_no_raw_identifiers(found, text)
    assert_offsets_point_at_identifiers(finding, text)


RAW_IDENTIFIER = re.compile(
    r"[0-9]{11,19}[xX]?|[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}|(?<![a-z])e[a-z]?[0-9]{7,8}|[a-z][a-z0-9_-]{5,19}"
)


def assert_no_raw_identifiers(found: list[Finding], text: str) -> None:
    """No identifier of the text, in any spelling normalisation folds together, appears in any finding's JSON."""
    raw = {m.group() for m in RAW_IDENTIFIER.finditer(_compact(text)) if any(c.isdigit() for c in m.group())}
    for f in found:
        dumped = _compact(json.dumps(f.to_dict(), ensure_ascii=False))
        for value in raw:
            assert value not in dumped, (value, f.to_dict())


def assert_offsets_point_at_identifiers(finding: Finding, text: str) -> None:
    """Each evidence span covers exactly the identifier its masked excerpt stands for."""
    for e in finding.evidence:
        span = text[e.start : e.end]
        assert span == span.strip(), span
        if finding.rule == "personal_data.resume_trade" or re.search(r"[\u4e00-\u9fff]", e.excerpt):
            continue  # trade phrases and (masked) addresses are not identifiers
        value, shown = _compact(span), _compact(e.excerpt)
        assert len(value) == len(shown), (span, e.excerpt)
        assert all(m in ("*", v) for v, m in zip(value, shown, strict=True)), (span, e.excerpt)


# --- resident_id ---------------------------------------------------------------------------------

RESIDENT_ID_ROWS = [
    (f"新入职员工登记：孙雨桐，身份证号{ID_A}，请行政尽快办理社保。", "personal_data.resident_id", M_ID_A),
    (f"学员身份证 {ID_B[:6]} {ID_B[6:14]} {ID_B[14:]} 已核验", "personal_data.resident_id", M_ID_B),
    (f"证件号码：{ID_C[:6]}-{ID_C[6:10]}-{ID_C[10:14]}-{ID_C[14:]}", "personal_data.resident_id", M_ID_C),
    (f"身份证：{ID_X[:-1]}x（末位小写）", "personal_data.resident_id", ID_X[:6] + "********" + ID_X[-4:]),
    ("身份证号：" + "".join("〇一二三四五六七八九"[int(c)] for c in ID_A), "personal_data.resident_id", M_ID_A),
    (
        "身份证号：" + ID_A.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "personal_data.resident_id",
        M_ID_A,
    ),
    # pasted into a chat four digits a line
    ("新同事身份证核对：\n" + "\n".join(ID_B[i : i + 4] for i in range(0, 18, 4)), "personal_data.resident_id", M_ID_B),
    # an ID at the end of a list line, the next entry's number marker on the next line: not one number
    (
        f"（1）贝宁 证件号{ID_A[:6]}-{ID_A[6:10]}-{ID_A[10:14]}-{ID_A[14:]}\n（2）谷明 身份证号{ID_B}",
        "personal_data.resident_id",
        M_ID_A,
    ),
    # a first-generation 15-digit ID: no check digit, so only where the text calls it an ID
    ("老员工身份证号：110105710923582（一代证）", "personal_data.resident_id", "110105*****3582"),
    # hard negatives
    ("仓库单号 110105710923582 请保存", None, None),
    ("编码110105710923582", None, None),
    (f"身份证：{ID_A[:6]}********{ID_A[-4:]}（已脱敏）", None, None),
    (f"统一社会信用代码 {USCC_LIKE_ID}，欢迎查询", None, None),
    (f"苏州恒达电子有限公司 {USCC_LIKE_ID}", None, None),
    (f"订单编号{ID_B}，请凭编号领取工服", None, None),
    (f"身份证号{ID_A[:-1]}{'1' if ID_A[-1] != '1' else '2'}", None, None),  # wrong check digit
    (f"身份证号{resident_id('32050219870231004')}", None, None),  # 31 February
    (f"身份证号{resident_id('32050221870316004')}", None, None),  # born 2187
    ("入职需携带身份证原件及复印件两份。", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), RESIDENT_ID_ROWS)
def test_resident_id(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


# --- mobile --------------------------------------------------------------------------------------

MOBILE_ROWS = [
    ("恭喜应聘者方晓雯（手机15906211438）通过终面！", "personal_data.mobile", "159****1438"),
    ("离职员工韩冬的电话 158 7405 6633，他经手的账目请财务核对", "personal_data.mobile", "158****6633"),
    ("求职者周宁 199-2417-3958 多次爽约，各位同行注意", "personal_data.mobile", "199****3958"),
    ("该学员电话：幺三七洞洞幺二三四五六，请班主任回访", "personal_data.mobile", "137****3456"),
    ("紧急联系人（其父）：+86 135 0011 2233", "personal_data.mobile", "135****2233"),
    ("本周入职：\n叶子涵 13651120987\n陶嘉怡 18817654321", "personal_data.mobile", "136****0987"),
    ("(1)龚晓 联系电话 17712345670\n(2)毛若彤 联系电话 17787654320", "personal_data.mobile", "177****5670"),
    # a former holder of a post, the number in full-width digits in brackets
    (
        "前店员邹敏（手机１３６ ５１１２ ０９８７）私自拿走店里备用金，知情者请告知",
        "personal_data.mobile",
        "136****0987",
    ),
    # a story of misconduct about a specific person: pronoun, name, role glued to the name, over sentences
    (
        "大家留意一下沈佳琪，上周预支了工资后再没来，她的号码 一五九 八七六五 四三二一",
        "personal_data.mobile",
        "159****4321",
    ),
    ("避雷！骑手谭磊 159-8765-4321 借支工资后失联", "personal_data.mobile", "159****4321"),
    ("上个月有个员工卷款跑了，他叫武强。大家注意。电话13812345678", "personal_data.mobile", "138****5678"),
    ("那个叫孟凡的学徒，手机13698765432，干了两天就跑路了", "personal_data.mobile", "136****5432"),
    ("这个新来的员工 电话13812345678 三天没来上班", "personal_data.mobile", "138****5678"),
    # an outcome told of the name the number is written under
    ("王磊（13812345678）已通过背调，请HR尽快发offer", "personal_data.mobile", "138****5678"),
    # digits grouped with bullets or katakana dots; beside an ID in one entry
    (f"档案补录：韦思远 身份证 {ID_B} 手机 139•0571•2268", "personal_data.mobile", "139****2268"),
    ("应聘者蒋悦 电话 186・2233・4455 面试未到", "personal_data.mobile", "186****4455"),
    # a person noun naming someone, though 请 before it makes nouns addressees elsewhere
    ("请应聘者沈一帆（电话 13771234567）明早九点到前台报到", "personal_data.mobile", "137****4567"),
    # a pronoun owning the label, pointing back at a specific person of the sentence before
    ("上午来试工的小姑娘落下了工牌。她手机 15867891234，谁见到提醒一下", "personal_data.mobile", "158****1234"),
    # the employer's own recruiting contact, written every way
    ("有意者请联系人事部王经理：13906211438", None, None),
    ("招聘热线 159-0621-1438（同微信）", None, None),
    ("报名请致电 137 0011 2233 周女士", None, None),
    ("联系人：邵敏\n联系电话：13651120987", None, None),
    ("求职者请直接拨打18817654321咨询", None, None),
    ("员工福利好，入职即缴社保，电话18817654321", None, None),
    ("即可上岗，工资日结，电话18817654321", None, None),
    ("负责提升品牌曝光，联系电话18817654321", None, None),
    ("本店招聘专员小吕，私人手机18817654321，欢迎来电", None, None),
    ("各门店联系方式：\n观前店 钱芳 13651120987\n石路店 孔强 18817654321", None, None),
    ("传真：0512-65231234，座机0512 6523 1235", None, None),
    ("职位编号 20240520138123456，请勿重复投递", None, None),
    ("手机：138****5678（已隐藏）", None, None),
    # a misconduct word denied or with nobody it is about; a former word before a thing; a recruiter role
    ("本厂工资绝不拖欠，她的电话13812345678，可以咨询宿舍情况", None, None),
    ("面试请准时，放鸽子者拉黑，电话13698765432", None, None),
    ("不招放鸽子的，她的电话13812345678，面试请准时", None, None),
    # a demonstrative pointing at a month or a post, not at a person
    ("这个月员工工资按时发放，电话13812345678", None, None),
    ("这个岗位员工需要倒班，电话13812345678", None, None),
    ("之前的招聘电话已停用，新的联系电话：13698765432", None, None),
    ("原店长已调走，新店长手机13812345678，欢迎来电", None, None),
    ("这位师傅手艺好，联系电话13698765432，欢迎来店体验", None, None),
    ("这是我们经理，他的电话13812345678，直接打", None, None),
    ("入职三天不辞而别的员工将扣除押金。联系电话：13812345678", None, None),
    ("离职员工韦强的工服未还，其手机 13671234567，知情者请告知", "personal_data.mobile", "136****4567"),
    ("请张佳慧同学（手机 13812345678）明天来签合同", "personal_data.mobile", "138****5678"),
    ("请应聘者李娜尽快回电，她的手机13812345678打不通", "personal_data.mobile", "138****5678"),
    ("今天来面试的那个女生手机号是13812345678，落了身份证在前台", "personal_data.mobile", "138****5678"),
    # a pronoun of the recruiter; 请 + a noun + 于 (a preposition, not a surname)
    ("欢迎应聘者咨询，联系人王女士，她的手机13812345678", None, None),
    ("请全体同学（手机号已登记）13812345678", None, None),
    ("男女生不限，电话13812345678", None, None),
    ("联系人贺女士，她的手机 15867891234，欢迎来电", None, None),
    ("我们店长人很好。她手机 15867891234，有意者直接联系", None, None),
    ("请员工于周五前提交材料，电话13812345678", None, None),
    # two whole numbers on two lines are two numbers, not one joined across the line break
    ("值班电话：\n13812345678\n13912345678", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), MOBILE_ROWS)
def test_mobile(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


def test_mobile_equal_to_the_postings_contact_phone_is_not_a_leak(engine: DetectionEngine) -> None:
    record = posting("求职者刘倩请联系13906211438", contact={"name": "刘倩", "phone": "139 0621 1438"})
    assert personal_findings(engine, record) == []


# --- bank_card -----------------------------------------------------------------------------------

BANK_CARD_ROWS = [
    (f"本月工资退票：员工钱思远 工资卡 {CARD_A}", "personal_data.bank_card", M_CARD_A),
    (
        f"学员卡号：{CARD_B[:4]}-{CARD_B[4:8]}-{CARD_B[8:12]}-{CARD_B[12:16]}-{CARD_B[16:]}",
        "personal_data.bank_card",
        M_CARD_B,
    ),
    (f"报到登记：严可欣（身份证{ID_B}，收款账号{CARD_A}）", "personal_data.bank_card", M_CARD_A),
    # hard negatives
    (f"报名费请转账至{CARD_A}，到账后安排面试", None, None),  # the poster's collection account
    (f"卡号{CARD_A[:-1]}{(int(CARD_A[-1]) + 1) % 10}", None, None),  # fails Luhn
    ("工资每月10日打到员工本人银行卡。", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), BANK_CARD_ROWS)
def test_bank_card(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


# --- passport ------------------------------------------------------------------------------------

PASSPORT_ROWS = [
    ("外派焊工护照号：E63812457，签证已出", "personal_data.passport", "E6*****57"),
    ("赴迪拜人员（护照）：EB2046813", "personal_data.passport", "EB*****13"),
    ("劳务输出名单（护照号）：\n贺勇 G20419873\n常山 E 7051 3364", "personal_data.passport", "G2*****73"),
    # travel permits: a permit-format number after a permit label
    ("外派人员港澳通行证号：C12345678，请核对", "personal_data.passport", "C1*****78"),
    ("员工陈伟 往来港澳通行证 CA1234567 已办好", "personal_data.passport", "CA*****67"),
    ("赴台交流人员台湾通行证：L20461873", "personal_data.passport", "L2*****73"),
    # hard negatives
    ("需持有效护照，签证费用公司承担。", None, None),
    ("设备型号E63812457，操作前请培训", None, None),
    ("护照办理进度查询单号P1234567", None, None),
    ("需办理港澳通行证，费用公司报销", None, None),
    ("护照号：C12345678", None, None),  # a permit format is no passport number
    ("厂区通行证编号 C12345678", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), PASSPORT_ROWS)
def test_passport(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


# --- email ---------------------------------------------------------------------------------------

EMAIL_ROWS = [
    ("候选人林小满邮箱 linxiaoman96@163.com，已发offer", "personal_data.email", "li**********@163.com"),
    ("被投诉人邮箱：wu.jiaqi(at)qq.com", "personal_data.email", "wu******@qq.com"),
    # spelt out every way: 圈a/点, bracketed [at]/(艾特), spaces around @ and dots
    (
        "上周面试的候选人何雨桐，邮箱 heyutong2000圈a163点com，她已接了别家offer",
        "personal_data.email",
        "he**********@163.com",
    ),
    ("曝光一下：求职者邓佳怡 dengjiayi [at] qq [dot] com 面试迟到两小时", "personal_data.email", "de*******@qq.com"),
    ("这位应聘者的邮箱是 lin.yue(艾特)foxmail.com，简历造假", "personal_data.email", "li*****@foxmail.com"),
    ("前员工罗斌 luobin1988 @ 163 . com 带走客户资料", "personal_data.email", "lu********@163.com"),
    # an outcome heading a name, a mailbox read off a résumé
    ("笔试第一名：冯晓宇 fengxy2002@qq.com", "personal_data.email", "fe********@qq.com"),
    ("那位拒了offer的设计师，简历上邮箱 gu.qing_ux@163.com，谁需要拿去", "personal_data.email", "gu********@163.com"),
    # a local part spelt out in spaced words, owned by a pronoun of a named person
    (
        "录用的同学柏子涵，她留的邮箱是 bai zi han 2001 at 126 dot com，offer已发",
        "personal_data.email",
        "ba**********@126.com",
    ),
    # the employer's recruiting mailbox
    ("简历请投递至 hr@hengda-elec.com", None, None),
    ("简历发送到 zhaopin2024@163.com，注明岗位", None, None),
    ("联系邮箱：recruit.sz@qq.com", None, None),
    ("简历请发送至 hr圈a hengda-elec点com", None, None),
    ("欢迎投递简历：zhaopin [at] hengda-elec [dot] com", None, None),
    ("简历请发 hr at hengda-elec dot com", None, None),
    ("招聘邮箱 zhao pin 2025 at 163 dot com，注明岗位", None, None),
    ("有意者请发简历到 wangjing2020@163.com 王经理收", None, None),
    ("简历请投递至以下邮箱，注明岗位：\n钟楠 zhongnan01@163.com\n蔡琳 cailin_hz@qq.com", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), EMAIL_ROWS)
def test_email(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


def test_email_on_the_employers_own_domain_is_not_a_leak(engine: DetectionEngine) -> None:
    record = posting("员工邮箱统一为姓名拼音，如 wangfang@hengda-elec.com", contact={"email": "jobs@hengda-elec.com"})
    assert personal_findings(engine, record) == []


# --- im_account ----------------------------------------------------------------------------------

IM_ROWS = [
    ("应聘者钟毅的微信号：zhongyi_1998，面试放鸽子两次", "personal_data.im_account", "zh********98"),
    ("离职员工QQ：2736481950，拖欠公司备用金", "personal_data.im_account", "27******50"),
    ("求职者薇信 mengmeng_0618 请勿再加", "personal_data.im_account", "me*********18"),
    # a bare V or Q label, 薇芯 for 微信, a former post, a pronoun in a story of misconduct
    ("这个求职者Q：2873645109，面试三次都放鸽子", "personal_data.im_account", "28******09"),
    ("应聘者吕婷的 V：lvting_0521，别再加了，已拉黑", "personal_data.im_account", "lv*******21"),
    (
        "之前招的收银员 薇芯：tangtang_95，拿了工具钱就把我们拉黑了，她人品不行",
        "personal_data.im_account",
        "ta*******95",
    ),
    ("原负责人邵杰已离职，他的私人微信 shaojie_0101 请勿再加", "personal_data.im_account", "sh********01"),
    # beside a third person's number in one entry, with nothing of the employer between
    (
        "通报：求职者邝悦两次面试未到（手机 176 9381 8390，薇信 kuangyue_521）",
        "personal_data.im_account",
        "ku********21",
    ),
    ("原店员练洁离职未交接（扣：917071307，电话13812345678）", "personal_data.im_account", "91*****07"),
    (
        "前天来面试的男孩把雨伞落在会议室了，他微信 qiaoyu_2003，麻烦认识的转告",
        "personal_data.im_account",
        "qi*******03",
    ),
    # the employer's own channel
    ("加微信 hr_hengda88 了解详情", None, None),
    ("有意者加QQ 2736481950，非诚勿扰", None, None),
    ("招聘专员V：zp_hengda01，欢迎咨询", None, None),
    ("本厂工资绝不拖欠，她的微信 lihua_1988 可以咨询宿舍情况", None, None),
    ("刚入职的新人孙悦，微信 sunyue_0909，大家多关照", "personal_data.im_account", "su*******09"),
    ("招聘负责人林先生，他微信 linhr_2024，欢迎咨询", None, None),
    ("会员等级vip：gold_member 可享折扣", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), IM_ROWS)
def test_im_account(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


def test_recruiters_handle_beside_a_leaked_number_stays_unflagged(engine: DetectionEngine) -> None:
    found = {
        f.rule
        for f in personal_findings(engine, posting("求职者李娜 13812345678 多次爽约，招聘专员微信 hr_abc2024 欢迎咨询"))
    }
    assert found == {"personal_data.mobile"}


def test_deduction_after_kou_is_no_qq_number(engine: DetectionEngine) -> None:
    assert personal_findings(engine, posting("迟到一次扣：20000元以上罚款由公司承担")) == []


# --- address -------------------------------------------------------------------------------------

ADDRESS_ROWS = [
    ("员工卢佳家住姑苏区平江路88号2幢301室，通勤班车请绕行", "personal_data.address", "姑苏区平江路**号*幢***室"),
    ("该学员现住址：吴中区木渎镇金山路16号5栋1单元702", "personal_data.address", "吴中区木渎镇金山路**号*栋*单元***"),
    (
        "史可 住 相城区元和街道御窑路9号3栋1101\n柏林 住 相城区阳澄湖路2号6栋402",
        "personal_data.address",
        "相城区元和街道御窑路*号*栋****",
    ),
    # flats written as named people's entries, no residence word before them
    (
        "以下快递请核对收件地址：\n梁思琪：江宁区东山街道金鹰花园6栋2单元1102\n武浩：栖霞区仙林大道18号9幢1单元603",
        "personal_data.address",
        "江宁区东山街道金鹰花园*栋*单元****",
    ),
    ("王建国 13812345678 幸福里小区3栋2单元401", "personal_data.address", "幸福里小区*栋*单元***"),
    (
        "工服寄送：\n1. 方琳 地址：东湖小区2栋3单元401\n2. 崔浩：幸福家园3号楼1202室",
        "personal_data.address",
        "幸福家园*号楼****室",
    ),
    # workplaces, dormitories the employer provides, generic conditions
    ("公司地址：姑苏区平江路88号2幢301室", None, None),
    ("包吃住，宿舍在厂区5栋", None, None),
    ("面试地点：工业园区星湖街328号8栋", None, None),
    ("联系人 周强：鼓楼区中山路5号2栋1单元101（门店）", None, None),
    ("面试地点：雨花台区软件大道9号3栋2单元", None, None),
    ("金鹰店：江宁区金鹰花园6栋2单元1102\n王经理：阳光小区12栋502", None, None),
    ("户籍不限，优先录用家住附近者", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), ADDRESS_ROWS)
def test_address(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


def test_household_employers_own_home_is_the_workplace_not_a_leak(engine: DetectionEngine) -> None:
    # A family hiring a live-in carer gives its own home, which the record names as the place of work.
    text = "家里招育儿嫂一名，照看两岁宝宝。家庭住址：海淀区学院路甲5号院7号楼2单元401，欢迎来家面谈。"
    own = posting(text, location={"city": "北京", "address": "学院路甲5号院7号楼2单元401"})
    assert personal_findings(engine, own) == []
    # Only the workplace's own address is spared: a former nanny's home in the same posting is not.
    told = text + "原保姆何桂芳家住昌平区回龙观龙泽苑东区12号楼3单元502，请勿打扰。"
    found = personal_findings(engine, posting(told, location={"city": "北京", "address": "学院路甲5号院7号楼2单元401"}))
    assert [(f.rule, [e.excerpt for e in f.evidence]) for f in found] == [
        ("personal_data.address", ["昌平区回龙观龙泽苑东区**号楼*单元***"])
    ]


# --- bulk_records --------------------------------------------------------------------------------

BULK_ROWS = [
    (
        f"新员工信息：\n1. 孙雨桐 {ID_A} 13651120987\n2. 何嘉 {ID_B} 18817654321\n3. 郑一鸣 {ID_C} 15906211438",
        "personal_data.bulk_records",
        M_ID_B,
    ),
    (f"工资卡核对：{CARD_A}；{CARD_B}；{bank_card('622202123456789012')}", "personal_data.bulk_records", M_CARD_B),
    (
        "以下学员请回电：\n贝晨 13651120987\n池亦 18817654321\n宁远 15906211438",
        "personal_data.bulk_records",
        "188****4321",
    ),
    (
        "面试邀请已发至以下邮箱，有疑问请联系HR：\n钟楠 zhongnan01@163.com\n蔡琳 cailin_hz@qq.com\n潘越 panyue88@126.com",
        "personal_data.bulk_records",
        "ca*******@qq.com",
    ),
    (
        "本月新进员工（请核对）：\n冼嘉 联系电话 18248527552\n邸明 联系电话 18267493669\n楚瑶 联系电话 19341666332",
        "personal_data.bulk_records",
        "182****3669",
    ),
    # two people are not a roster; three contacts of the employer are not personal data
    (f"新员工：孙雨桐 {ID_A}；何嘉 {ID_B}", None, None),
    ("联系人：王经理 13651120987；李主管 18817654321；赵老师 15906211438", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), BULK_ROWS)
def test_bulk_records(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    record = posting(text)
    found = {f.rule for f in personal_findings(engine, record)}
    if rule is None:
        assert "personal_data.bulk_records" not in found
    else:
        check_row(engine, record, "description", rule, excerpt)
        # bulk fires in addition to the per-identifier rules
        assert found - {"personal_data.bulk_records"}


# --- resume_trade --------------------------------------------------------------------------------

TRADE_ROWS = [
    ("长期出售一手简历，各行业都有，量大从优", "personal_data.resume_trade", "出售一手简历"),
    ("高价收购应届生简历，有货的私聊", "personal_data.resume_trade", "高价收购应届生简历"),
    ("出 售 简 历 ，支 持 验 货", "personal_data.resume_trade", "出 售 简 历"),
    ("出🔥售 简📄历，新鲜实时", "personal_data.resume_trade", "出🔥售 简📄历"),
    ("求职者信息打包出，一条三毛", "personal_data.resume_trade", "求职者信息打包出"),
    ("简历资源低价转，2元一份", "personal_data.resume_trade", "简历资源"),
    # jl for 简历, per-record prices in numerals or 按条, goods of a contact list
    ("全网新鲜jl，带姓名电话，需要的私", "personal_data.resume_trade", "新鲜jl"),
    ("有需要jl的私我，带电话带学历，五毛一条", "personal_data.resume_trade", "要jl"),
    ("个人简历转让，3000份，按份计价", "personal_data.resume_trade", "简历转让"),
    ("各行业求职者电话号码，一毛一条，要的私聊", "personal_data.resume_trade", "求职者电话号码，一毛一条"),
    ("jl按条卖 实时更新", "personal_data.resume_trade", "jl按条"),
    # years and counts between the verb and the goods; archives and files of applicants
    ("现低价转让2022-2024年应聘者资料约5千份", "personal_data.resume_trade", "转让202*-2024年应聘者资料"),
    ("出售2万份新鲜求职者档案，支持验货", "personal_data.resume_trade", "出售2万份新鲜求职者档案"),
    # spaced pinyin goods with no verb beside them, in a field of sales talk
    ("本地 jian li 资源 蓝领白领都有\n实时更新，一手不二卖，价格私聊", "personal_data.resume_trade", "jian li"),
    # warnings, promises and ordinary recruiting
    ("本平台严禁出售简历，一经发现永久封号", None, None),
    ("我们承诺绝不会出售您的个人信息", None, None),
    ("倒卖简历属于违法行为，请求职者提高警惕", None, None),
    ("HR每天统一收简历，三个工作日内回复", None, None),
    ("负责交易数据的清洗与分析", None, None),
    ("平台拥有丰富的简历资源，帮企业高效招聘", None, None),
    ("出售简历模板，各行业通用，5元一份", None, None),
    ("吉林（JL）地区招聘普工，投递简历请注明", None, None),
    ("jl_hr2025 是我们的招聘微信，欢迎加", None, None),
    # disposal talk; a price written per record first
    ("低价处理一批求职简历，约5000份，有意私聊", "personal_data.resume_trade", "低价处理一批求职简历"),
    ("清仓：往届应聘者资料打包带走", "personal_data.resume_trade", "清仓：往届应聘者资料"),
    ("整理好的求职者名单，一份20元", "personal_data.resume_trade", "求职者名单，一份20元"),
    ("负责处理员工信息变更，每份材料需签字", None, None),
    ("处理求职者简历筛选工作，薪资5000元", None, None),
    ("简历制作服务，一份20元", None, None),
    # a negation before a series of verbs denies each; a date range in ordinary HR work; one sales word alone
    ("我们承诺不会泄露、出售或交换您的简历", None, None),
    ("本公司不会向第三方提供、出售或转让应聘者资料", None, None),
    ("负责2019-2024年员工档案整理与归档", None, None),
    ("一手房销售顾问，楼盘打包价团购，投递简历请注明岗位", None, None),
    ("出售2023年款样品,简历投递请注明岗位", None, None),
    ("本公司不出售、不转让求职者个人信息", None, None),
]


@pytest.mark.parametrize(("text", "rule", "excerpt"), TRADE_ROWS)
def test_resume_trade(engine: DetectionEngine, text: str, rule: str | None, excerpt: str | None) -> None:
    check_row(engine, posting(text), "description", rule, excerpt)


# --- agency filings: annual-report notes are published ---------------------------------------------


def test_annual_report_notes_are_scanned(engine: DetectionEngine) -> None:
    notes = f"本年度安置重点人员：\n常乐 {ID_A} 13651120987\n米粒 {ID_B} 18817654321\n宫正 {ID_C} 15906211438"
    record = annual_report(notes)
    found = {f.rule for f in personal_findings(engine, record)}
    assert {"personal_data.resident_id", "personal_data.mobile", "personal_data.bulk_records"} <= found
    check_row(engine, record, "notes", "personal_data.resident_id", M_ID_C)


def test_annual_report_contact_line_is_not_a_leak(engine: DetectionEngine) -> None:
    record = annual_report("年度服务求职者1200人次，无投诉。联系人：柏经理 13651120987")
    assert personal_findings(engine, record) == []


# --- properties ----------------------------------------------------------------------------------

FILLER = st.text(alphabet=list("招聘普工包吃住月薪面试地址厂区，。：\n 0123"), max_size=30)
SEPARATORS = st.sampled_from(["", " ", "-", "　", " - "])


@given(before=FILLER, after=FILLER, sep=SEPARATORS, born=st.dates(dt.date(1930, 1, 1), dt.date(2005, 12, 31)))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_resident_id_evidence_points_at_the_number(
    engine: DetectionEngine, before: str, after: str, sep: str, born: dt.date
) -> None:
    value = resident_id(f"320502{born:%Y%m%d}123")
    written = sep.join([value[:6], value[6:14], value[14:]])
    text = f"{before}。员工身份证号：{written}。{after}"
    found = {f.rule: f for f in personal_findings(engine, posting(text))}
    finding = found["personal_data.resident_id"]
    (ev,) = [e for e in finding.evidence if e.excerpt == value[:6] + "********" + value[-4:]]
    assert text[ev.start : ev.end] == written
    assert value not in json.dumps(finding.to_dict(), ensure_ascii=False)
