#!/usr/bin/env python3
"""Cross-checks test/vectors/keylife-v2.json with an independent implementation.

Python "cryptography" (OpenSSL) recomputes, from the values in the file:
- ratchet messages under a random nonce (X3DH+DR+AESGCM-RN): message key = HMAC-SHA256(chain
  key, 0x01); AES key = HKDF-SHA256(message key, salt = 32 zero bytes, info
  "securechat/v2/message-key", 32); AES-256-GCM with the message's own 12-byte nonce and
  associated data = AD || header must open the ciphertext to the text (as JSON-free bytes);
- room messages under a random nonce (SK1+AESGCM-RN+ED25519): the same with info
  "securechat/v2/room-message-key", associated data = room || 0 || sender || 0 || header, and
  the Ed25519 signature over "securechat/v2/room-message\\0" || associated data || nonce ||
  ciphertext;
- signed prekeys: Ed25519 over "securechat/v2/signed-prekey\\0" || kind || 0 || id (u32 BE) ||
  created (u64 BE) || public key, re-signed from the seed (Ed25519 is deterministic), and the
  older "securechat/v2/x25519-pub\\0" || public key signature.

Run:  python3 test/vectors/check-keylife-vectors.py test/vectors/keylife-v2.json
"""
import base64
import hashlib
import hmac
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

b64 = base64.b64decode


def hkdf(ikm, info, length=32):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=bytes(32), info=info).derive(ikm)


def message_key(chain_key):
    return hmac.new(chain_key, b"\x01", hashlib.sha256).digest()


def main(path):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)

    r = v["ratchet"]
    assert r["alg"] == "X3DH+DR+AESGCM-RN"
    ad = b64(r["ad"])
    nonces = set()
    for m in r["messages"]:
        key = hkdf(message_key(b64(m["chainKey"])), b"securechat/v2/message-key")
        nonce = b64(m["nonce"])
        assert len(nonce) == 12 and nonce not in nonces, m
        nonces.add(nonce)
        plain = AESGCM(key).decrypt(nonce, b64(m["cipher"]), ad + b64(m["header"]))
        assert plain.decode("utf-8") == m["text"], m

    room = v["room"]
    assert room["alg"] == "SK1+AESGCM-RN+ED25519"
    signer = Ed25519PublicKey.from_public_bytes(b64(room["signingPublic"]))
    for m in room["messages"]:
        header = b64(m["header"])
        aad = room["room"].lower().encode() + b"\0" + room["sender"].lower().encode() + b"\0" + header
        nonce, cipher = b64(m["nonce"]), b64(m["cipher"])
        signer.verify(b64(m["sig"]), b"securechat/v2/room-message\0" + aad + nonce + cipher)
        key = hkdf(message_key(b64(m["chainKey"])), b"securechat/v2/room-message-key")
        plain = json.loads(AESGCM(key).decrypt(nonce, cipher, aad))
        assert plain == {"t": "text", "text": m["text"]}, m

    for s in v["signedPrekeys"]:
        sk = Ed25519PrivateKey.from_private_bytes(b64(s["identitySecret"]))
        pub = b64(s["pub"])
        record = (b"securechat/v2/signed-prekey\0" + s["kind"].encode() + b"\0"
                  + struct.pack(">IQ", s["id"], s["created"]) + pub)
        assert sk.sign(record) == b64(s["sig"]), s["id"]
        assert sk.sign(b"securechat/v2/x25519-pub\0" + pub) == b64(s["pubsig"]), s["id"]
        Ed25519PublicKey.from_public_bytes(b64(s["identityPublic"])).verify(b64(s["sig"]), record)

    print(f"ok: {len(r['messages'])} ratchet, {len(room['messages'])} room, "
          f"{len(v['signedPrekeys'])} signed-prekey vectors")


if __name__ == "__main__":
    main(sys.argv[1])
