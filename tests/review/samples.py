"""Hand-written subject records for the queue tests, and their findings from the real detection engine."""

from __future__ import annotations

from typing import Any

from detectors import DetectionEngine, Finding
from schemas import parse_record

ID_A = "110105199001011232"  # valid check characters, so the resident-id rule fires
ID_B = "320102198805052342"
PHONE = "13912345678"
_BASE: dict[str, Any] = {
    "type": "job_posting",
    "employer": {"name": "上海申通物流有限公司"},
    "posted_at": "2026-11-20T09:00:00+08:00",
    "channel": "online",
}
AGENCY = {"name": "苏州速聘人力资源有限公司", "uscc": "91320505MA1XXXXX0X"}

RECORDS: list[dict[str, Any]] = [
    {
        **_BASE,
        "id": "p-gender",
        "source": "智联招聘",
        "title": "诚聘前台文员",
        "location": {"city": "上海"},
        "description": "公司招聘前台文员一名，限男性，年龄25岁以下，本科以上学历。负责来访接待和文件整理。",
    },
    {
        **_BASE,
        "id": "p-dup-a",
        "source": "智联招聘",
        "title": "急招仓库理货员",
        "location": {"city": "苏州"},
        "description": "工作内容：仓库货物分拣、理货、装卸。要求：只招男性，身体健康，能吃苦耐劳。"
        "入职需缴纳服装费200元，工作满三个月退还。月薪6000-8000元，包吃住。",
    },
    {
        **_BASE,
        "id": "p-dup-b",
        "source": "BOSS直聘",
        "title": "急招 仓库理货员！",
        "location": {"city": "苏州"},
        "description": "工作内容：仓库货物分拣，理货，装卸。 要求：只招男性，身体健康，能吃苦耐劳！"
        "入职需缴纳服装费200元，工作满三个月退还。 月薪6000～8000元，包吃住。",
    },
    {
        **_BASE,
        "id": "p-agency-1",
        "source": "58同城",
        "title": "电子厂普工",
        "agency": AGENCY,
        "location": {"city": "苏州"},
        "description": "电子厂招普工，限女性，18-30岁，需交报名费100元。",
    },
    {
        **_BASE,
        "id": "p-agency-2",
        "source": "前程无忧",
        "title": "物流司机",
        "agency": AGENCY,
        "location": {"city": "南京"},
        "description": "招聘货车司机，仅限本地户籍，已婚已育优先，需先交押金500元。",
    },
    {
        **_BASE,
        "id": "p-idcard",
        "source": "微信公众号",
        "title": "保洁员（附名单）",
        "employer": {"name": "北京洁净家政服务有限公司"},
        "location": {"city": "北京"},
        "contact": {"name": "王经理", "phone": PHONE},
        "description": f"保洁员若干名。已录用人员名单：\n张伟 身份证{ID_A}\n李娜 身份证号 {ID_B}\n以上人员请按时报到。",
    },
]
BY_ID = {r["id"]: r for r in RECORDS}


def findings_for(records: list[dict[str, Any]] | None = None) -> dict[str, list[Finding]]:
    """Findings of each record by subject id (a fresh engine: no registry records, so agencies are unlicensed)."""
    engine = DetectionEngine()
    return {r["id"]: list(engine.process(parse_record(r))) for r in (records or RECORDS)}


def load(queue: Any) -> dict[str, int]:
    """Record every sample and its findings; returns alert id by subject id."""
    found = findings_for()
    queue.record([(parse_record(r), found[r["id"]]) for r in RECORDS])
    return alert_ids(queue)


def alert_ids(queue: Any) -> dict[str, int]:
    from review.queue import QueueFilter

    page = queue.list_alerts(QueueFilter(status=(), per_page=500))
    return {a.subject_id: a.id for a in page.items}
