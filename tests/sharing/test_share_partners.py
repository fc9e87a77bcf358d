"""The review queue's `share` action offers the sharing policy's partners: a partner added to sharing/policy.toml can be
chosen in the queue (CLI, API, page) and its envelope goes out; review/ itself never reads the policy."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from hrwatch.cli_review import share_partners
from hrwatch.settings import load_settings
from review.lifecycle import PARTNERS, partner_labels
from review.queue import QueueFilter, ReviewQueue
from review.queue_types import Invalid
from review.store import FindingStore
from review.web import create_app
from review.web.api import DecisionIn
from sharing.envelope import KeyRing
from sharing.keygen import generate
from sharing.policy import load_policy
from tests.sharing.conftest import finding, make_offline, posting

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "sharing" / "policy.toml"
LABOUR = """
[partners.labour_inspection]
name = "劳动保障监察机构 (labour inspection)"
classification = "内部"
fields = ["finding.id", "finding.rule", "finding.severity", "finding.subject", "record.employer.name"]

[partners.labour_inspection.on_request]
legal_basis = ["劳动保障监察条例 第十一条"]
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(BUNDLED.read_text("utf-8") + LABOUR, encoding="utf-8")
    return path


def test_review_does_not_import_sharing() -> None:
    """Dependencies point hrwatch → sharing, review: the partner list reaches review/ as plain names."""
    for path in (REPO / "review").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n == "sharing" or n.startswith("sharing.") for n in names), f"{path} imports {names}"


def test_the_queue_offers_the_policys_partners_and_the_share_reaches_the_new_one(
    policy_file: Path, tmp_path: Path, key_dir: Path
) -> None:
    settings = load_settings(share_policy=policy_file)
    partners = share_partners(settings)
    assert partners == ("police", "market", "tax", "labour_inspection")
    assert share_partners(load_settings(share_policy=None)) == ("police", "market", "tax")

    store = FindingStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    queue = ReviewQueue(store.engine, share_partners=partners)
    record = posting("p-lab", agency=True)
    lure = finding("discrimination.gender", "p-lab", severity="high")
    queue.record([(record, [lure])])
    (alert,) = queue.list_alerts(QueueFilter(status=())).items
    sup = queue.create_user("sup", "a long enough passphrase 1", "supervisor")
    queue.decide(alert.id, "confirm", sup)
    with pytest.raises(Invalid, match=r"unknown partner\(s\) fbi; any of police, market, tax, labour_inspection"):
        queue.decide(alert.id, "share", sup, partners=["fbi"])
    queue.decide(alert.id, "share", sup, partners=["labour_inspection"])
    event = queue.events()[-1]
    assert event["decision"] == "share" and event["partners"] == ["labour_inspection"]

    # A queue built without the policy (tools, review's own tests) keeps the bundled three.
    assert ReviewQueue(store.engine).share_partners == PARTNERS

    # The page's checkboxes and the API take the queue's partners.
    app = create_app(queue)
    globals_ = app.state.templates.env.globals
    assert globals_["PARTNERS"] == partners
    assert globals_["PARTNER"] == {
        "police": "公安",
        "market": "市场监管",
        "tax": "税务",
        "labour_inspection": "labour_inspection",
    }
    assert partner_labels(partners, {"labour_inspection": "劳动保障监察"})["labour_inspection"] == "劳动保障监察"
    assert DecisionIn(action="share", partners=["labour_inspection"]).partners == ["labour_inspection"]

    # The publisher, on the same policy, shares it with the new partner under its on_request entry.
    ring_dir = tmp_path / "keys"
    ring_dir.mkdir()
    for name in ("police", "market", "tax"):
        for suffix in (".key", ".pub", "-receipts.pub"):
            (ring_dir / f"{name}{suffix}").write_bytes((key_dir / f"{name}{suffix}").read_bytes())
    generate("labour_inspection", ring_dir)
    pub = make_offline(store, KeyRing(ring_dir), load_policy(policy_file))
    pub.findings(lure)
    pub.reviews(*queue.events())
    (env,) = pub.producer.envelopes("labour_inspection")
    assert env["policy"]["trigger"] == "requested" and env["policy"]["legal_basis"] == ["劳动保障监察条例 第十一条"]
    store.close()


def test_a_broken_policy_stops_the_queue_command_with_the_policys_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'version = "x"\n[partners.police]\nname = "p"\nclassification = "c"\nfields = ["finding.idd"]\n', "utf-8"
    )
    with pytest.raises(click.ClickException, match=r"finding\.idd"):
        share_partners(load_settings(share_policy=bad))
