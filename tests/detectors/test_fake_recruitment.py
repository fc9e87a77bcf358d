"""Fake-recruitment rules through the real engine: a row table per rule, positives and hard negatives side by side."""

from __future__ import annotations

from typing import Any

import pytest

from detectors.engine import DetectionEngine
from detectors.fake_recruitment.org_names import compare_names
from detectors.fake_recruitment.registry_checks import uscc_problem
from detectors.findings import Finding
from detectors.identifiers import uscc_check_char
from schemas import parse_record


def _uscc(first17: str) -> str:
    return first17 + (uscc_check_char(first17) or "0")


EMPLOYER_USCC = _uscc("91440300MA5FXT4K0")  # a well-formed code (GB 32100 check character)
AGENCY_USCC = _uscc("91420106MA4KT7LB2")
OTHER_USCC = _uscc("91320500MA1MX2QP6")
POSTED = "2025-06-01T10:00:00+08:00"


def posting(description: str, *, title: str = "诚聘", **fields: Any) -> dict[str, Any]:
    """A lawful-looking posting by a registered employer with a phone, overridden by `fields`."""
    record: dict[str, Any] = {
        "type": "job_posting",
        "id": "p-1",
        "source": "test",
        "title": title,
        "description": description,
        "employer": {"name": "深圳市宏达电子科技有限公司", "uscc": EMPLOYER_USCC},
        "contact": {"name": "李女士", "phone": "0755-26881234"},
        "posted_at": POSTED,
    }
    record.update(fields)
    return record


def detect(record: dict[str, Any], before: tuple[dict[str, Any], ...] = ()) -> list[Finding]:
    """Findings for `record` after feeding the registry records in `before`, through the real engine."""
    engine = DetectionEngine(clock=lambda: "2025-06-02T00:00:00Z")
    for reg in before:
        engine.process(parse_record(reg))
    return engine.process(parse_record(record))


def fired(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == f"fake_recruitment.{rule}"]


def field_text(record: dict[str, Any], path: str) -> str:
    node: Any = record
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def assert_span(record: dict[str, Any], finding: Finding, expected: str) -> None:
    """Some evidence item indexes exactly `expected` in the original text of its field."""
    slices = [field_text(record, e.field)[e.start : e.end] for e in finding.evidence]
    assert expected in slices, f"{expected!r} not among evidence {slices}"


def _ids(rows: list[tuple[Any, ...]]) -> list[str]:
    """Readable test ids: pos-1, neg-1 … (the span column is None for hard negatives)."""
    counts = {"pos": 0, "neg": 0}
    out = []
    for row in rows:
        kind = "neg" if row[-1] in (None, False) else "pos"
        counts[kind] += 1
        out.append(f"{kind}-{counts[kind]}")
    return out


def check_row(rule: str, record: dict[str, Any], span: str | None, before: tuple[dict[str, Any], ...] = ()) -> None:
    """Positive rows (span given) fire `rule` with evidence on `span`; negative rows (None) do not fire it."""
    found = fired(detect(record, before), rule)
    if span is None:
        assert not found, [f.explanation for f in found]
        return
    assert len(found) == 1, f"expected {rule} on {record['description']!r}"
    assert_span(record, found[0], span)
    assert found[0].legal_basis and found[0].explanation


