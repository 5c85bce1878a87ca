"""Echo server on the Python `websockets` package (interop tests of wspc-tokio).

Prints "PORT <n>" once listening on 127.0.0.1 (ephemeral port), echoes every message,
and records each connection's negotiated extensions and the client's close code in
lines "EXT <header>" and "CLOSE <code> <reason>" on stdout. Exits after one connection.
"""
import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def main():
    done = asyncio.get_running_loop().create_future()

    async def handler(ws):
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        print(f"EXT {ext}", flush=True)
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass
        rcvd = ws.protocol.close_rcvd
        if rcvd is not None:
            print(f"CLOSE {rcvd.code} {rcvd.reason}", flush=True)
        else:
            print("CLOSE none", flush=True)
        if not done.done():
            done.set_result(None)

    async with serve(handler, "127.0.0.1", 0, compression="deflate", max_size=2**25) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.wait_for(done, timeout=50)


asyncio.run(main())
