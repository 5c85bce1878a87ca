#!/usr/bin/env python3
"""A recording TCP proxy for seed corpora: forwards 127.0.0.1:LISTEN to 127.0.0.1:TARGET
and writes each connection's bytes, both ways, to OUT/NNNN.c2s and OUT/NNNN.s2c.
Used with the Autobahn fuzzing client against `wspc serve` (see docs/security.md):

    python3 fuzz/record.py LISTEN TARGET OUT &
    ../shared/conformance/autobahn server ws://127.0.0.1:LISTEN --cases ...
    python3 fuzz/seeds.py OUT
"""
import asyncio
import itertools
import os
import sys

LISTEN, TARGET, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(OUT, exist_ok=True)
counter = itertools.count(1)


async def pipe(reader, writer, log):
    try:
        while data := await reader.read(65536):
            log.write(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def handle(client_r, client_w):
    n = next(counter)
    try:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        client_w.close()
        return
    with open(f"{OUT}/{n:04}.c2s", "wb") as c2s, open(f"{OUT}/{n:04}.s2c", "wb") as s2c:
        await asyncio.gather(pipe(client_r, server_w, c2s), pipe(server_r, client_w, s2c))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()


asyncio.run(main())