# --- fee_demand ----------------------------------------------------------------------------------
FEE_ROWS = [
    # positives: deposits, papers withheld, named fees, training loans, purchases
    ("入职前须缴纳工服押金300元，离职时凭收据退还。", "押金"),
    ("押 金 二 百 元，入职满月退。", "押 金"),
    ("先交yajin 200块才安排宿舍。", "yajin"),
    ("身份证原件交人事部保管，满三个月后归还。", "身份证原件交人事部保管"),
    ("报名时请携带身份证原件，由公司统一保管至试用期结束。", "统一保管"),
    ("面试通过后需交纳服装费150元（工作满半年退）。", "服装费"),
    ("体检统一安排，体检费120元到公司财务处缴纳。", "体检费"),
    ("岗前培训三周，培训费2600元，可从工资里分期扣除。", "培训费"),
    ("零基础包教包会，学费可申请分期，入职后每月从工资中扣还。", "分期"),
    ("报名需交资料审核费50元，审核通过后通知面试。", "资料审核费"),
    ("先缴纳工牌制作费30元。", "工牌制作费"),
    ("成为平台会员（198元/年）后方可接单。", "成为平台会员"),
    ("签约后需自费拍摄模特卡，拍摄费2800元。", "拍摄费"),
    ("需自费购买工作服两套。", "自费购买"),
    ("凡是新员工需交押金200元，满三个月退。", "押金"),
    ("温馨提示：入职需缴纳押金200元。", "押金"),
    # hard negatives: negations, lawful costs, anti-fraud statements
    ("本公司招聘全程不收取任何费用，谨防上当。", None),
    ("工装由公司免费发放，不收押金。", None),
    ("入职体检费用由公司承担。", None),
    ("入职体检费自理（约80元）。", None),
    ("岗前培训免费，培训期间照发底薪。", None),
    ("凡以本公司名义收取报名费、押金的，均属诈骗，请立即报警。", None),
    ("社保个人部分需个人缴纳，约480元/月。", None),
    ("餐费自理，住宿费每月200元从工资中扣除。", None),
    ("押金：无；服装：公司统一配发。", None),
    ("无需缴纳押金、服装费或任何其他费用。", None),
    ("公司不会以任何理由向求职者收取押金。", None),
    ("面试时请携带身份证原件及复印件。", None),
    ("入职交通费补贴200元，工具由班组统一保管。", None),
    ("会员专员：负责门店会员卡的办理与维护，月薪5000。", None),
    # a negator's reach: short negators (不需要, 无需, 不是) govern only a cue right after them, and
    # 只需/但 end any negator's reach
    ("免费培训，只需缴纳押金300元即可上岗。", "押金"),
    ("不需要经验，但是要交保证金500元。", "保证金"),
    ("无需经验 押金200元 当天上岗", "押金"),
    ("上岗前不需要交一分钱，押金也不用交。", None),
    ("本岗位无须缴纳押金，也不收任何服务费。", None),
    ("押金已取消，入职零费用。", None),
    # reimbursed, free or the holder's own: not a charge
    ("体检在指定医院进行，体检费入职后凭票报销。", None),
    ("工装费用全免，工牌免费制作。", None),
    ("护照及签证材料由员工自行保管，公司不代收证件。", None),
    # warnings that quote the scheme, disowned posts
    ("凡是要求先交押金的招聘都是骗人的，请大家擦亮眼睛。", None),
    ("以收取保证金为名招工的，一律是骗子。", None),
    ("近日有人盗用本厂名义发布“交押金包进厂”信息，与本厂无关。", None),
    # a customer's deposit handled on the job, not the applicant's (but 客户经理 is a job title)
    ("负责前台收银及住客押金的收退与核对。", None),
    ("客户经理：入职需交保证金3000元。", "保证金"),
    ("酒店前台：负责入住登记、房卡及押金收取。", None),
    ("仓管员负责叉车钥匙登记，入职需交押金500元。", "押金"),
    ("商场导购，无责底薪3500+提成，押金制度：无。", None),
    ("要交的费用：体检费自己去医院做，大概80元。", None),
    # paid entry into a scheme: an entry price, or stock bought to become an agent
    ("缴纳加盟费19800元即享区域独家代理权。", "加盟费"),
    ("入门仅需1980，升级vip即可拿货。", "入门仅需1980"),
    ("首批囤货5000元升级为金牌代理，享受拿货折扣。", "囤货5000元升级为金牌代理"),
    ("门店店长：负责加盟商日常对接，月薪8000。", None),
    ("薪资：入门5000，熟手8000以上。", None),
    ("月薪6000元，入职缴纳社保满3年可取得落户资格。", None),
    # the same kinds written in traditional characters and full-width digits
    ("報單３９８０，見點獎天天拿。", "報單３９８０"),
    ("在家串珠，領料需交材料押金２００元。", "押金"),
    # fee words in pinyin syllables
    ("入职先交 ya jin 300。", "ya jin"),
    ("报名后交 jie shao fei 两百元。", "jie shao fei"),
    # charges without a fee word: non-refundable sums, items priced by name, designated goods,
    # photo cards, memberships bought with a sum, subscriptions, 入单
    ("岗前到公司合作门诊体检，费用260元，交后概不退还。", "概不退还"),
    ("报到当天领取工装 80元/套，现场交齐。", "工装 80元"),
    ("上岗前领取工服 ¥九十，到行政处交。", "工服 ¥九十"),
    ("面试通过后须到公司购买劳保鞋一双（160元）才能上岗。", "到公司购买"),
    ("签约艺人须拍摄定妆照，套餐价3200元，由公司摄影棚统一拍摄。", "定妆照"),
    ("成为店铺推手：支付599元开通钻石会员即可接单。", "支付599元开通钻石会员"),
    ("入职前须认购公司理财产品一份（5000元起）。", "须认购"),
    ("加盟团队报名：入单 1980，三天回本。", "入单 1980"),
    # hard negatives: reimbursed later, fee lists under one negator, disowned impostors, the poster paying
    ("入职体检费约200元先由个人垫付，转正后凭票全额报销。", None),
    ("公司从不收取任何服装费、培训费、押金或保证金。", None),
    ("本店不收任何资料费、培训费、工装费、押金，来了就能上班。", None),
    ("凡自称本公司招聘专员并收取押金者，均非我司员工。", None),
    ("长期合作的渠道可预付部分货款2000元。", None),
    ("门店收银员：负责会员充值、开通会员卡业务，月薪4500元。", None),
    ("模特拍摄：公司免费为签约模特拍摄模卡，日薪1500元。", None),
    ("写真馆招摄影助理，负责写真拍摄布光，月薪6000元。", None),
    ("员工可凭工牌在食堂消费，工牌由公司制作发放。", None),
    ("我们不向应聘者收取任何费用（包括但不限于押金、工装费、体检费）。", None),
    ("有人假借本店名义以“交钱包录取”为由行骗，特此声明。", None),
    ("入职后需缴纳工服费用100元，离职退还。", "需缴纳"),
]


