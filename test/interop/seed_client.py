#!/usr/bin/env python3
"""A seed-protocol (v1) chat client written only from the protocol description in
design.md ("Wire protocol"), independent of securechat's TypeScript code: Python's ssl,
socket, json and base64, and the `cryptography` package. test/e2e/interop-seed.test.ts
drives it to prove that seed peers and our clients chat in both directions.

Usage: seed_client.py NAME HOST PORT CAFILE [TIMEOUT_SECONDS]

The server is pinned the way the seed did it: its certificate file is the only trust
anchor (CERT_REQUIRED, no hostname check, since ngrok hostnames never match).

stdin, one command per line:
  send <user> <text>          E2EE relay to <user> (X25519 -> HKDF-SHA256 -> AES-256-GCM)
  forge <from> <to> <text>    the same, but claiming another sender in "from" (the server
                              must replace it with our authenticated name)
  chat <text>                 server-readable chat frame (the server answers "echo: ...")
  list                        ask for the user list
  quit                        leave (so does end of input)

stdout, one JSON object per line:
  {"event": "welcome", "self": FP, "users": {name: FP}}   FP = xxxxxxxx-xxxxxxxx
  {"event": "users", "users": {name: FP}}
  {"event": "message", "from": name, "text": plaintext}
  {"event": "server", "text": text}
  {"event": "sent", "to": name, "text": plaintext}
  {"event": "error", "text": text, "code": code-or-null}
  {"event": "closed", "reason": "eof" | "quit" | "server" | "timeout"}

Exit status: 0 after quit, end of input or the server closing; 1 when the connection or
the TLS handshake fails (certificate not the pinned one, refused, ...); 3 on timeout.
"""
import base64
import binascii
import hashlib
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

ALG = "X25519+AESGCM"
MAX_LINE = 1 << 20  # bound on one incoming frame

if len(sys.argv) < 5:
    sys.exit(__doc__)
name, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
deadline = time.monotonic() + (float(sys.argv[5]) if len(sys.argv) > 5 else 30.0)

private = X25519PrivateKey.generate()
public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
users = {}  # name -> raw 32-byte X25519 public key
keys = {}  # raw peer public key -> derived AES key (derive once per peer)


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def fingerprint(pub):
    digest = hashlib.sha256(pub).hexdigest()[:16]
    return f"{digest[:8]}-{digest[8:]}"


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text, validate=True)


def key_for(peer_pub):
    if peer_pub not in keys:
        shared = private.exchange(X25519PublicKey.from_public_bytes(peer_pub))
        keys[peer_pub] = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"chat-e2ee"
        ).derive(shared)
    return keys[peer_pub]


def read_users(value):
    """The v1 users map {name: base64 pub}; every entry is checked, bad ones reported."""
    result = {}
    if not isinstance(value, dict):
        emit("error", text="users is not an object", code=None)
        return result
    for user, pub in value.items():
        try:
            raw = unb64(pub)
            if len(raw) != 32:
                raise ValueError(f"{len(raw)} bytes")
            result[user] = raw
        except (TypeError, ValueError, binascii.Error) as error:
            emit("error", text=f"bad public key for {user}: {error}", code=None)
    return result


def finish(reason, status):
    emit("closed", reason=reason)
    try:
        sock.close()
    except (NameError, OSError):
        pass
    sys.exit(status)


# --- connect: pin the server by its certificate file (the seed's way) ---
try:
    context = ssl.create_default_context(cafile=cafile)  # cafile is the only trust anchor
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    raw_sock = socket.create_connection((host, port), timeout=10)
    sock = context.wrap_socket(raw_sock, server_hostname=None)
except (OSError, ssl.SSLError) as error:
    emit("error", text=f"connect: {error}", code=getattr(error, "reason", None))
    emit("closed", reason="connect")
    sys.exit(1)
sock.setblocking(False)


def send_frame(frame):
    data = (json.dumps(frame) + "\n").encode("utf-8")
    while data:
        if time.monotonic() > deadline:
            finish("timeout", 3)
        try:
            data = data[sock.send(data) :]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            select.select([sock], [sock], [], 0.2)


