"""Weak SIP passwords are refused once phones are reachable from a network (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.config import load_config
from salvesti.core.errors import ConfigError
from salvesti.core.plugins import PluginManager
from salvesti.integrations.sip.weak_passwords import is_loopback, weakness


@pytest.mark.parametrize(
    ("user", "password", "why"),
    [
        ("101", "change-me-101", "is the example config's placeholder"),
        ("101", "101", "is the user name"),
        ("mari", "Mari", "is the user name"),
        ("101", "password1", "is one of the passwords scanners try first"),
        ("101", "Parool2026!", "is one of the passwords scanners try first"),
        ("101", "Qx7-kd2", "is shorter than 10 characters"),
        ("101", "abababababab", "repeats too few characters"),
        ("101", "x8R2-qv9T-m4Lw", None),
        ("gw-fxo1", "b6F9dkq0Lm3Zp", None),
    ],
)
def test_what_counts_as_weak(user: str, password: str, why: str | None) -> None:
    assert weakness(user, password) == why


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("::", False),
        ("pbx.office.lan", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


CONFIG = """salvesti: {data_dir: ./data, purpose: test}
store: {platform: sqlite}
sources:
  - platform: sip_trunk
    id: office
    listen: @LISTEN@
    extensions:
      - {user: "101", password: "x8R2-qv9T-m4Lw"}
      - {user: "102", password: "change-me-102"}
"""


def load(tmp_path: Path, listen: str) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG.replace("@LISTEN@", listen))
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    load_config(tmp_path / "config.yaml", plugins)


def test_off_loopback_a_weak_password_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, "0.0.0.0:5060")
    [message] = err.value.errors
    assert message.startswith(
        "config.yaml:9: sources[0].extensions[1].password: the password is the example config's placeholder."
    )
    assert "secrets.token_urlsafe" in message


def test_on_loopback_the_example_passwords_still_do(tmp_path: Path) -> None:
    load(tmp_path, "127.0.0.1:5060")