@pytest.mark.parametrize(("text", "span"), FEE_ROWS, ids=_ids(FEE_ROWS))
def test_fee_demand(text: str, span: str | None) -> None:
    check_row("fee_demand", posting(text), span)


# --- task_scam -----------------------------------------------------------------------------------
TASK_ROWS = [
    ("淘宝店铺招补单员，先垫付货款，完成后返还本金加8%佣金。", "补单"),
    ("抖音关注点赞，一个赞2元，手机操作，日结。", "点赞"),
    ("招居家录入员，手机即可操作，每千字25元，当天结算。", "每千字"),
    ("网络兼职：每天动动手指1-2小时，日入300+，无需经验，宝妈学生均可。", "动动手指"),
    ("给商家写好评，一条3元，微信结算。", "写好评"),
    ("在家手工串珠，材料包邮到家，按件计酬，日结，不限地区。", "材料包"),
    ("拍 单 员：店铺冲销量，先自己付款，佣金另结。", "拍 单"),
    # hard negatives
    ("录入员：要求打字速度每分钟60字以上，熟练使用Excel，月薪4500。", None),
    ("收银员负责现金日结对账，月薪4000。", None),
    ("展会临时工，日结200元/天，包午餐，无需经验。", None),
    ("我司不会要求员工刷单或垫付任何款项，如遇此类要求请报警。", None),
    ("凡是让你先垫付再返佣金的兼职都是诈骗，本公司从不发布此类岗位。", None),
    ("新媒体运营：负责账号内容策划，提升粉丝关注与点赞量。", None),
    ("骑手兼职，时间自由，多劳多得，日结。", None),
    ("打字员（坐班），月薪4200，五险一金，要求熟练五笔。", None),
    # take-home piece-work against a materials deposit; a workshop job or materials without deposit is not
    ("外发手工：在家穿珠子，领料交押金200元，完工后退还。", "押金"),
    ("在家做手工，先交材料费198元领取原料包，成品回收。", "材料费"),
    ("手工活外发，提供材料，不收押金，按件计酬，工厂回收。", None),
    ("饰品厂串珠工，厂内坐班，计件工资，包住。", None),
    # negated or disowned scheme words
    ("图片标注员，按条计费，公司直接结算，无需押金、无需垫资。", None),
    ("本岗位并非刷单兼职，需坐班。", None),
    ("短视频刷播放量，一条0.5元，日结。", "刷播放"),
    ("不需要墊付，不收任何費用，签劳务协议按条计酬。", None),
    ("平台不需要你垫付任何资金，佣金按月结算。", None),
    ("我司从未发布“刷单返利”类兼职，请勿轻信。", None),
    # quoted scheme names after a negator, 非…, couriers' order bonuses, memberships bought
    ("本岗位不是网上所说的“兼职刷单”，需到公司坐班。", None),
    ("标注员（非刷单），坐班，月薪5000元。", None),
    ("同城跑腿骑手，单量多，冲单奖励每周结算，月入7000元。", None),
    ("充值1000元开通黄金会员，推荐好友返佣金。", None),
    ("店铺补单，先垫付后返还本金加佣金，非诚勿扰。", "补单"),
]


@pytest.mark.parametrize(("text", "span"), TASK_ROWS, ids=_ids(TASK_ROWS))
def test_task_scam(text: str, span: str | None) -> None:
    check_row("task_scam", posting(text), span)


# --- overseas_lure -------------------------------------------------------------------------------
OVERSEAS_ROWS = [
    ("迪拜高薪聘请客服，月薪2.5万，无经验可，包吃住，机票公司报销。", "迪拜"),
    ("金三角特区招文员，会打字就行，月入3万，落地有人接。", "金三角"),
    ("东南亚某国游戏公司招推广，高薪日结，走小路过去，不需要护照。", "走小路"),
    ("菲律宾马尼拉急招网投客服，月薪2万起，包机票包食宿。", "菲律宾"),
    ("緬甸誠聘高薪文員，護照代辦，零基礎可做。", "緬甸"),
    # hard negatives: an employer's own lawful overseas project, trade roles, warnings
    (
        "中建某局沙特项目招钢筋工，工作签证、境外意外险由公司办理，签订劳动合同，月薪1.6万，往返机票公司承担，包吃住。",
        None,
    ),
    ("外贸业务员：负责海外市场开拓，月薪8000+提成，年底出国参展。", None),
    ("本公司持对外劳务合作经营资格，外派新加坡建筑工，签订劳务合同，包机票。", None),
    ("警惕境外高薪招聘陷阱，柬埔寨、缅甸等地高薪招聘多为诈骗。", None),
    ("泰国曼谷中餐厅招厨师，月薪1.2万，包吃住，公司办理工作签证和保险。", None),
    # a country named with work, a large sum up front for going, no language needed
    ("韩国务工：农场采摘，月薪2.2万，先交定金1.5万元，不会外语也能去。", "先交"),
    ("日本料理店招厨师，月薪1.5万元，包住宿，押金无。", None),
    ("新加坡工作准证由雇主申请，公司持对外劳务合作经营资格，不收押金，月薪9000元。", None),
]


