"""Sans-IO SIP (RFC 3261): messages, URIs, digest auth, transactions and dialogs.

Nothing here touches sockets or the event loop: callers feed bytes and ``now`` and
get back parsed messages, events, datagrams to send and timer deadlines.
"""
