"""Headers multi-map, URIs, addresses and Via values."""

from __future__ import annotations

import pytest

from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.headers import Headers, canonical_name, split_list
from salvesti.core.protocols.sip.uri import Address, SipUri, Via, parse_uri


@pytest.mark.parametrize(
    ("compact", "full"),
    [
        ("i", "Call-ID"),
        ("m", "Contact"),
        ("f", "From"),
        ("t", "To"),
        ("v", "Via"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("k", "Supported"),
        ("s", "Subject"),
        ("e", "Content-Encoding"),
        ("o", "Event"),
        ("r", "Refer-To"),
        ("b", "Referred-By"),
        ("x", "Session-Expires"),
        ("u", "Allow-Events"),
        ("I", "Call-ID"),
        ("call-id", "Call-ID"),
        ("CSEQ", "CSeq"),
        ("www-authenticate", "WWW-Authenticate"),
        ("X-Custom-Thing", "X-Custom-Thing"),
    ],
)
def test_canonical_names(compact: str, full: str) -> None:
    assert canonical_name(compact) == full


def test_headers_multimap_operations() -> None:
    h = Headers(
        [
            ("v", "SIP/2.0/UDP a;branch=z9hG4bK1"),
            ("From", "<sip:a@b>"),
            ("via", "SIP/2.0/UDP b, SIP/2.0/UDP c"),
        ]
    )
    assert h.get_all("VIA") == ["SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b", "SIP/2.0/UDP c"]
    assert h.get("Via") == "SIP/2.0/UDP a;branch=z9hG4bK1"
    assert "via" in h and "v" in h and "Route" not in h and 3 not in h
    h.add("Via", "SIP/2.0/UDP top", first=True)
    assert h.get("Via") == "SIP/2.0/UDP top"
    assert h.items()[0] == ("Via", "SIP/2.0/UDP top")
    assert h.remove_first("Via") == "SIP/2.0/UDP top"
    h.remove_first("Via")
    # The list line loses only its first element.
    assert h.get_all("Via") == ["SIP/2.0/UDP b", "SIP/2.0/UDP c"]
    copy = h.copy()
    h.set("Via", "SIP/2.0/TCP only")
    assert h.get_all("Via") == ["SIP/2.0/TCP only"]
    assert copy.get_all("Via") == ["SIP/2.0/UDP b", "SIP/2.0/UDP c"]
    h.remove("via")
    assert h.get("Via") is None and h.get_all("Via") == [] and h.remove_first("Via") is None
    h.set("Expires", "60")
    assert h.items() == [("From", "<sip:a@b>"), ("Expires", "60")]
    assert len(h) == 2 and list(h) == h.items()


def test_set_keeps_position_of_first_line() -> None:
    h = Headers([("X-A", "1"), ("X-B", "2"), ("X-A", "3"), ("X-C", "4")])
    h.set("X-A", "x")
    assert h.items() == [("X-A", "x"), ("X-B", "2"), ("X-C", "4")]
    assert h.get("x-a") == "x"


def test_authenticate_headers_are_not_split_on_commas() -> None:
    h = Headers([("WWW-Authenticate", 'Digest realm="r", nonce="n"')])
    assert h.get_all("WWW-Authenticate") == ['Digest realm="r", nonce="n"']


def test_split_list_respects_quotes_and_brackets() -> None:
    value = '"Doe, John" <sip:a@b;x=1,2>;q=0.5, <sip:c@d>, "esc \\" ,q" <sip:e@f>'
    assert split_list(value) == ['"Doe, John" <sip:a@b;x=1,2>;q=0.5', "<sip:c@d>", '"esc \\" ,q" <sip:e@f>']


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sip:alice@example.com", SipUri("sip", "alice", None, "example.com", None, {}, {})),
        ("SIPS:alice:pw@10.0.0.1:5061", SipUri("sips", "alice", "pw", "10.0.0.1", 5061, {}, {})),
        ("sip:[2001:db8::1]:5070;lr", SipUri("sip", None, None, "2001:db8::1", 5070, {"lr": None}, {})),
        (
            "sip:+372555;npdi@gw.ee;user=phone?Subject=hi&Priority=urgent",
            SipUri(
                "sip",
                "+372555;npdi",
                None,
                "gw.ee",
                None,
                {"user": "phone"},
                {"Subject": "hi", "Priority": "urgent"},
            ),
        ),
        (
            "tel:+3725551234;phone-context=+372",
            SipUri("tel", "+3725551234", None, "", None, {"phone-context": "+372"}),
        ),
        (
            "sip:host.example;Transport=TCP",
            SipUri("sip", None, None, "host.example", None, {"transport": "TCP"}, {}),
        ),
    ],
)
def test_uri_parse(text: str, expected: SipUri) -> None:
    uri = parse_uri(text)
    assert uri == expected
    assert SipUri.parse(str(uri)) == uri