@pytest.mark.parametrize(("text", "span"), OVERSEAS_ROWS, ids=_ids(OVERSEAS_ROWS))
def test_overseas_lure(text: str, span: str | None) -> None:
    check_row("overseas_lure", posting(text), span)


# --- pyramid_scheme ------------------------------------------------------------------------------
PYRAMID_ROWS = [
    ("加入即可成为代理，每发展一名下线奖励300元，下线再发展你还能拿提成。", "每发展一名下线奖"),
    ("缴纳2980元入门费即可获得代理资格，团队越大收益越高。", "缴纳2980元入门费即可获得代理资格"),
    ("不卖货，只拉人，拉满3人即可回本。", "拉满3人"),
    ("三级分销体系，直推奖20%，间推奖10%。", "三级分销"),
    ("购买1980元产品套装即可成为代理，发展会员越多分红越多。", "购买1980元产品套装即可成为代理"),
    ("拉★人★头有奖励，按团队人数计酬。", "拉★人★头"),
    # hard negatives
    ("内推奖励：推荐朋友入职满3个月，奖励500元。", None),
    ("销售提成按个人业绩计算，无层级返利。", None),
    ("团队长：负责带领10人销售团队，完成月度指标。", None),
    ("严禁发展下线、拉人头等传销行为，一经发现立即辞退。", None),
    ("门店合伙人计划：店长可参与门店利润分红。", None),
    # bonus-plan jargon and commission over several levels of recruits
    ("左右两区业绩碰对拿奖金，月月分红。", "碰对"),
    ("拉来的会员越多，间推收益越高。", "间推"),
    ("一代返20%，二代返10%，三代返5%。", "一代返20%，二代"),
    ("二级返利，坐享其成。", "二级返利"),
    ("邀请一位好友得10%，好友再邀请你得5%。", "再邀请"),
    ("薪酬管理实行技术、管理双轨制晋升通道。", None),
    ("一级建造师证书优先，二级建造师也可。", None),
    ("销售提成：一级客户提成3%，二级客户提成1%。", None),
    ("负责二级分销商渠道管理，月薪1万。", None),
    ("月薪6000元，入职缴纳社保满3年可取得落户资格。", None),
]


@pytest.mark.parametrize(("text", "span"), PYRAMID_ROWS, ids=_ids(PYRAMID_ROWS))
def test_pyramid_scheme(text: str, span: str | None) -> None:
    check_row("pyramid_scheme", posting(text), span)


# --- implausible_salary --------------------------------------------------------------------------
SALARY_ROWS = [
    # (occupation, title, salary, description, fires)
    ("普工", "电子厂普工", {"min": 18000, "max": 25000, "unit": "month"}, "长白班，包住宿。", True),
    ("打字员", "文字录入", {"min": 12000, "max": 15000, "unit": "month"}, "无需经验，会打字即可。", True),
    ("保洁员", "商场保洁", {"min": 600, "max": 800, "unit": "day"}, "零基础可做，当天上岗。", True),
    ("其他", "仓库打包员 月入两万", {"min": 20000, "max": 26000, "unit": "month"}, "计件。", True),
    ("客服", "客服专员", {"min": 300000, "max": 400000, "unit": "year"}, "在家办公。", True),
    ("算法工程师", "大模型算法工程师", {"min": 45000, "max": 70000, "unit": "month"}, "博士优先。", False),
    ("财务总监", "集团财务总监", {"min": 50000, "max": 80000, "unit": "month"}, "十年以上经验。", False),
    ("结构工程师", "建筑结构工程师", {"min": 25000, "max": 35000, "unit": "month"}, "一级注册结构师。", False),
    ("模特", "平面模特", {"min": 3000, "max": 8000, "unit": "day"}, "按拍摄日结算。", False),
    ("网络兼职", "网络兼职", {"min": 500, "max": 800, "unit": "day"}, "线上完成。", False),
    ("普工", "包装普工", {"min": 6500, "max": 8000, "unit": "month"}, "无需经验。", False),
    ("考古研究员", "考古研究员", {"min": 30000, "max": 40000, "unit": "month"}, "博士。", False),
    ("客服", "客服主管", {"min": 15000, "max": 20000, "unit": "month"}, "带二十人团队。", False),
    # a day rate for a short day: judged per hour only with a lure cue (SHORT_DAY_ROWS)
    ("模特", "活动模特", {"min": 800, "max": 1200, "unit": "day"}, "每天拍摄3小时，需有作品。", False),
    ("网络兼职", "线上客服兼职", {"min": 150, "max": 200, "unit": "day"}, "在家办公，每天3小时。", False),
    ("普工", "计件普工", {"min": 2, "max": 3, "unit": "piece"}, "多劳多得。", False),
]


