"""The alert lifecycle as data: statuses, actions and their transitions, dismissal reasons, roles and SLA hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

STATUSES = ("new", "in_review", "confirmed", "dismissed", "escalated", "shared")
OPEN_STATUSES = ("new", "in_review")
DISMISS_REASONS = ("false_positive", "duplicate", "out_of_scope")
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
CATEGORIES = ("fake_recruitment", "discrimination", "personal_data")
ROLES = ("reviewer", "supervisor", "auditor")
# Partner departments a supervisor may share with. The real list is the sharing policy's partners:
# the composition root (hrwatch/) reads sharing/policy.toml and passes them to ReviewQueue(share_partners=…)
# — review/ never reads the policy itself. This default serves a queue built without one (tests, tools).
PARTNERS = ("police", "market", "tax")

# Hours from an alert entering the queue to its decision being due, by severity.
SLA_HOURS = {"critical": 24, "high": 72, "medium": 168, "low": 336}


@dataclass(frozen=True, slots=True)
class Action:
    """A lifecycle action: from which statuses, to which status, who may take it, whether it is a decision event."""

    name: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    emits_event: bool = True


_REVIEWERS = frozenset({"reviewer", "supervisor"})
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("start", frozenset({"new"}), "in_review", _REVIEWERS, emits_event=False),
        Action("confirm", frozenset({"new", "in_review"}), "confirmed", _REVIEWERS),
        Action("dismiss", frozenset({"new", "in_review"}), "dismissed", _REVIEWERS),
        Action("escalate", frozenset({"confirmed"}), "escalated", _REVIEWERS),
        Action("share", frozenset({"confirmed", "escalated"}), "shared", frozenset({"supervisor"})),
        Action("reopen", frozenset({"confirmed", "dismissed", "escalated"}), "in_review", frozenset({"supervisor"})),
    )
}

# Capabilities beyond lifecycle actions.
CAPABILITIES: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "note": _REVIEWERS,
    "claim": _REVIEWERS,  # assign an alert to oneself, or release one's own
    "assign": frozenset({"supervisor"}),  # assign to anybody
    "unmask": frozenset({"supervisor"}),
    "manage_users": frozenset({"supervisor"}),
    "read_audit": frozenset({"supervisor", "auditor"}),
}


class LifecycleError(ValueError):
    """An action that the alert's status or the actor's role does not allow; `code` names which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def can(role: str, capability: str) -> bool:
    """Whether `role` holds a capability or may take a lifecycle action of that name."""
    if capability in ACTIONS:
        return role in ACTIONS[capability].roles
    return role in CAPABILITIES.get(capability, frozenset())


def check_transition(
    action_name: str,
    status: str,
    role: str,
    reason: str | None,
    partners: tuple[str, ...],
    known_partners: Sequence[str] = PARTNERS,
) -> str:
    """The status `action_name` leads to from `status`, or LifecycleError saying why it is not allowed.

    `known_partners`: whom `share` may name (the sharing policy's partners, as the queue was given them).
    """
    action = ACTIONS.get(action_name)
    if action is None:
        raise LifecycleError("unknown_action", f"unknown action {action_name!r}; one of {', '.join(ACTIONS)}")
    if role not in action.roles:
        raise LifecycleError("forbidden", f"role {role!r} may not {action_name}")
    if status not in action.sources:
        raise LifecycleError(
            "invalid_transition",
            f"cannot {action_name} an alert that is {status}; allowed from: {', '.join(sorted(action.sources))}",
        )
    if action_name == "dismiss" and reason not in DISMISS_REASONS:
        raise LifecycleError("reason_required", f"dismiss needs a reason: one of {', '.join(DISMISS_REASONS)}")
    if action_name != "dismiss" and reason is not None:
        raise LifecycleError("unexpected_reason", "only dismiss takes a reason")
    if action_name == "share":
        if not known_partners:
            raise LifecycleError("partners_required", "no partner departments are configured for sharing")
        if not partners:
            raise LifecycleError("partners_required", f"share needs partners: any of {', '.join(known_partners)}")
        unknown = [p for p in partners if p not in known_partners]
        if unknown:
            raise LifecycleError(
                "unknown_partner", f"unknown partner(s) {', '.join(unknown)}; any of {', '.join(known_partners)}"
            )
    elif partners:
        raise LifecycleError("unexpected_partners", "only share takes partners")
    return action.target


# Chinese labels for the UI.
STATUS_LABELS = {
    "new": "待处理",
    "in_review": "审核中",
    "confirmed": "已确认",
    "dismissed": "已驳回",
    "escalated": "已上报",
    "shared": "已共享",
}
ACTION_LABELS = {
    "start": "开始审核",
    "confirm": "确认违规",
    "dismiss": "驳回",
    "escalate": "上报",
    "share": "共享给协作部门",
    "reopen": "重新打开",
    "assign": "分派",
    "note": "备注",
    "view": "查看",
    "unmask": "查看未遮蔽信息",
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "user_create": "创建用户",
    "user_update": "修改用户",
    "list": "浏览队列",
    "bulk": "批量操作",
}
REASON_LABELS = {"false_positive": "误报", "duplicate": "重复", "out_of_scope": "不属于监管范围"}
SEVERITY_LABELS = {"critical": "严重", "high": "高", "medium": "中", "low": "低"}
CATEGORY_LABELS = {"fake_recruitment": "虚假招聘", "discrimination": "就业歧视", "personal_data": "泄露个人信息"}
ROLE_LABELS = {"reviewer": "审核员", "supervisor": "主管", "auditor": "审计员"}
PARTNER_LABELS = {"police": "公安", "market": "市场监管", "tax": "税务"}


def partner_labels(partners: Sequence[str], names: Mapping[str, str] | None = None) -> dict[str, str]:
    """A label per partner: the short Chinese one above, else the display name given (the policy's), else the name."""
    names = names or {}
    return {p: PARTNER_LABELS.get(p) or names.get(p) or p for p in partners}
