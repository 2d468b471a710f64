#!/usr/bin/env python3
"""Writes the RFC and NIST test vectors used by test/unit/protocol/vectors.test.ts.

Inputs and expected outputs are the published ones (RFC 7748 §5.2 and §6.1, RFC 5869
Appendix A.1-A.3, RFC 8032 §7.1 TEST 1-3, the GCM specification's AES-256 test cases
13-16). This script re-checks every expected output with Python `cryptography` before
writing, so a typo cannot slip in.

Run:  python3 test/vectors/make-rfc-vectors.py
"""
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

h = bytes.fromhex
here = os.path.dirname(os.path.abspath(__file__))


def x25519(k, u):
    return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))


x = {
    "source": "RFC 7748 §5.2 (scalar multiplication) and §6.1 (Diffie-Hellman)",
    "scalarmult": [
        {"scalar": "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "u": "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "out": "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        {"scalar": "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "u": "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "out": "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    ],
    "iterated": {"1": "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
                 "1000": "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"},
    "dh": {"alicePrivate": "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
           "alicePublic": "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
           "bobPrivate": "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
           "bobPublic": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
           "shared": "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
}
for v in x["scalarmult"]:
    assert x25519(h(v["scalar"]), h(v["u"])).hex() == v["out"], v
k = u = (9).to_bytes(32, "little")
for i in range(1, 1001):
    k, u = x25519(k, u), k
    if str(i) in x["iterated"]:
        assert k.hex() == x["iterated"][str(i)], i
d = x["dh"]
pub = lambda s: X25519PrivateKey.from_private_bytes(h(s)).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
assert pub(d["alicePrivate"]) == d["alicePublic"] and pub(d["bobPrivate"]) == d["bobPublic"]
assert x25519(h(d["alicePrivate"]), h(d["bobPublic"])).hex() == d["shared"]

hk = {
    "source": "RFC 5869 Appendix A.1, A.2, A.3 (HKDF-SHA256)",
    "cases": [
        {"name": "A.1", "ikm": "0b" * 22, "salt": "000102030405060708090a0b0c", "info": "f0f1f2f3f4f5f6f7f8f9", "length": 42,
         "okm": "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
        {"name": "A.2", "ikm": bytes(range(0x00, 0x50)).hex(), "salt": bytes(range(0x60, 0xb0)).hex(),
         "info": bytes(range(0xb0, 0x100)).hex(), "length": 82,
         "okm": "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
        {"name": "A.3", "ikm": "0b" * 22, "salt": "", "info": "", "length": 42,
         "okm": "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
    ],
}
for c in hk["cases"]:
    okm = HKDF(hashes.SHA256(), c["length"], h(c["salt"]) or None, h(c["info"])).derive(h(c["ikm"]))
    assert okm.hex() == c["okm"], c["name"]

ed = {
    "source": "RFC 8032 §7.1 TEST 1, TEST 2, TEST 3 (Ed25519)",
    "cases": [
        {"name": "TEST 1", "secret": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "public": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "message": "",
         "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"name": "TEST 2", "secret": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "public": "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "message": "72",
         "signature": "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        {"name": "TEST 3", "secret": "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "public": "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "message": "af82",
         "signature": "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    ],
}
for c in ed["cases"]:
    key = Ed25519PrivateKey.from_private_bytes(h(c["secret"]))
    assert key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex() == c["public"], c["name"]
    assert key.sign(h(c["message"])).hex() == c["signature"], c["name"]

gcm = {
    "source": "The Galois/Counter Mode of Operation (McGrew & Viega, NIST submission), AES-256 test cases 13-16",
    "cases": [
        {"name": "13", "key": "00" * 32, "iv": "00" * 12, "aad": "", "plaintext": "", "ciphertext": "",
         "tag": "530f8afbc74536b9a963b4f1c4cb738b"},
        {"name": "14", "key": "00" * 32, "iv": "00" * 12, "aad": "", "plaintext": "00" * 16,
         "ciphertext": "cea7403d4d606b6e074ec5d3baf39d18", "tag": "d0d1c8a799996bf0265b98b5d48ab919"},
        {"name": "15", "key": "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "iv": "cafebabefacedbaddecaf888", "aad": "",
         "plaintext": "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
         "ciphertext": "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
         "tag": "b094dac5d93471bdec1a502270e3cc6c"},
        {"name": "16", "key": "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "iv": "cafebabefacedbaddecaf888",
         "aad": "feedfacedeadbeeffeedfacedeadbeefabaddad2",
         "plaintext": "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
         "ciphertext": "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
         "tag": "76fc6ece0f4e1768cddf8853bb2d551b"},
    ],
}
for c in gcm["cases"]:
    out = AESGCM(h(c["key"])).encrypt(h(c["iv"]), h(c["plaintext"]), h(c["aad"]) or None)
    assert out.hex() == c["ciphertext"] + c["tag"], c["name"]

for name, data in [("rfc7748-x25519.json", x), ("rfc5869-hkdf-sha256.json", hk), ("rfc8032-ed25519.json", ed), ("aes-256-gcm.json", gcm)]:
    with open(os.path.join(here, name), "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
print("ok")