# Without a salary field, the pay the text promises (大写 and mixed numerals), unless it is someone else's.
STATED_PAY_ROWS = [
    # (occupation, title, description, span or None)
    ("保安", "小区保安", "月薪肆万，包吃住，无需经验。", "月薪肆万"),
    ("保洁员", "保洁阿姨", "工资 2万8 一个月，轻松。", "工资 2万8"),
    ("厨师学徒", "厨师学徒", "包教包会，出师后月入两万不是梦。", "月入两万"),
    ("保洁员", "保洁阿姨", "喜报：我司老员工王阿姨去年月入2万。本岗月薪4500。", None),
    ("司机", "货车司机", "月薪8000-12000，多劳多得。", None),
    ("营业员", "超市营业员", "店长月薪3万，营业员月薪4500。", None),
    ("二副", "远洋船舶二副", "持有效适任证书，月薪4万。", None),
    ("软件工程师", "高级软件工程师", "月薪3万5。", None),
]


# A day rate for a few hours of lure work, judged by the hourly rate it implies (no occupation benchmark needed).
SHORT_DAY_ROWS = [
    # (occupation, title, salary, description, span or None)
    ("网络兼职", "手机兼职", {"min": 400, "max": 600, "unit": "day"}, "在家用手机就能做，每天只需两个小时。", "每天只需两个小时"),
    ("其他", "打字兼职", {"min": 300, "max": 500, "unit": "day"}, "会打字即可，一天2-3小时，日结。", "一天2-3小时"),
    ("网络兼职", "手机兼职", {"min": 200, "max": 300, "unit": "day"}, "在家用手机就能做，每天3小时。", None),
    ("家教", "高中数学家教", {"min": 600, "max": 800, "unit": "day"}, "每天两小时，需985在读。", None),
    ("网络兼职", "手机兼职", {"min": 400, "max": 600, "unit": "day"}, "在家用手机就能做，每天8小时。", None),
]


@pytest.mark.parametrize(("occupation", "title", "salary", "text", "span"), SHORT_DAY_ROWS, ids=_ids(SHORT_DAY_ROWS))
def test_implausible_salary_for_a_short_day(
    occupation: str, title: str, salary: dict[str, Any], text: str, span: str | None
) -> None:
    record = posting(text, title=title, occupation=occupation, salary=salary)
    check_row("implausible_salary", record, span)
    if span is not None:
        (found,) = fired(detect(record), "implausible_salary")
        assert "元/小时" in found.explanation and any(e.field == "salary.min" for e in found.evidence)


@pytest.mark.parametrize(("occupation", "title", "text", "span"), STATED_PAY_ROWS, ids=_ids(STATED_PAY_ROWS))
def test_implausible_salary_stated_in_text(occupation: str, title: str, text: str, span: str | None) -> None:
    check_row("implausible_salary", posting(text, title=title, occupation=occupation), span)


@pytest.mark.parametrize(("occupation", "title", "salary", "text", "fires"), SALARY_ROWS, ids=_ids(SALARY_ROWS))
def test_implausible_salary(occupation: str, title: str, salary: dict[str, Any], text: str, fires: bool) -> None:
    record = posting(text, title=title, occupation=occupation, salary=salary)
    found = fired(detect(record), "implausible_salary")
    assert bool(found) == fires, [f.explanation for f in found]
    if fires:
        assert any(e.field == "salary.min" for e in found[0].evidence)
        assert "p90" in found[0].explanation


