#!/usr/bin/env python3
"""Python `websockets` as a client of `wspc serve`: permessage-deflate must be
negotiated, and text and binary messages (small and large) must come back unchanged.

    python3 py_client.py ws://127.0.0.1:9001/
"""
import asyncio
import sys

from websockets.asyncio.client import connect


async def main(url: str) -> None:
    async with connect(url, compression="deflate", max_size=None) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        assert "permessage-deflate" in ext, f"permessage-deflate not negotiated: {ext!r}"
        print(f"negotiated: {ext}")
        messages = [
            "hello from python websockets",
            '{"id": 1, "tags": ["a", "b"], "ok": true}' * 2000,
            "ünïcödé ✓",
            b"\x00\x01\x02binary",
            bytes(range(256)) * 400,
            "",
        ]
        for m in messages:
            await ws.send(m)
            got = await ws.recv()
            assert got == m, f"echo differs for a {type(m).__name__} of {len(m)}"
        await ws.close(code=1000, reason="done")
        assert ws.close_code == 1000, f"close code {ws.close_code}"
    print(f"python client: {len(messages)} passed, 0 failed")


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(sys.argv[1]), 30))
