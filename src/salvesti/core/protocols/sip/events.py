"""Events the transaction layer hands to its user (the B2BUA).

Plain dataclasses, like aioquic's events: the layer never calls back into the user,
it returns these from ``receive`` and ``handle_timer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .message import SipRequest, SipResponse
    from .transaction import ClientTransaction, ServerTransaction


@dataclass
class RequestReceived:
    """A new request. ``txn`` is None only for an ACK to a 2xx, which has no transaction."""

    txn: ServerTransaction | None
    request: SipRequest
    addr: tuple[str, int]
    transport: str


@dataclass
class ResponseReceived:
    """A response for one of our client transactions (retransmitted 2xx to INVITE
    included, so the user can re-send its ACK)."""

    txn: ClientTransaction
    response: SipResponse


@dataclass
class TransactionTimeout:
    """Timer B/F (no final response to our request) or timer H (no ACK for our
    non-2xx final response) fired."""

    txn: ClientTransaction | ServerTransaction


@dataclass
class TransportFailed(TransactionTimeout):
    """Our request could not be sent at all (a TCP connect refused or timed out). A kind of
    timeout (whoever handles those ends the same way), told apart so the user can say
    "unreachable" and answer 503 (RFC 3261 §8.1.3.1) rather than wait-and-408."""


@dataclass
class ProvisionalTimeout:
    """Timer C (RFC 3261 §16.6 step 11, §16.7): our INVITE got provisional answers but no
    final one within the layer's ``timer_c``.  The layer has already sent the CANCEL; the
    user ends the call.  The INVITE transaction itself ends 64*T1 later (TransactionTimeout)
    if the peer never answers the CANCEL with a final response either."""

    txn: ClientTransaction


@dataclass
class AckTimeout:
    """A 2xx to INVITE was retransmitted for 64*T1 and no ACK came: per RFC 3261
    §13.3.1.4 the user should end the dialog with BYE."""

    call_id: str
    cseq: int


@dataclass
class CancelReceived:
    """A CANCEL matched an INVITE server transaction that has not answered finally.
    The layer already answered the CANCEL with 200; sending 487 to the INVITE is the
    user's job (it may have forked the call on and must cancel that leg too)."""

    invite_txn: ServerTransaction
    cancel_request: SipRequest


TransactionEvent = (
    RequestReceived
    | ResponseReceived
    | TransactionTimeout
    | TransportFailed
    | ProvisionalTimeout
    | AckTimeout
    | CancelReceived
)