# --- private_contact_only ------------------------------------------------------------------------
CONTACT_ROWS = [
    # (employer, contact, description, span or None)
    ({"name": "鑫达工作室"}, {"wechat": "xd_job2025"}, "招兼职客服，月薪5000，详情加微信。", "加微信"),
    ({"name": "王老板"}, {"qq": "20871234"}, "急招搬运工，日结，有意者加扣扣详聊。", "加扣扣"),
    (
        {"name": "某大型物流公司"},
        {"phone": "13800001111", "wechat": "wl888"},
        "仓库分拣，电话不接，只加微信。",
        "只加微信",
    ),
    (
        {"name": "深圳市宏达电子科技有限公司", "uscc": EMPLOYER_USCC},
        {"phone": "0755-26881234", "wechat": "hd_hr"},
        "招普工，欢迎加微信咨询。",
        None,
    ),
    ({"name": "深圳市宏达电子科技有限公司", "uscc": EMPLOYER_USCC}, {"wechat": "hd_hr"}, "招普工，加微信报名。", None),
    ({"name": "小李餐馆"}, {"phone": "13900002222"}, "招服务员，电话联系。", None),
    ({"name": "小周资源"}, {"qq": "33456789"}, "出售应届生简历，一份0.5元，量大从优。", None),
    ({"name": "鑫达工作室"}, {"wechat": "xd_job2025"}, "招文员，联系电话：13712345678，也可加微信。", None),
    # a post that trades data is not a job offer, whatever its pay words (dev-0097 convention)
    ({"name": "小王数据"}, {"wechat": "xw_data"}, "各大平台求职者简历，一手货源可按城市筛，价格私聊。", None),
    ({"name": "老周"}, {"wechat": "lz123"}, "长期收购招聘网站企业账号，日结，价格面议。", None),
    ({"name": "星光工作室"}, {"wechat": "xg_hr"}, "急招销售，负责出售二手车，月薪6000+提成，加微信详聊。", "加微信"),
    # Telegram by its nicknames; job-seekers' data sold by the batch
    ({"name": "海外项目组"}, {"name": "@hw_job01"}, "急招推广，月薪2万，联系电报：@hw_job01。", "电报："),
    ({"name": "东南亚招聘组"}, {}, "招打字员，日结，纸飞机@sea_team联系。", "纸飞机"),
    ({"name": "数据通"}, {"wechat": "sj_123"}, "各地求职者数据，打包价优惠，加微信看样本。", None),
]


@pytest.mark.parametrize(("employer", "contact", "text", "span"), CONTACT_ROWS, ids=_ids(CONTACT_ROWS))
def test_private_contact_only(employer: dict[str, str], contact: dict[str, str], text: str, span: str | None) -> None:
    record = posting(text, title=text.split("，")[0], employer=employer, contact=contact)
    check_row("private_contact_only", record, span)


# --- registry rules ------------------------------------------------------------------------------
def grant(
    fid: str,
    filed: str,
    *,
    scope: tuple[str, ...] = ("职业中介",),
    start: str | None = None,
    until: str = "2029-12-31",
    uscc: str = AGENCY_USCC,
    number: str = "(鄂)人服证字〔2021〕第420106000317号",
) -> dict[str, Any]:
    return {
        "type": "agency_filing",
        "id": fid,
        "filing_type": "license_grant",
        "agency": {"name": "武汉楚才职业介绍有限公司", "uscc": uscc, "license_no": number},
        "license": {"number": number, "scope": list(scope), "valid_from": start or filed, "valid_until": until},
        "filed_at": f"{filed}T09:00:00+08:00",
    }


def ending(fid: str, kind: str, filed: str, uscc: str = AGENCY_USCC) -> dict[str, Any]:
    return {
        "type": "agency_filing",
        "id": fid,
        "filing_type": kind,
        "agency": {"name": "武汉楚才职业介绍有限公司", "uscc": uscc},
        "filed_at": f"{filed}T09:00:00+08:00",
    }


def by_agency(agency_uscc: str = AGENCY_USCC, **fields: Any) -> dict[str, Any]:
    agency = {
        "name": "武汉楚才职业介绍有限公司",
        "uscc": agency_uscc,
        "license_no": "(鄂)人服证字〔2021〕第420106000317号",
    }
    return posting("代招仓库理货员，月薪5500，五险一金。", agency=agency, **fields)


LICENCE_ROWS = [
    # (filings, posting, fires, words the explanation must hold)
    ((grant("f1", "2021-04-19"),), by_agency(), False, ""),
    (
        (grant("f1", "2021-04-19"), ending("f2", "license_revocation", "2025-03-01")),
        by_agency(),
        True,
        "revoked on 2025-03-01",
    ),
    ((grant("f1", "2021-04-19"), ending("f2", "license_revocation", "2025-08-20")), by_agency(), False, ""),
    (
        (grant("f1", "2021-04-19"), ending("f2", "license_cancellation", "2024-12-31")),
        by_agency(),
        True,
        "cancelled on 2024-12-31",
    ),
    ((grant("f1", "2020-01-01", until="2025-01-01"),), by_agency(), True, "expired on 2025-01-01"),
    ((grant("f1", "2025-07-01"),), by_agency(), True, "not yet valid"),
    ((grant("f1", "2023-05-10", scope=("劳务派遣",)),), by_agency(), True, "scope lacks 职业中介"),
    ((grant("f1", "2021-04-19", uscc=OTHER_USCC),), by_agency(), True, "no licence on record"),
    ((), by_agency(), True, "no licence on record"),
    # a dispatch firm hiring for itself is the employer, not an intermediary
    (
        (grant("f1", "2023-05-10", scope=("劳务派遣",)),),
        by_agency(employer={"name": "武汉楚才职业介绍有限公司", "uscc": AGENCY_USCC}),
        False,
        "",
    ),
]


@pytest.mark.parametrize(("filings", "record", "fires", "words"), LICENCE_ROWS)
def test_unlicensed_agency(
    filings: tuple[dict[str, Any], ...], record: dict[str, Any], fires: bool, words: str
) -> None:
    found = fired(detect(record, filings), "unlicensed_agency")
    assert bool(found) == fires, [f.explanation for f in found]
    if fires:
        assert words in found[0].explanation
        assert {e.field for e in found[0].evidence} <= {"agency.uscc", "agency.name", "agency.license_no"}


