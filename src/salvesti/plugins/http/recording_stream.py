"""Play a recording that lives in a sink, not on local disk: stream it, byte ranges and all.

A sink that implements :class:`~salvesti.core.components.RecordingReader` (the ``s3`` sink)
is asked for the bytes; the client's ``Range`` goes to the store, and its 200/206 answer with
Content-Range and Content-Length comes back, body streamed chunk by chunk -- never a whole
download first.  Other sinks' recordings are local files that ``web.FileResponse`` serves.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web

from salvesti.core.call import Call
from salvesti.core.components import RecordingReader
from salvesti.plugins.http.server import api_error

_LOGGER = logging.getLogger(__name__)


def reader_for(hub: Any, call: Call) -> RecordingReader | None:
    """The sink that wrote ``call``'s recording, if it streams recordings itself."""
    sink = hub.sinks.get(call.meta.get("sink", ""))
    return sink if isinstance(sink, RecordingReader) else None


async def respond(
    request: web.Request, reader: RecordingReader, call: Call, headers: dict[str, str]
) -> web.StreamResponse | None:
    """Stream ``call``'s recording from ``reader``; None when it is a local file after all."""
    byte_range = request.headers.get("Range")
    async with AsyncExitStack() as stack:
        try:
            stream = await stack.enter_async_context(reader.open_recording(call, byte_range))
        except Exception as err:
            _LOGGER.warning("http: call %s: recording store not answering: %s", call.id, err)
            raise api_error(503, "the recording store is not answering; try again later") from None
        if stream is None:
            return None
        response = web.StreamResponse(status=stream.status, headers={**headers, **stream.headers})
        await response.prepare(request)
        async for chunk in stream.chunks:
            await response.write(chunk)
        await response.write_eof()
        return response
