#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs (fuzz/seeds/TARGET/) from the RFC examples and,
given a directory of connections recorded by fuzz/record.py (Autobahn's fuzzing client
against `wspc serve`), from that traffic: the client's bytes are server-role input, the
server's bytes client-role input, the HTTP heads handshake input.

    python3 fuzz/seeds.py [RECORD_DIR]

Then minimize: `cargo +nightly fuzz cmin TARGET fuzz/seeds/TARGET` (the committed seeds
are the minimized set). Input layouts are described at the top of each target."""
import glob
import hashlib
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def put(target, data):
    d = os.path.join(ROOT, "seeds", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def feed_ops(stream):
    """Tag-0 operations carrying `stream` (the engine and alloc_bounded layouts)."""
    out = b""
    for i in range(0, len(stream), 65535):
        chunk = stream[i:i + 65535]
        out += b"\x00" + struct.pack("<H", len(chunk)) + chunk
    return out


# Configuration prefixes. engine: 24 bytes decoded by `arbitrary` (the first byte's low
# bit is `server`; an all-zero rest means plain, default limits). With deflate the
# `Option` tag byte is odd, followed by the setup bytes (windows 15: bits 7).
ENGINE_SERVER = b"\x01" + b"\x00" * 23
ENGINE_CLIENT = b"\x00" * 24
ENGINE_SERVER_DEFLATE = b"\x01\x01\x00\x00\x07\x07\x01\x00" + b"\x00" * 16
ENGINE_CLIENT_DEFLATE = b"\x00\x01\x00\x00\x07\x07\x01\x00" + b"\x00" * 16
ALLOC_PLAIN = b"\x00" + b"\xff" * 9 + b"\x00" * 10
ALLOC_DEFLATE = b"\x01\x00\x00\x07\x07\x01\x00" + b"\xff" * 9 + b"\x00" * 4

# RFC 6455 §5.7 examples.
HELLO_UNMASKED = bytes.fromhex("810548656c6c6f")
HELLO_MASKED = bytes.fromhex("818537fa213d7f9f4d5158")
HELLO_FRAGMENTED = bytes.fromhex("010348656c800 26c6f".replace(" ", ""))
PING_UNMASKED = bytes.fromhex("890548656c6c6f")
PONG_MASKED = bytes.fromhex("8a8537fa213d7f9f4d5158")
BIN_256 = bytes.fromhex("827e0100") + b"\x00" * 256
BIN_64K = bytes.fromhex("827f0000000000010000") + b"\x00" * 256  # announced 64 KiB, truncated
# RFC 7692 §7.2.3 examples (compressed "Hello", payloads as the server sends them).
DEFLATE_HELLO = bytes.fromhex("c107f248cdc9c90700")
DEFLATE_HELLO_TWICE = DEFLATE_HELLO + bytes.fromhex("c105f200110000")
DEFLATE_STORED = bytes.fromhex("c10b00050 0faff48656c6c6f00".replace(" ", ""))
DEFLATE_FRAGMENTED = bytes.fromhex("4103f248cd") + bytes.fromhex("8004c9c90700")
# RFC 6455 §1.2 handshake.
REQUEST = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
           b"Sec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")


def mask(payload, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def rfc_seeds():
    for frames in [HELLO_UNMASKED, HELLO_FRAGMENTED, PING_UNMASKED, BIN_256, BIN_64K]:
        put("engine", ENGINE_CLIENT + feed_ops(frames))
    for frames in [HELLO_MASKED, PONG_MASKED]:
        put("engine", ENGINE_SERVER + feed_ops(frames))
        put("alloc_bounded", ALLOC_PLAIN + feed_ops(frames))
    for frames in [DEFLATE_HELLO, DEFLATE_HELLO_TWICE, DEFLATE_STORED, DEFLATE_FRAGMENTED]:
        put("engine", ENGINE_CLIENT_DEFLATE + feed_ops(frames))
    for head in [1024, 8192]:
        for pattern in [0, 1, 2, 3]:
            put("handshake_server", struct.pack("<HB", head, pattern) + REQUEST)
            put("handshake_client", b"\x01" + struct.pack("<HB", head, pattern) + RESPONSE)
    for text in ["Hello", "κόσμε", "\U0001F600 mixed ascii and 中文",
                 b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited".decode("utf-8", "surrogateescape")]:
        data = text.encode("utf-8", "surrogateescape")
        for pattern in [0, 1, 2]:
            put("utf8", bytes([pattern]) + data)


def autobahn_seeds(record_dir):
    """Connections recorded by fuzz/record.py: NNNN.c2s (client to server) and NNNN.s2c."""
    n = 0
    for c2s_path in sorted(glob.glob(os.path.join(record_dir, "*.c2s"))):
        sent = open(c2s_path, "rb").read()
        received = open(c2s_path[:-4] + ".s2c", "rb").read()
        req_end = sent.find(b"\r\n\r\n")
        resp_end = received.find(b"\r\n\r\n")
        if req_end < 0 or resp_end < 0 or not received.startswith(b"HTTP/1.1 101"):
            continue
        request, to_server = sent[:req_end + 4], sent[req_end + 4:]
        response, to_client = received[:resp_end + 4], received[resp_end + 4:]
        deflate = b"permessage-deflate" in response
        put("handshake_server", struct.pack("<HB", 8192, 1) + request)
        put("handshake_client", b"\x01" + struct.pack("<HB", 8192, 1) + response)
        to_server = to_server[:60000]
        to_client = to_client[:60000]
        put("engine", (ENGINE_SERVER_DEFLATE if deflate else ENGINE_SERVER) + feed_ops(to_server))
        put("engine", (ENGINE_CLIENT_DEFLATE if deflate else ENGINE_CLIENT) + feed_ops(to_client))
        put("alloc_bounded", (ALLOC_DEFLATE if deflate else ALLOC_PLAIN) + feed_ops(to_server))
        # Text payloads (unmasked) for the UTF-8 validator.
        at = 0
        while at + 6 <= len(to_server):
            b1 = to_server[at + 1] & 0x7F
            hdr = 2
            if b1 == 126:
                b1 = struct.unpack(">H", to_server[at + 2:at + 4])[0]
                hdr = 4
            elif b1 == 127:
                break
            key = to_server[at + hdr:at + hdr + 4]
            payload = mask(to_server[at + hdr + 4:at + hdr + 4 + b1], key)
            if to_server[at] & 0x0F == 1 and not to_server[at] & 0x40 and payload:
                put("utf8", b"\x00" + payload)
            at += hdr + 4 + b1
        n += 1
    print(f"seeds: {n} recorded connections")


rfc_seeds()
if len(sys.argv) > 1:
    autobahn_seeds(sys.argv[1])
