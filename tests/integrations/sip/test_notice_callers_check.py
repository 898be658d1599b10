"""check-config: a notice meant for some callers only (``callers: [+7]``) does not cover a line,
because every other caller would hear none."""

from __future__ import annotations

import pytest
import voluptuous as vol

from salvesti.integrations.sip.schema import check_config
from salvesti.plugins.notice_file import SCHEMA as NOTICE

SOURCE = {"platform": "sip_trunk", "id": "t", "trunk": {"registrar": "x"}, "lines": ["+3726000000"]}


def test_a_line_with_only_a_callers_notice_has_no_notice():
    ru = NOTICE({"platform": "audio_file", "id": "ru", "file": "ru.wav", "callers": ["+7", "+375 "]})
    assert ru["callers"] == ["+7", "+375"]
    problems = check_config(SOURCE, {"notices": [ru], "sources": [SOURCE]})
    assert [p for _, p in problems] == [
        "line +3726000000 has no recording notice for inbound and outbound calls: add a notice "
        '(notices: - platform: audio_file ...) or say why in no_notice: {"+3726000000": "reason"}'
    ]
    et = NOTICE({"platform": "audio_file", "id": "et", "file": "et.wav"})
    assert check_config(SOURCE, {"notices": [ru, et], "sources": [SOURCE]}) == []


def test_callers_must_be_international_prefixes():
    with pytest.raises(vol.Invalid) as info:
        NOTICE({"platform": "audio_file", "id": "ru", "file": "ru.wav", "callers": ["7"]})
    assert "expected an international prefix such as '+7' or '+375'" in str(info.value)
