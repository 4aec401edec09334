"""Run one input channel's blueprint on a real Sanic server inside the test's event loop.

    async with serve(RestChannel(), on_new_message) as url:   # http://127.0.0.1:PORT
        await httpx.AsyncClient().post(f"{url}/webhooks/rest/webhook", ...)

The blueprint is mounted under ``/webhooks/<name>`` as Rasa does (rasa.core.channels.channel.register).
"""
from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

from sanic import Sanic

from deploy.cluster import free_port


@asynccontextmanager
async def serve(channel: Any, on_new_message: Callable[[Any], Awaitable[Any]]) -> AsyncIterator[str]:
    app = Sanic(f"channel_test_{uuid.uuid4().hex[:12]}")
    app.config.ACCESS_LOG = False
    # Sanic rewrites some of its methods at start-up (TouchUp); in test mode it keeps the
    # originals, so that several apps can start in one process.
    Sanic.test_mode = True
    app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.url_prefix()}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
