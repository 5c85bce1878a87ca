#!/usr/bin/env python3
"""Python `websockets` as an echo server for `wspc connect`: serves ONE connection,
echoes every message, and exits 0 only if permessage-deflate was negotiated and the
client closed with 1000.

    python3 py_server.py PORT      (prints "listening" once it accepts connections)
"""
import asyncio
import sys

from websockets.asyncio.server import serve

result = {}


async def echo(ws):
    ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
    result["ext"] = ext
    async for message in ws:
        await ws.send(message)
    result["code"] = ws.close_code
    done.set()


async def main(port: int) -> int:
    global done
    done = asyncio.Event()
    async with serve(echo, "127.0.0.1", port, compression="deflate", max_size=None):
        print("listening", flush=True)
        await asyncio.wait_for(done.wait(), 30)
    ext = result.get("ext", "")
    print(f"negotiated: {ext!r}, close code {result.get('code')}", flush=True)
    if "permessage-deflate" not in ext:
        print("permessage-deflate was not negotiated", file=sys.stderr)
        return 1
    if result.get("code") != 1000:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]))))
