"""Citizens who left an e-mail are told when staff change their report's status (local outbox)."""
from email import message_from_bytes, policy

import pytest

from tests.core.test_incidents import demo, file  # noqa: F401 (fixture)
from townhall.incidents import reports


@pytest.fixture
def outbox(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNHALL_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.delenv("SMTP_HOST", raising=False)
    return tmp_path / "outbox"


def sent(outbox):
    return sorted((message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*.eml")),
                  key=lambda m: m["To"])


def test_reporter_and_supporters_get_the_new_status_and_note(demo, outbox):  # noqa: F811
    report = file(demo, email="Camille@Example.org")
    reports.join(demo, report.reference, email="voisin@example.org", channel="rest", sender_id="voisin")
    reports.join(demo, report.reference, channel="rest", sender_id="anonyme")
    reports.set_status(demo, report.reference, "in_progress", "Intervention prévue jeudi.", "agent.voirie")
    messages = sent(outbox)
    assert [m["To"] for m in messages] == ["camille@example.org", "voisin@example.org"]
    body = messages[0].get_content()
    assert report.reference in messages[0]["Subject"] and report.reference in body
    assert "Intervention prévue jeudi." in body
    # never the other citizens' addresses
    assert "voisin@example.org" not in body


def test_anonymous_reports_send_nothing(demo, outbox):  # noqa: F811
    report = file(demo)
    reports.set_status(demo, report.reference, "acknowledged", "", "agent")
    assert sent(outbox) == []


def test_a_mail_failure_does_not_undo_the_status_change(demo, outbox, monkeypatch):  # noqa: F811
    report = file(demo, email="camille@example.org")

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(reports.mail, "send", broken)
    changed = reports.set_status(demo, report.reference, "resolved", "Réparé.", "agent")
    assert changed.status == "resolved" and changed.status_note == "Réparé."
