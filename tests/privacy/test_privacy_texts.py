"""The privacy notice and the record of processing, through the real CLI from a real config:
they say what the config does (change the retention days and the text changes)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from salvesti.cli import main

CONFIG = """\
salvesti:
  purpose: "Klienditeeninduse kvaliteedi parandamine"
  controller: {{name: "OÜ Näide", contact: "Tatari 1, Tallinn; andmed@example.ee"}}
  lawful_basis: legitimate_interest
  never_record: ["+372112*"]
  employee_notice: {{version: "2026-12-01"}}
  require_employee_notice: true
  recipients: ["Raamatupidamine OÜ (arvete vaidlused)"]
http:
  listen: 127.0.0.1:8080
sources:
  - platform: sip_trunk
    id: telia
    trunk: {{registrar: sip.example.ee, username: "3726000000", password: secret1}}
    lines: ["+3726000000", "+3726000001"]
    extensions: [{{user: "101", password: Vq3-kT9_zpW2rM}}]
notices:
  - {{platform: audio_file, id: et, file: notice.wav}}
sinks:
  - {{platform: local, id: disk, path: rec, format: wav, encrypt: true}}
retention:
  - {{platform: max_age, id: sales, match: {{line: "+3726000000"}}, days: {sales}}}
  - {{platform: max_age, id: inbound, match: {{direction: inbound}}, days: 30}}
  - {{platform: max_age, id: default, days: 10}}
analysis:
  purpose: "Müügikõnede analüüs"
  lines: ["+3726000000"]
integrations:
  - platform: webhook
    id: crm
    url: "https://crm.example.ee/hook"
    secret: "0123456789abcdef0123"
    events: [call_ended]
"""


def run(tmp: Path, *args: str, sales: int = 60) -> str:
    (tmp / "config.yaml").write_text(CONFIG.format(sales=sales))
    (tmp / "notice.wav").write_bytes(b"")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "-c", str(tmp / "config.yaml")])
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_the_callers_notice_says_what_the_config_does(tmp_path):
    text = run(tmp_path, "privacy", "notice", "--lang", "en")
    assert text.startswith("# Privacy notice: call recording\n")
    assert "OÜ Näide" in text and "Contact: Tatari 1, Tallinn; andmed@example.ee" in text
    assert "Calls are recorded for this purpose: Klienditeeninduse kvaliteedi parandamine. " in text
    assert "Lawful basis: legitimate interest (GDPR Art. 6(1)(f))." in text
    assert "Calls are analysed for a separate purpose: Müügikõnede analüüs (lines +3726000000)" in text
    assert "- line +3726000000: 60 days (rule sales)\n" in text
    assert (
        "- line +3726000001: inbound calls: 30 days (rule inbound); other calls: 10 days (rule default)\n"
        in text
    )
    assert "- webhook (call data, not the recording): crm.example.ee" in text
    assert "- Raamatupidamine OÜ (arvete vaidlused)" in text
    assert "- object to the processing (Art. 21)" in text
    assert "Andmekaitse Inspektsioon" in text and "info@aki.ee" in text


def test_changing_the_retention_days_changes_the_text(tmp_path):
    assert "- liin +3726000000: 60 päeva (reegel sales)" in run(tmp_path, "privacy", "notice")
    changed = run(tmp_path, "privacy", "notice", sales=90)
    assert "- liin +3726000000: 90 päeva (reegel sales)" in changed and "60 päeva" not in changed
    assert "- line +3726000000: 90 days (rule sales)" in run(
        tmp_path, "privacy", "record", "--lang", "en", sales=90
    )


def test_the_employee_notice_adds_what_staff_must_be_told(tmp_path):
    text = run(tmp_path, "privacy", "notice", "--for", "employees", "--lang", "en")
    assert text.startswith("# Notice to employees: call recording\n")
    assert "Calls of extensions 101 are recorded." in text
    assert "never ranks people" in text and "who listened to or downloaded your calls" in text
    assert "Calls of your extension are not recorded until that confirmation exists." in text
    assert "Notice version: 2026-12-01." in text
    et = run(tmp_path, "privacy", "notice", "--for", "employees")
    assert "Töötajate teavitus" in et and "versioon 2026-12-01" in et


def test_the_record_of_processing_lists_activities_and_measures(tmp_path):
    text = run(tmp_path, "privacy", "record", "--lang", "en")
    assert text.startswith("# Record of processing activities (GDPR Art. 30)\n")
    assert "## Processing activity 1: Call recording" in text
    assert "## Processing activity 2: Call analysis" in text
    assert "- **Purpose:** Müügikõnede analüüs" in text
    assert "Recordings are encrypted (AES-256-GCM" in text
    assert "The web UI is served over HTTP: use HTTPS" in text
    assert (
        "## Never recorded\n\nCalls with these numbers are listed but never recorded or analysed:\n- +372112*"
        in text
    )
    assert "employee notice version 2026-12-01" in text
    assert "Isikuandmete töötlemise toimingute register" in run(tmp_path, "privacy", "record")


def test_a_line_without_a_final_rule_is_flagged(tmp_path):
    from salvesti.privacy.facts import gather
    from salvesti.privacy.notice import render_notice

    facts = gather(
        {
            "salvesti": {"purpose": "p"},
            "sources": [{"platform": "sip_trunk", "lines": ["+3726000000"]}],
            "retention": [{"platform": "max_age", "id": "in", "match": {"direction": "inbound"}, "days": 5}],
        }
    )
    assert facts.unlimited_lines() == ["+3726000000"]
    text = render_notice(facts, "en")
    assert "other calls: without a limit, until deleted by hand (add a retention rule)" in text
    assert "(not configured: add salvesti.controller)" in text