def test_uri_str() -> None:
    assert str(parse_uri("sip:[::1]:5060;transport=udp")) == "sip:[::1]:5060;transport=udp"
    assert str(parse_uri("tel:+372")) == "tel:+372"
    assert str(parse_uri("sip:a:b@h?x=y")) == "sip:a:b@h?x=y"
    assert parse_uri("sip:a@h:5").hostport == ("h", 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://example.com", "unsupported URI scheme in 'http://example.com'"),
        ("alice", "unsupported URI scheme in 'alice'"),
        ("sip:", "bad host in URI 'sip:': ''"),
        ("sip:a@", "bad host in URI 'sip:a@': ''"),
        ("sip:a@h:port", "bad port in URI 'sip:a@h:port': 'h:port'"),
        ("sip:a@h:70000", "bad port in URI 'sip:a@h:70000': 'h:70000'"),
        ("sip:a@[::1", "unterminated IPv6 reference in URI 'sip:a@[::1': '[::1'"),
        ("sip:a@[zz]", "bad IPv6 address in URI 'sip:a@[zz]': '[zz]'"),
        ("sip:a@[::1]x", "bad host:port in URI 'sip:a@[::1]x': '[::1]x'"),
        ("sip:a b@h", "bad character in URI 'sip:a b@h'"),
        ("sip:@h", "bad user part in URI 'sip:@h'"),
        ("sip:b?>x", "bad character in URI 'sip:b?>x'"),
        ("sip:h;=x", "bad parameter '=x' in URI 'sip:h;=x'"),
        ("tel:abc xyz", "bad character in URI 'tel:abc xyz'"),
        ("tel:xyz", "bad tel URI number in 'tel:xyz'"),
        ("sip:h?=v", "bad header part in URI 'sip:h?=v'"),
    ],
)
def test_uri_errors(text: str, message: str) -> None:
    with pytest.raises(SipParseError) as info:
        parse_uri(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "display", "uri", "params"),
    [
        ('"Mari Maasikas" <sip:101@pbx>;tag=abc', "Mari Maasikas", "sip:101@pbx", {"tag": "abc"}),
        (
            "Bob <sip:bob@b.com;transport=tcp>;expires=60",
            "Bob",
            "sip:bob@b.com;transport=tcp",
            {"expires": "60"},
        ),
        ("sip:bob@b.com;tag=1;q=0.5", None, "sip:bob@b.com", {"tag": "1", "q": "0.5"}),
        ("<sip:a@b>", None, "sip:a@b", {}),
        ('"Quote \\"q\\"" <tel:+372>', 'Quote "q"', "tel:+372", {}),
        ("  Two  Words  <sip:a@b>  ", "Two Words", "sip:a@b", {}),
        ('<sip:a@b>;+sip.instance="<urn:uuid:1;2>"', None, "sip:a@b", {"+sip.instance": '"<urn:uuid:1;2>"'}),
        ('sip:a@b;+sip.instance="<urn:x>"', None, "sip:a@b", {"+sip.instance": '"<urn:x>"'}),
    ],
)
def test_address_parse(text: str, display: str | None, uri: str, params: dict) -> None:
    addr = Address.parse(text)
    assert (addr.display, str(addr.uri), addr.params) == (display, uri, params)
    assert Address.parse(str(addr)) == addr
    assert addr.tag == params.get("tag")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty address"),
        ('"unterminated <sip:a@b>', "expected '<' after display name in address '\"unterminated <sip:a@b>'"),
        ('"x" sip:a@b', "expected '<' after display name in address '\"x\" sip:a@b'"),
        ('"x" y <sip:a@b>', "expected '<' after display name in address '\"x\" y <sip:a@b>'"),
        ("<sip:a@b", "missing '>' in address '<sip:a@b'"),
        ("<sip:a@b> junk", "unexpected text after URI in address '<sip:a@b> junk'"),
        ('sip:a@b "x"', "bad addr-spec in address 'sip:a@b \"x\"'"),
    ],
)
def test_address_errors(text: str, message: str) -> None:
    with pytest.raises(SipParseError) as info:
        Address.parse(text)
    assert str(info.value) == message


def test_via_parse_and_properties() -> None:
    via = Via.parse("SIP / 2.0 / udp 10.0.0.1:5062 ;branch=z9hG4bKabc;rport=5062;received=1.2.3.4")
    assert (via.transport, via.host, via.port) == ("UDP", "10.0.0.1", 5062)
    assert (via.branch, via.rport, via.received) == ("z9hG4bKabc", 5062, "1.2.3.4")
    assert via.sent_by == ("10.0.0.1", 5062)
    assert str(via) == "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKabc;rport=5062;received=1.2.3.4"
    v6 = Via.parse("SIP/2.0/TLS [2001:db8::9];branch=z9hG4bKx;rport (a comment)")
    assert (v6.host, v6.port, v6.rport) == ("2001:db8::9", None, None)
    assert str(v6) == "SIP/2.0/TLS [2001:db8::9];branch=z9hG4bKx;rport"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SIP/2.0 host", "bad sent-protocol in Via 'SIP/2.0 host'"),
        ("HTTP/1.1/TCP host", "bad sent-protocol in Via 'HTTP/1.1/TCP host'"),
        ("SIP/2.0/UDP ho st", "bad host in Via 'SIP/2.0/UDP ho st': 'ho st'"),
    ],
)
def test_via_errors(text: str, message: str) -> None:
    with pytest.raises(SipParseError) as info:
        Via.parse(text)
    assert str(info.value) == message


def test_broken_display_name_quoting_is_tolerated() -> None:
    addr = Address.parse('"Mari "Boss" Maasikas" <sip:101@pbx>;tag=7')
    assert (addr.display, str(addr.uri), addr.tag) == ('Mari "Boss" Maasikas', "sip:101@pbx", "7")
    assert Address.parse(str(addr)) == addr  # re-serialised with proper escaping


def test_get_tokens() -> None:
    h = Headers([("Supported", "100rel, Timer"), ("k", "replaces"), ("Allow", "INVITE,ACK")])
    assert h.get_tokens("supported") == ["100rel", "timer", "replaces"]
    assert h.get_tokens("Allow") == ["invite", "ack"] and h.get_tokens("Require") == []
