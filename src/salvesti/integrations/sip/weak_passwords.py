"""Refusing SIP passwords that a scanner guesses, before the phones are reachable from a network.

Toll fraud starts with `svwar` finding extensions and `svcrack` guessing their passwords; on a
2026 review `svcrack` found the example config's ``change-me-101`` in four guesses. A
recorder that listens only on loopback (the example, the tests) may keep such passwords; once
``listen`` is any other address, every extension and gateway password must be at least
``MIN_LENGTH`` characters, differ from its user name, not be the example's, and not be in
:data:`COMMON` (the start of the public leaked-password rankings, the words SIP scanners try
first, and their Estonian equivalents). Checked by ``check-config`` and ``run`` alike (the
source's config schema), with the file and line of the password.
"""

from __future__ import annotations

import ipaddress

MIN_LENGTH = 10

#: Lower-cased; a password matches when it equals one of these (case-insensitively).
COMMON = frozenset(
    """
    123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball
    abc123 football monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang
    1234567890 michael 654321 superman 1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer
    trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley batman andrew tigger
    sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel starwars 112233 george
    computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass
    maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love ashley nicole chelsea
    biteme matthew access yankees 987654321 dallas austin thunder taylor matrix welcome
    welcome1 password1 password123 passw0rd p@ssw0rd admin admin123 administrator root toor
    changeme change-me secret secret123 default guest test test123 demo user qwerty123
    1q2w3e4r 1q2w3e4r5t asdf1234 zaq12wsx q1w2e3r4 0000 00000000 1111111111 0123456789
    9876543210 sip sipsip voip voip123 asterisk freepbx phone telephone pbx extension
    parool parool123 salasona salasõna tere tere123 kala kalamees tallinn tartu eesti
    """.split()
)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the name localhost (what only this machine can reach)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may be reachable from anywhere


def weakness(user: str, password: str) -> str | None:
    """Why ``password`` is too weak for ``user`` off loopback, or None when it will do."""
    lowered = password.lower()
    if lowered.startswith("change-me") or lowered.startswith("changeme"):
        return "is the example config's placeholder"
    if lowered == user.lower() or lowered in (user.lower() * 2, user.lower()[::-1]):
        return "is the user name"
    if lowered in COMMON or lowered.rstrip("0123456789!") in COMMON:
        return "is one of the passwords scanners try first"
    if len(password) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if len(set(password)) < 4:
        return "repeats too few characters"
    return None


ADVICE = (
    "SIP phones are reachable from the network (listen is not a loopback address), so this "
    "password would be guessed by a scanner; make a strong one, e.g. "
    "python3 -c 'import secrets; print(secrets.token_urlsafe(15))', and keep it in secrets.yaml"
)
