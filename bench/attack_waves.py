#!/usr/bin/env python3
"""Attack waves against a running `wspc serve` (issue 16), for docs/security.md: memory
measured from /proc while the attack holds and after it ends (what the allocator keeps).

    python3 bench/attack_waves.py PID PORT [--waves 3] [--drip 500] [--compressed 40]
                                   [--inlimit 200] [--codec 0]

Each wave opens, on loopback:
  --drip N        connections sending a header announcing 16 MiB, then 1 byte;
  --compressed N  connections (permessage-deflate) sending the first fragment (RSV1,
                  FIN=0) of a message that inflates to 63 MiB, never finished;
  --inlimit N     connections sending 2 MiB of an in-limit 4 MiB frame;
  --codec N       connections (permessage-deflate, context takeover) keeping the
                  server's codec state busy: a small compressed message every 0.5 s
                  while the wave holds, each echoed compressed if the server can;
holds them 2 s (the --codec ones sending), prints the server's RSS (peak during the wave, and 2 s after every
connection of the wave closed), then closes them. Prints one JSON line per wave.
"""
import argparse
import json
import socket
import struct
import time
import zlib


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def connect(port, deflate=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
    s.sendall((
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"{ext}\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)
        if not b:
            raise ConnectionError("handshake refused")
        head += b
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head.split(b"\r\n")[0].decode())
    return s


def header(fin, rsv, opcode, length):
    h = bytes([(0x80 if fin else 0) | rsv | opcode])
    if length < 126:
        h += bytes([0x80 | length])
    elif length < 65536:
        h += bytes([0x80 | 126]) + struct.pack(">H", length)
    else:
        h += bytes([0x80 | 127]) + struct.pack(">Q", length)
    return h + b"\0\0\0\0"


def compressed(n):
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    out = b""
    chunk = b"\0" * (1 << 20)
    for _ in range(n >> 20):
        out += c.compress(chunk)
    out += c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


class Busy:
    """A permessage-deflate client that keeps sending small compressed messages, each a
    continuation of its own context (the server must keep a decompressor to read them,
    and compresses the echo)."""

    def __init__(self, sock, seed):
        self.sock = sock
        self.zc = zlib.compressobj(1, zlib.DEFLATED, -15)
        self.n = seed
        self.busy_1009 = False

    def send(self):
        self.n += 1
        text = (f"message {self.n} of a client keeping the server busy; " * 20).encode()
        payload = self.zc.compress(text) + self.zc.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(header(True, 0x40, 1, len(payload) - 4) + payload[:-4])
        self.sock.settimeout(0)
        try:
            while data := self.sock.recv(65536):
                # A Close frame: 1009 "server busy".
                self.busy_1009 |= b"\x88\x0d\x03\xf1server busy" in data
        except BlockingIOError:
            pass
        finally:
            self.sock.settimeout(20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pid", type=int)
    ap.add_argument("port", type=int)
    ap.add_argument("--waves", type=int, default=3)
    ap.add_argument("--drip", type=int, default=500)
    ap.add_argument("--compressed", type=int, default=40)
    ap.add_argument("--inlimit", type=int, default=200)
    ap.add_argument("--codec", type=int, default=0)
    a = ap.parse_args()
    bomb = compressed(63 << 20)
    start = rss_kib(a.pid)
    print(json.dumps({"idle_before_kib": start}), flush=True)
    for wave in range(a.waves):
        conns, busy, refused, peak = [], [], 0, 0
        kinds = (("drip", a.drip), ("compressed", a.compressed), ("inlimit", a.inlimit),
                 ("codec", a.codec))
        for kind, count in kinds:
            for _ in range(count):
                try:
                    s = connect(a.port, deflate=kind in ("compressed", "codec"))
                    if kind == "codec":
                        busy.append(Busy(s, len(busy) * 1000))
                        busy[-1].send()
                    elif kind == "drip":
                        s.sendall(header(True, 0, 2, 16 << 20) + b"\0")
                    elif kind == "compressed":
                        s.sendall(header(False, 0x40, 2, len(bomb)) + bomb)
                    else:
                        s.sendall(header(True, 0, 2, 4 << 20) + b"\7" * (2 << 20))
                    conns.append(s)
                except (OSError, ConnectionError):
                    refused += 1
                peak = max(peak, rss_kib(a.pid))
        deadline = time.time() + 2
        next_send = time.time() + 0.5
        while time.time() < deadline:
            peak = max(peak, rss_kib(a.pid))
            if busy and time.time() >= next_send:
                for b in busy:
                    try:
                        b.send()
                    except OSError:
                        pass
                next_send += 0.5
            time.sleep(0.1)
        held = rss_kib(a.pid)
        for s in conns:
            s.close()
        time.sleep(2)
        after = rss_kib(a.pid)
        print(json.dumps({"wave": wave + 1, "connections": len(conns), "refused_handshakes": refused,
                          "codec_1009": sum(b.busy_1009 for b in busy),
                          "peak_kib": peak, "held_kib": held, "idle_after_kib": after}), flush=True)


main()
