"""Client on the Python `websockets` package against a wspc-tokio echo server.

Usage: echo_client.py URL. Checks that permessage-deflate was negotiated, that text
and binary messages of several sizes come back unchanged, then closes with 4000 "bye"
and checks the server answered the close with the same code. Prints "OK" on success.
"""
import asyncio
import os
import sys

from websockets.asyncio.client import connect


async def main(url):
    async with connect(url, compression="deflate", max_size=2**25) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        assert ext.startswith("permessage-deflate"), f"not negotiated: {ext!r}"
        for size in (0, 1, 125, 126, 65535, 65536, 1 << 20, 4 << 20):
            text = ("héllo ✓ " * (size // 10 + 1))[:size]
            await ws.send(text)
            got = await ws.recv()
            assert got == text, f"text of {size} chars differs"
            data = os.urandom(size)
            await ws.send(data)
            got = await ws.recv()
            assert got == data, f"binary of {size} bytes differs"
        # A fragmented message.
        await ws.send(["frag", "mented ", "text"])
        assert await ws.recv() == "fragmented text"
        await ws.close(code=4000, reason="bye")
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 4000, ws.protocol.close_rcvd
    print("OK", flush=True)


asyncio.run(asyncio.wait_for(main(sys.argv[1]), timeout=50))
