#!/usr/bin/env python3
"""A seed-protocol (v1) chat client written only from the protocol description in
design.md ("Wire protocol"), independent of securechat's TypeScript code. Used by
test/e2e/interop-seed.test.ts to prove both directions interoperate.

Usage: seed_client.py NAME HOST PORT CAFILE [TIMEOUT_SECONDS]
stdin:  "send <user> <text>" lines, or "quit"
stdout: one JSON object per event: {"event": "welcome"|"users"|"message"|"error"|"server", ...}
"""
import base64
import json
import os
import select
import socket
import ssl
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

name, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
deadline = time.time() + (float(sys.argv[5]) if len(sys.argv) > 5 else 30)

private = X25519PrivateKey.generate()
public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
users = {}


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def key_for(peer_pub_b64):
    peer = X25519PublicKey.from_public_bytes(base64.b64decode(peer_pub_b64))
    shared = private.exchange(peer)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"chat-e2ee").derive(shared)


context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False  # the seed pinned the certificate file, not a hostname
sock = context.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=None)
sock.setblocking(False)


def send(frame):
    data = (json.dumps(frame) + "\n").encode()
    while data:
        try:
            sent = sock.send(data)
            data = data[sent:]
        except (ssl.SSLWantWriteError, BlockingIOError):
            select.select([], [sock], [], 1)


send({"type": "hello", "user": name, "pub": base64.b64encode(public).decode()})
buffer = b""
stdin_open = True
while time.time() < deadline:
    readable, _, _ = select.select([sock] + ([sys.stdin] if stdin_open else []), [], [], 0.2)
    if sys.stdin in readable:
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            stdin_open = False
            if not line:
                continue
            break
        parts = line.rstrip("\n").split(" ", 2)
        if parts[0] == "send" and len(parts) == 3:
            to, text = parts[1], parts[2]
            if to not in users:
                emit("error", text=f"unknown user {to}")
                continue
            nonce = os.urandom(12)
            cipher = AESGCM(key_for(users[to])).encrypt(nonce, text.encode("utf-8"), None)
            send({"type": "relay", "to": to, "from": name, "alg": "X25519+AESGCM",
                  "nonce": base64.b64encode(nonce).decode(), "cipher": base64.b64encode(cipher).decode()})
    if sock in readable or sock.pending():
        try:
            chunk = sock.recv(65536)
        except ssl.SSLWantReadError:
            continue
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind in ("welcome", "users"):
                users = frame["users"]
                emit(kind, users=sorted(users))
            elif kind == "relay":
                sender = frame["from"]
                try:
                    plain = AESGCM(key_for(users[sender])).decrypt(
                        base64.b64decode(frame["nonce"]), base64.b64decode(frame["cipher"]), None)
                    emit("message", **{"from": sender, "text": plain.decode("utf-8")})
                except Exception as error:  # noqa: BLE001 - report, keep running
                    emit("error", text=f"cannot decrypt from {sender}: {error}")
            elif kind == "error":
                emit("error", text=frame.get("text", ""), code=frame.get("code"))
            elif kind == "server":
                emit("server", text=frame.get("text", ""))
sock.close()