def relay(claimed_from, to, text):
    if to not in users:
        emit("error", text=f"unknown user {to}", code=None)
        return
    nonce = os.urandom(12)
    cipher = AESGCM(key_for(users[to])).encrypt(nonce, text.encode("utf-8"), None)
    send_frame(
        {"type": "relay", "to": to, "from": claimed_from, "alg": ALG,
         "nonce": b64(nonce), "cipher": b64(cipher)}
    )
    emit("sent", to=to, text=text)


def command(line):
    """Runs one stdin command; returns False to quit."""
    verb, _, rest = line.partition(" ")
    if verb == "quit":
        return False
    if verb == "send":
        to, _, text = rest.partition(" ")
        relay(name, to, text)
    elif verb == "forge":
        claimed, _, rest = rest.partition(" ")
        to, _, text = rest.partition(" ")
        relay(claimed, to, text)
    elif verb == "chat":
        send_frame({"type": "chat", "text": rest})
    elif verb == "list":
        send_frame({"type": "list"})
    elif verb:
        emit("error", text=f"unknown command {verb}", code=None)
    return True


def frame_in(raw):
    global users
    try:
        frame = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        emit("error", text=f"bad frame from server: {error}", code=None)
        return
    if not isinstance(frame, dict):
        emit("error", text="frame is not an object", code=None)
        return
    kind = frame.get("type")
    if kind in ("welcome", "users"):
        users = read_users(frame.get("users"))
        fields = {"users": {user: fingerprint(pub) for user, pub in users.items()}}
        if kind == "welcome":
            fields["self"] = fingerprint(public)
        emit(kind, **fields)
    elif kind == "relay":
        sender = frame.get("from")
        if frame.get("alg") != ALG:
            emit("error", text=f"unsupported alg {frame.get('alg')!r} from {sender}", code=None)
        elif sender not in users:
            emit("error", text=f"no key known for {sender}", code=None)
        else:
            try:
                plain = AESGCM(key_for(users[sender])).decrypt(
                    unb64(frame["nonce"]), unb64(frame["cipher"]), None
                )
                emit("message", **{"from": sender, "text": plain.decode("utf-8")})
            except Exception as error:  # noqa: BLE001 - report it and keep running
                emit("error", text=f"cannot decrypt from {sender}: {error!r}", code=None)
    elif kind == "error":
        emit("error", text=frame.get("text", ""), code=frame.get("code"))
    elif kind == "server":
        emit("server", text=frame.get("text", ""))
    # other (v2) frame types are ignored, as a v1 peer must


# --- main loop: bounded by the deadline ---
send_frame({"type": "hello", "user": name, "pub": b64(public)})
stdin_fd = sys.stdin.fileno()
stdin_buffer = b""  # raw os.read, so no line can hide in a Python-side buffer from select
sock_buffer = b""
while True:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        finish("timeout", 3)
    if sock.pending():
        readable = [sock]
    else:
        readable, _, _ = select.select([sock, stdin_fd], [], [], min(remaining, 0.5))
    if stdin_fd in readable:
        chunk = os.read(stdin_fd, 65536)
        stdin_buffer += chunk
        while b"\n" in stdin_buffer:
            line, stdin_buffer = stdin_buffer.split(b"\n", 1)
            if not command(line.decode("utf-8").rstrip("\r")):
                finish("quit", 0)
        if not chunk:
            if stdin_buffer.strip():
                command(stdin_buffer.decode("utf-8"))
            finish("eof", 0)
    if sock in readable:
        try:
            chunk = sock.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            continue
        except (OSError, ssl.SSLError) as error:
            emit("error", text=f"connection: {error}", code=None)
            finish("server", 0)
        if not chunk:
            finish("server", 0)
        sock_buffer += chunk
        while b"\n" in sock_buffer:
            raw, sock_buffer = sock_buffer.split(b"\n", 1)
            frame_in(raw)
        if len(sock_buffer) > MAX_LINE:
            emit("error", text="frame from server too long", code=None)
            finish("server", 0)