def registration(
    name: str, status: str, updated: str = "2024-01-01T00:00:00+08:00", uscc: str = EMPLOYER_USCC
) -> dict[str, Any]:
    return {"type": "business_registration", "uscc": uscc, "name": name, "status": status, "updated_at": updated}


EMPLOYER_ROWS = [
    # (registrations, employer name in the posting, rule expected or None, severity)
    (
        (registration("深圳市宏达电子科技有限公司", "revoked"),),
        "深圳市宏达电子科技有限公司",
        "inactive_employer",
        "high",
    ),
    ((registration("深圳市宏达电子科技有限公司", "cancelled"),), "宏达电子", "inactive_employer", "high"),
    (
        (registration("深圳市宏达电子科技有限公司", "suspended"),),
        "深圳市宏达电子科技有限公司",
        "inactive_employer",
        "medium",
    ),
    ((registration("深圳市宏达电子科技有限公司", "active"),), "深圳市宏达电子科技有限公司", None, None),
    # revoked only after the posting: it was active when it posted
    (
        (
            registration("深圳市宏达电子科技有限公司", "active"),
            registration("深圳市宏达电子科技有限公司", "revoked", "2025-09-01T00:00:00+08:00"),
        ),
        "深圳市宏达电子科技有限公司",
        None,
        None,
    ),
    ((registration("深圳市华盛商贸有限公司", "active"),), "深圳市宏达电子科技有限公司", "employer_mismatch", "medium"),
    ((registration("深圳市宏达电子科技有限公司", "active"),), "宏達電子科技（深圳）有限公司", None, None),
    ((registration("深圳市宏达电子科技有限公司", "active"),), "宏达电子厂", None, None),
    (
        (registration("深圳市宏达物业服务有限公司", "active"),),
        "宏达安防科技（西安）有限公司",
        "employer_mismatch",
        "medium",
    ),
    # an employer absent from a partial registry is not flagged
    ((registration("深圳市华盛商贸有限公司", "active", uscc=OTHER_USCC),), "深圳市宏达电子科技有限公司", None, None),
]


@pytest.mark.parametrize(("registrations", "name", "rule", "severity"), EMPLOYER_ROWS)
def test_business_registry_rules(
    registrations: tuple[dict[str, Any], ...], name: str, rule: str | None, severity: str | None
) -> None:
    record = posting("招聘操作工，月薪6000。", employer={"name": name, "uscc": EMPLOYER_USCC})
    findings = detect(record, registrations)
    found = {
        f.rule.split(".", 1)[1]: f
        for f in findings
        if f.rule in ("fake_recruitment.inactive_employer", "fake_recruitment.employer_mismatch")
    }
    assert set(found) == ({rule} if rule else set()), [f.explanation for f in found.values()]
    if rule:
        assert found[rule].severity == severity
        assert {e.field for e in found[rule].evidence} <= {"employer.uscc", "employer.name"}


USCC_ROWS = [
    (EMPLOYER_USCC, None),
    (EMPLOYER_USCC[:17] + ("0" if EMPLOYER_USCC[17] != "0" else "1"), "check character"),
    ("91440300MA5FXT4K0", "17 characters"),
    ("91440300MA5FXT4KOX", "outside"),
    ("9144030O", "8 characters"),
    ("91440300********0X", None),  # masked on purpose: not judged
    (" ".join([EMPLOYER_USCC[:6], EMPLOYER_USCC[6:12], EMPLOYER_USCC[12:]]), None),  # grouped with spaces
    (EMPLOYER_USCC.lower(), None),
]


@pytest.mark.parametrize(("uscc", "problem"), USCC_ROWS)
def test_invalid_uscc_on_postings(uscc: str, problem: str | None) -> None:
    record = posting("招聘操作工，月薪6000。", employer={"name": "深圳市宏达电子科技有限公司", "uscc": uscc})
    found = fired(detect(record), "invalid_uscc")
    assert bool(found) == bool(problem)
    if problem:
        assert problem in found[0].explanation
        assert found[0].evidence[0].field == "employer.uscc"
        assert found[0].evidence[0].start == 0 and found[0].evidence[0].end == len(uscc)


def test_invalid_uscc_on_agency_filings_and_agency_fields() -> None:
    bad = AGENCY_USCC[:17] + ("0" if AGENCY_USCC[17] != "0" else "1")
    assert fired(detect(grant("f9", "2024-01-01", uscc=bad)), "invalid_uscc")
    assert not fired(detect(grant("f9", "2024-01-01")), "invalid_uscc")
    found = fired(detect(by_agency(agency_uscc=bad)), "invalid_uscc")
    assert found and found[0].evidence[0].field == "agency.uscc"
    assert uscc_problem(AGENCY_USCC) is None


