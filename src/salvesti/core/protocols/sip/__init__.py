"""Sans-IO SIP (RFC 3261): messages, URIs, digest auth, transactions and dialogs.

Nothing here touches sockets, threads, the clock or the event loop: callers feed bytes
and ``now`` and get back parsed messages, events, datagrams to send and one timer
deadline (the aioquic/h11 shape). The asyncio adapter lives in
``salvesti.integrations.sip``.

Modules, one job each: ``message`` (parse/serialise/build), ``headers``, ``uri``
(URI, Address, Via), ``digest`` (RFC 7616/8760 both sides), ``transaction``
(RFC 3261 §17 + RFC 6026) with its ``events``, ``dialog`` (§12), ``errors``.
"""

from .dialog import Dialog
from .digest import DigestResult, DigestServer, authorization_for, parse_auth_header, pick_challenge
from .errors import SipParseError
from .events import (
    AckTimeout,
    CancelReceived,
    ProvisionalTimeout,
    RequestReceived,
    ResponseReceived,
    TransactionTimeout,
)
from .headers import Headers
from .message import (
    SipRequest,
    SipResponse,
    StreamParser,
    build_response,
    is_keepalive,
    make_via,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)
from .transaction import ClientTransaction, ServerTransaction, TransactionLayer
from .uri import Address, SipUri, Via, parse_uri

__all__ = [
    "AckTimeout",
    "Address",
    "CancelReceived",
    "ClientTransaction",
    "Dialog",
    "DigestResult",
    "DigestServer",
    "Headers",
    "ProvisionalTimeout",
    "RequestReceived",
    "ResponseReceived",
    "ServerTransaction",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "SipUri",
    "StreamParser",
    "TransactionLayer",
    "TransactionTimeout",
    "Via",
    "authorization_for",
    "build_response",
    "is_keepalive",
    "make_via",
    "new_branch",
    "new_call_id",
    "new_tag",
    "parse_auth_header",
    "parse_message",
    "parse_uri",
    "pick_challenge",
]
