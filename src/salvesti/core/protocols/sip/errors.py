"""The one exception type the SIP parsers raise.

Callers (the transport adapter) catch exactly this to drop a bad datagram or close a
TCP stream; any other exception escaping the parser is a bug, and the fuzz tests say so.
"""


class SipParseError(ValueError):
    """A SIP message, header, URI or start line could not be parsed.

    The message names the header or line that was bad, so logs point at the culprit.
    """