# An agency block naming the employer itself, without a licence number, that places job-seekers with
# other firms is an intermediary all the same.
SELF_AGENCY = {"name": "温州鹿城好运劳务服务部", "uscc": _uscc("92330302MA2CR8XK1")}
SELF_AGENCY_ROWS = [
    # (description, agency licence number, span or None)
    ("瓯海各大鞋厂任你挑，报名即安排进厂，介绍费200元。", None, "任你挑"),
    ("常年代招鞋厂、电子厂普工，包吃住。", None, "代招"),
    ("本店招聘收银员一名，月薪4000。", None, None),
    ("本服务部不收介绍费，招打包工。", None, None),
    ("瓯海各大鞋厂任你挑。", "(浙)人服证字〔2024〕第330302000101号", None),
]


@pytest.mark.parametrize(("text", "license_no", "span"), SELF_AGENCY_ROWS, ids=_ids(SELF_AGENCY_ROWS))
def test_agency_that_names_itself_employer(text: str, license_no: str | None, span: str | None) -> None:
    agency = dict(SELF_AGENCY, **({"license_no": license_no} if license_no else {}))
    record = posting(text, employer=dict(SELF_AGENCY), agency=agency)
    check_row("unlicensed_agency", record, span)
    if span is not None:
        (found,) = fired(detect(record), "unlicensed_agency")
        assert "other firms" in found.explanation


# --- pieces ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("posted", "registered", "same"),
    [
        ("前程人力", "深圳市前程人力资源服务有限公司", True),
        ("杭州钱塘英才人力资源服务有限公司宁波分公司", "杭州钱塘英才人力资源服务有限公司", True),
        ("腾讯计算机系统（深圳）有限公司", "深圳市腾讯计算机系统有限公司", True),
        ("前程人力资源服务有限公司", "前途人力资源服务有限公司", False),
        ("北京字节跳动科技有限公司", "上海寻梦信息技术有限公司", False),
        # one trade name, registered in different places, the names differing beyond it
        ("苏州华晟国际精工集团有限公司", "无锡华晟精密模具有限公司", False),
        ("华晟精密模具（无锡）有限公司", "无锡华晟精密模具有限公司", True),
        # two complete legal names must agree beyond place and brackets: an added 集团 or industry word
        # is another registered name; a short name or 有限责任公司 written 有限公司 is not
        ("杭州明远精工集团有限公司", "杭州明远精工有限公司", False),
        ("成都蓝海数字科技有限公司", "成都蓝海科技有限公司", False),
        ("蓝海科技", "成都蓝海科技有限公司", True),
        ("成都蓝海科技有限责任公司", "成都蓝海科技有限公司", True),
        ("蓝海科技（成都）有限公司", "成都市蓝海科技有限公司", True),
        ("成都蓝海科技股份有限公司", "成都蓝海科技有限公司", True),
    ],
)
def test_name_comparison(posted: str, registered: str, same: bool) -> None:
    assert compare_names(posted, registered).same is same


def test_findings_are_stable_and_offsets_survive_normalisation() -> None:
    text = "招工啦！\n押\n金 三百，進廠前交。"
    record = posting(text)
    first, second = fired(detect(record), "fee_demand"), fired(detect(record), "fee_demand")
    assert first[0].id == second[0].id
    assert_span(record, first[0], "押\n金")


# --- registry semantics the rules rely on (detectors/registries.py) ---------------------------------
def test_licence_change_without_details_keeps_scope_and_validity() -> None:
    change = {**ending("f2", "license_change", "2024-02-01")}  # an address change: no licence block
    record = by_agency()
    assert not fired(detect(record, (grant("f1", "2021-04-19", until="2026-04-18"), change)), "unlicensed_agency")
    late = {**record, "posted_at": "2026-05-01T10:00:00+08:00"}
    found = fired(detect(late, (grant("f1", "2021-04-19", until="2026-04-18"), change)), "unlicensed_agency")
    assert found and "expired on 2026-04-18" in found[0].explanation


def test_a_borrowed_licence_number_does_not_license_another_agency() -> None:
    found = fired(detect(by_agency(agency_uscc=OTHER_USCC), (grant("f1", "2021-04-19"),)), "unlicensed_agency")
    assert found and "registered to another agency" in found[0].explanation


def test_agency_known_only_by_name_is_looked_up_by_name() -> None:
    record = posting("代招理货员。", agency={"name": "武汉楚才职业介绍有限公司"})
    assert not fired(detect(record, (grant("f1", "2021-04-19"),)), "unlicensed_agency")


def test_late_registration_does_not_hide_a_newer_status() -> None:
    regs = (
        registration("深圳市宏达电子科技有限公司", "revoked", "2025-03-01T00:00:00+08:00"),
        registration("深圳市宏达电子科技有限公司", "active", "2023-01-01T00:00:00+08:00"),
    )
    record = posting("招聘操作工，月薪6000。")
    assert fired(detect(record, regs), "inactive_employer")
