#!/usr/bin/env python3
"""Parlor's reference end-to-end encryption client: docs/e2ee.md written in Python.

It proves the document is complete: everything here follows the document, uses Python's
`cryptography` package and nothing else for cryptography, and talks to the server over its REST
API (`requests`) and its native JSON WebSocket gateway (`websocket-client`, `GET /gateway`).

As a library (tests/clients/e2e_python.py drives it):
  * account keys — `AccountKeys.generate()`, `wrap_keys` with a password (PBKDF2-SHA-256,
    600 000 iterations) or a recovery key (HKDF-SHA-256), `unwrap_keys`, `fingerprint`,
    `safety_number`, `new_recovery_key` / `format_recovery_key` / `parse_recovery_key`;
  * room keys — `seal_room_key` / `open_sealed_key` (ephemeral ECDH, HKDF, AES-GCM, the sealer's
    ECDSA signature in the 64-byte r||s form);
  * messages — `seal_message` / `open_envelope` (encrypt and sign, verify and decrypt); edits
    use the same envelope;
  * attachments — `encrypt_file` / `decrypt_file`;
  * `E2EClient`: one account on one server — logs in, sets up or unlocks its keys, reads the
    key directory, runs "What a client does" for a room (`sync_room`, also on every `room_keys`
    event), sends, edits and reads messages and files.

As a command (another test spawns it; exits 0 when done, 1 on a failure, 2 on bad usage, 3 on a
timeout; one JSON object per line on standard output, one per event):

  python3 e2e_client.py peer --base URL --username U --password P (--room SLUG | --pm-with NAME)
                             [--send TEXT]... [--expect TEXT]... [--timeout SECS]

logs in, sets up keys when the account has none (printing the recovery key), opens the room or
the conversation (accepting an invitation), keeps the room's keys as the document says, sends
each --send encrypted once it holds the current epoch's key, and waits until every --expect text
has been decrypted and verified (from history or live; any author, the peer's own included).
Its lines: keys_created (with recovery_key) or keys_unlocked, conversation, joined, room_key
(opened), sealed, rejected_key, room_keys, sent, decrypted {room, seq, author, text, verified,
epoch, edited?, files?}, no_key (a message whose epoch's key it does not hold yet),
undecryptable {reason}, keys_changed, warning, done, timeout {missing, unsent}, error {message}.
"""

import argparse
import base64
import binascii
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from hashlib import sha256

import requests
import websocket
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

# ---------------------------------------------------------------------------------------------
# Constants of docs/e2ee.md

PBKDF2_ITERATIONS = 600_000
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEYS_AAD = b"parlor keys v1"
RECOVERY_INFO = b"parlor recovery v1"
FILE_AAD = b"parlor file v1"
PUT_BATCH = 500  # sealed keys in one PUT /api/rooms/{room}/e2e/keys
ENCRYPTED_FILE_NAME = "encrypted.bin"


class E2EError(Exception):
    """Something the document says a client must refuse (a key that does not open, a bad
    signature, a malformed document)."""


class UnwrapError(E2EError):
    pass


class SealError(E2EError):
    pass


# ---------------------------------------------------------------------------------------------
# Encodings and primitives

def b64e(data):
    return base64.b64encode(data).decode("ascii")


def b64d(text, what="value"):
    if not isinstance(text, str):
        raise E2EError(f"{what}: not a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise E2EError(f"{what}: not standard base64 ({exc})") from exc


def b64d_len(text, length, what):
    raw = b64d(text, what)
    if len(raw) != length:
        raise E2EError(f"{what}: {len(raw)} bytes, not {length}")
    return raw


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_b64(public_key):
    return b64e(spki_der(public_key))


def load_public(spki_text, what="public key"):
    """A P-256 public key from b64 SubjectPublicKeyInfo DER, refusing any other curve."""
    try:
        key = serialization.load_der_public_key(b64d(spki_text, what))
    except ValueError as exc:
        raise E2EError(f"{what}: not SubjectPublicKeyInfo DER ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise E2EError(f"{what}: not a P-256 key")
    return key


def pkcs8_b64(private_key):
    return b64e(private_key.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


def load_private(pkcs8_text, what):
    try:
        key = serialization.load_der_private_key(b64d(pkcs8_text, what), password=None)
    except (ValueError, TypeError) as exc:
        raise E2EError(f"{what}: not PKCS #8 DER ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise E2EError(f"{what}: not a P-256 key")
    return key


def sign(private_key, message):
    """ECDSA-P-256-SHA-256 over the UTF-8 `message`, as b64 of the 64-byte r||s form (P1363;
    `cryptography` makes DER, converted here)."""
    der = private_key.sign(message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return b64e(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def verify(public_key, message, signature_b64):
    """Whether `signature_b64` (64-byte r||s) is `public_key`'s signature of `message`."""
    try:
        raw = b64d_len(signature_b64, SIGNATURE_BYTES, "signature")
    except E2EError:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(ikm)


def pbkdf2(password, salt, iterations):
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt,
                      iterations=iterations).derive(password.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Account keys, the fingerprint and the safety number

def fingerprint(agreement_public, signing_public):
    """SHA-256(spki(agreement) || spki(signing)) as lower-case hex (the server's `fingerprint`)."""
    digest = sha256(b64d(agreement_public, "agreement_public")
                    + b64d(signing_public, "signing_public")).digest()
    return digest.hex()


def safety_number(fingerprint_hex):
    """The first 30 bytes of the fingerprint as six 5-byte big-endian numbers mod 100 000."""
    raw = bytes.fromhex(fingerprint_hex)
    return " ".join(f"{int.from_bytes(raw[i:i + 5], 'big') % 100_000:05d}" for i in range(0, 30, 5))


@dataclass
class AccountKeys:
    """An account's two P-256 key pairs: `agreement` (ECDH) and `signing` (ECDSA)."""
    agreement: ec.EllipticCurvePrivateKey
    signing: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls):
        return cls(ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()))

    @property
    def agreement_public(self):
        return spki_b64(self.agreement.public_key())

    @property
    def signing_public(self):
        return spki_b64(self.signing.public_key())

    @property
    def fingerprint(self):
        return fingerprint(self.agreement_public, self.signing_public)

    @property
    def safety_number(self):
        return safety_number(self.fingerprint)

    def plaintext(self):
        return json.dumps({"agreement": pkcs8_b64(self.agreement),
                           "signing": pkcs8_b64(self.signing)}).encode("utf-8")

    @classmethod
    def from_plaintext(cls, data):
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UnwrapError(f"the unwrapped keys are not UTF-8 JSON ({exc})") from exc
        if not isinstance(doc, dict):
            raise UnwrapError("the unwrapped keys are not a JSON object")
        return cls(load_private(doc.get("agreement"), "agreement"),
                   load_private(doc.get("signing"), "signing"))


def new_recovery_key():
    return secrets.token_bytes(KEY_BYTES)


def format_recovery_key(raw):
    """RFC 4648 base32 without padding in 13 groups of 4 (52 characters), joined by spaces
    (as the web app writes it)."""
    text = base64.b32encode(raw).decode("ascii").rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_recovery_key(text):
    """The 32 bytes of a recovery key as written down: any case, any spaces or dashes."""
    letters = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    try:
        raw = base64.b32decode(letters + "=" * (-len(letters) % 8))
    except binascii.Error as exc:
        raise UnwrapError(f"not a recovery key ({exc})") from exc
    if len(raw) != KEY_BYTES:
        raise UnwrapError(f"a recovery key holds {KEY_BYTES} bytes, this one {len(raw)}")
    return raw


def _recovery_bytes(recovery_key):
    return recovery_key if isinstance(recovery_key, bytes) else parse_recovery_key(recovery_key)


def wrap_keys(keys, *, password=None, recovery_key=None, iterations=PBKDF2_ITERATIONS):
    """A *wrapped keys* document: `password_wrapped` (with `password`) or `recovery_wrapped`
    (with `recovery_key`, bytes or its written form)."""
    if (password is None) == (recovery_key is None):
        raise ValueError("wrap with exactly one of password and recovery_key")
    salt, nonce = secrets.token_bytes(SALT_BYTES), secrets.token_bytes(NONCE_BYTES)
    if password is not None:
        doc = {"v": 1, "kdf": "pbkdf2-sha256", "iterations": iterations}
        wrapping = pbkdf2(password, salt, iterations)
    else:
        doc = {"v": 1, "kdf": "hkdf-sha256"}
        wrapping = hkdf(_recovery_bytes(recovery_key), salt, RECOVERY_INFO)
    ciphertext = AESGCM(wrapping).encrypt(nonce, keys.plaintext(), KEYS_AAD)
    doc.update(salt=b64e(salt), nonce=b64e(nonce), ciphertext=b64e(ciphertext))
    return doc


def unwrap_keys(doc, *, password=None, recovery_key=None):
    """The account keys inside a wrapped document; UnwrapError when the secret is wrong or the
    document does not fit the format."""
    if not isinstance(doc, dict) or doc.get("v") != 1:
        raise UnwrapError("not a version 1 wrapped keys document")
    try:
        salt = b64d(doc.get("salt"), "salt")
        nonce = b64d_len(doc.get("nonce"), NONCE_BYTES, "nonce")
        ciphertext = b64d(doc.get("ciphertext"), "ciphertext")
    except E2EError as exc:
        raise UnwrapError(str(exc)) from exc
    kdf = doc.get("kdf")
    if kdf == "pbkdf2-sha256":
        if password is None:
            raise UnwrapError("a password-wrapped document needs the password")
        iterations = doc.get("iterations")
        if not isinstance(iterations, int) or iterations < PBKDF2_ITERATIONS:
            raise UnwrapError(f"iterations: {iterations!r}, fewer than {PBKDF2_ITERATIONS}")
        wrapping = pbkdf2(password, salt, iterations)
    elif kdf == "hkdf-sha256":
        if recovery_key is None:
            raise UnwrapError("a recovery-wrapped document needs the recovery key")
        wrapping = hkdf(_recovery_bytes(recovery_key), salt, RECOVERY_INFO)
    else:
        raise UnwrapError(f"unknown kdf {kdf!r}")
    try:
        plaintext = AESGCM(wrapping).decrypt(nonce, ciphertext, KEYS_AAD)
    except InvalidTag as exc:
        raise UnwrapError("the keys do not open with this "
                          + ("password" if kdf == "pbkdf2-sha256" else "recovery key")) from exc
    return AccountKeys.from_plaintext(plaintext)


# ---------------------------------------------------------------------------------------------
# Sealed room keys

def room_key_info(room, epoch):
    return f"parlor room key v1|{room}|{epoch}".encode("utf-8")


def sealed_key_signed_text(room, epoch, epk, nonce, ciphertext):
    return f"parlor sealed key v1|{room}|{epoch}|{epk}|{nonce}|{ciphertext}"


def seal_room_key(room_key, room, epoch, recipient_agreement_public, sealer):
    """Seals the 32-byte `room_key` of `room`/`epoch` to the member whose agreement public key
    (b64 spki) is given, signed by `sealer` (AccountKeys)."""
    recipient = load_public(recipient_agreement_public, "agreement_public")
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    shared = ephemeral.exchange(ec.ECDH(), recipient)  # the 32-byte x-coordinate
    info = room_key_info(room, epoch)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = AESGCM(hkdf(shared, b"", info)).encrypt(nonce, room_key, info)
    epk, nonce_b64, ct_b64 = spki_b64(ephemeral.public_key()), b64e(nonce), b64e(ciphertext)
    signature = sign(sealer.signing, sealed_key_signed_text(room, epoch, epk, nonce_b64, ct_b64))
    return {"v": 1, "epk": epk, "nonce": nonce_b64, "ciphertext": ct_b64, "signature": signature}


def open_sealed_key(sealed, room, epoch, own, sealer_signing_public):
    """The room key in `sealed`, after checking the signature of `sealed_by` (whose signing
    public key, b64 spki, is given); SealError when it does not verify or does not open."""
    try:
        if not isinstance(sealed, dict) or sealed.get("v") != 1:
            raise SealError("not a version 1 sealed key")
        epk, nonce_b64, ct_b64 = sealed.get("epk"), sealed.get("nonce"), sealed.get("ciphertext")
        nonce = b64d_len(nonce_b64, NONCE_BYTES, "nonce")
        ciphertext = b64d_len(ct_b64, KEY_BYTES + 16, "ciphertext")
        ephemeral = load_public(epk, "epk")
        signer = load_public(sealer_signing_public, "the sealer's signing key")
    except E2EError as exc:
        raise SealError(f"malformed sealed key: {exc}") from exc
    if not verify(signer, sealed_key_signed_text(room, epoch, epk, nonce_b64, ct_b64),
                  sealed.get("signature")):
        raise SealError("the signature of sealed_by does not verify")
    shared = own.agreement.exchange(ec.ECDH(), ephemeral)
    info = room_key_info(room, epoch)
    try:
        return AESGCM(hkdf(shared, b"", info)).decrypt(nonce, ciphertext, info)
    except InvalidTag as exc:
        raise SealError("the sealed key does not open with this account's keys") from exc


# ---------------------------------------------------------------------------------------------
# Message envelopes

def message_aad(room, epoch):
    return f"parlor msg v1|{room}|{epoch}"


def seal_message(room_key, room, epoch, content, author):
    """The envelope of a message: `content` ({"text", "files"?}) as UTF-8 JSON, AES-GCM under the
    room key of `epoch`, signed by `author` (AccountKeys)."""
    plaintext = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    nonce = secrets.token_bytes(NONCE_BYTES)
    aad = message_aad(room, epoch)
    ciphertext = AESGCM(room_key).encrypt(nonce, plaintext, aad.encode("utf-8"))
    nonce_b64, ct_b64 = b64e(nonce), b64e(ciphertext)
    signature = sign(author.signing, f"{aad}|{nonce_b64}|{ct_b64}")
    return {"v": 1, "epoch": epoch, "nonce": nonce_b64, "ciphertext": ct_b64,
            "signature": signature}


@dataclass
class Opened:
    """What a reader makes of an envelope. `status` is "ok" (opened and verified),
    "unverified" (opened, but the named author's signature does not verify: `text` is there,
    to be flagged) or "undecryptable" (never shown as text; `reason` says why)."""
    status: str
    text: str = None
    content: dict = None
    epoch: int = None
    reason: str = None

    @property
    def verified(self):
        return self.status == "ok"

    @property
    def opened(self):
        return self.status in ("ok", "unverified")


def open_envelope(envelope, room, room_keys, author_signing_public):
    """Opens `envelope` of `room` with the keys held (`room_keys`: {epoch: key}) and checks the
    signature with the author's signing key (b64 spki, or None when the author has none)."""
    try:
        if not isinstance(envelope, dict) or envelope.get("v") != 1:
            raise E2EError("not a version 1 envelope")
        epoch = envelope.get("epoch")
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            raise E2EError("no epoch")
        nonce = b64d_len(envelope.get("nonce"), NONCE_BYTES, "nonce")
        ciphertext = b64d(envelope.get("ciphertext"), "ciphertext")
    except E2EError as exc:
        return Opened("undecryptable", reason=f"malformed envelope: {exc}")
    key = room_keys.get(epoch)
    if key is None:
        return Opened("undecryptable", epoch=epoch, reason=f"no room key of epoch {epoch}")
    aad = message_aad(room, epoch)
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, aad.encode("utf-8"))
        content = json.loads(plaintext.decode("utf-8"))
    except (InvalidTag, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Opened("undecryptable", epoch=epoch,
                      reason=f"does not open under the key of epoch {epoch} ({type(exc).__name__})")
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        return Opened("undecryptable", epoch=epoch, reason="the plaintext has no text")
    signed = f"{aad}|{envelope['nonce']}|{envelope['ciphertext']}"
    verified = False
    if author_signing_public is not None:
        try:
            verified = verify(load_public(author_signing_public), signed, envelope.get("signature"))
        except E2EError:
            verified = False
    return Opened("ok" if verified else "unverified", text=content["text"], content=content,
                  epoch=epoch,
                  reason=None if verified else "the author's signature does not verify")


# ---------------------------------------------------------------------------------------------
# Attachments

def encrypt_file(data):
    """A fresh key and nonce, AES-256-GCM with `parlor file v1`:
    (ciphertext, key b64, nonce b64)."""
    key, nonce = secrets.token_bytes(KEY_BYTES), secrets.token_bytes(NONCE_BYTES)
    return AESGCM(key).encrypt(nonce, data, FILE_AAD), b64e(key), b64e(nonce)


def decrypt_file(ciphertext, key_b64, nonce_b64):
    try:
        return AESGCM(b64d_len(key_b64, KEY_BYTES, "file key")).decrypt(
            b64d_len(nonce_b64, NONCE_BYTES, "file nonce"), ciphertext, FILE_AAD)
    except InvalidTag as exc:
        raise E2EError("the file does not open with the key its message gives") from exc


# ---------------------------------------------------------------------------------------------
# The server: REST and the native gateway

class ApiError(Exception):
    def __init__(self, method, path, status, body):
        error = (body or {}).get("error") if isinstance(body, dict) else None
        self.status = status
        self.code = error.get("code") if isinstance(error, dict) else None
        self.body = body
        super().__init__(f"{method} {path} -> {status} {self.code or ''} {body!r}")


class Api:
    """The REST API with a bearer token."""

    def __init__(self, base, token=None, timeout=10):
        self.base, self.token, self.timeout = base.rstrip("/"), token, timeout
        self.http = requests.Session()

    def request(self, method, path, body=None, *, params=None, data=None, content_type=None):
        """(status, parsed JSON body or None, raw bytes) — never raises on an HTTP status."""
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        reply = self.http.request(method, self.base + path, json=body, params=params, data=data,
                                  headers=headers, timeout=self.timeout)
        parsed = None
        if reply.content and reply.headers.get("content-type", "").startswith("application/json"):
            parsed = reply.json()
        return reply.status_code, parsed, reply.content

    def call(self, method, path, body=None, **kw):
        """The parsed body of a 2xx answer; ApiError otherwise."""
        status, parsed, _ = self.request(method, path, body, **kw)
        if not 200 <= status < 300:
            raise ApiError(method, path, status, parsed)
        return parsed


def room_path(room):
    return urllib.parse.quote(room, safe="")


class GatewayError(Exception):
    def __init__(self, command, error):
        self.code = (error or {}).get("code")
        self.error = error
        super().__init__(f"{command} -> {self.code}: {(error or {}).get('message')}")


class Gateway:
    """The native JSON gateway (`GET /gateway`): one JSON object per text frame. A reader
    thread files acks by number and queues events; `call` waits for its ack."""

    def __init__(self, base, token, timeout=10):
        parts = urllib.parse.urlsplit(base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.timeout = timeout
        # No Origin header: a client that is not a browser sends none (docs/protocol.md).
        self.ws = websocket.create_connection(f"{scheme}://{parts.netloc}/gateway",
                                              timeout=timeout, suppress_origin=True)
        self.ws.settimeout(None)
        self.cond = threading.Condition()
        self.acks, self.events, self.closed, self.next_ack = {}, deque(), None, 0
        threading.Thread(target=self._read, daemon=True).start()
        ack = self.request("identify", {"token": token})
        if not ack.get("ok"):
            raise GatewayError("identify", ack.get("error"))
        self.user = ack["data"]["user"]

    def _read(self):
        while True:
            try:
                frame = self.ws.recv()
            except Exception as exc:  # closed by either side
                with self.cond:
                    self.closed = repr(exc)
                    self.cond.notify_all()
                return
            if not frame:
                continue
            try:
                message = json.loads(frame)
            except (TypeError, json.JSONDecodeError):
                continue
            with self.cond:
                if isinstance(message, dict) and "ack" in message:
                    self.acks[message["ack"]] = message
                elif isinstance(message, dict) and "event" in message:
                    self.events.append((message["event"], message.get("data")))
                self.cond.notify_all()

    def request(self, command, data, timeout=None):
        """The whole ack of `command`: {"ok": true, "data"} or {"ok": false, "error"}."""
        with self.cond:
            self.next_ack += 1
            number = self.next_ack
        self.ws.send(json.dumps({"event": command, "data": data, "ack": number}))
        end = time.monotonic() + (timeout or self.timeout)
        with self.cond:
            while number not in self.acks:
                left = end - time.monotonic()
                if self.closed is not None:
                    raise ConnectionError(f"the gateway closed before the ack of {command}: "
                                          f"{self.closed}")
                if left <= 0:
                    raise TimeoutError(f"no ack for {command} within {timeout or self.timeout}s")
                self.cond.wait(left)
            return self.acks.pop(number)

    def call(self, command, data, timeout=None):
        """The ack's data; GatewayError with the code when refused."""
        ack = self.request(command, data, timeout)
        if not ack.get("ok"):
            raise GatewayError(command, ack.get("error"))
        return ack.get("data") or {}

    def next_event(self, timeout):
        """The next (event, data), or None after `timeout` seconds."""
        end = time.monotonic() + timeout
        with self.cond:
            while not self.events:
                left = end - time.monotonic()
                if left <= 0 or self.closed is not None:
                    return None
                self.cond.wait(left)
            return self.events.popleft()

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# One account's client

@dataclass
class Received:
    """A message (or an edit of one) as this client read it."""
    room: str
    seq: int
    author: str
    opened: Opened
    edited: bool = False
    raw: dict = field(default=None, repr=False)


class E2EClient:
    """One account on one server: its keys, the room keys it holds, and its connection."""

    def __init__(self, base, name, token, *, emit=None):
        self.base = base.rstrip("/")
        self.name = name
        self.api = Api(self.base, token)
        self.keys = None
        self.gateway = None
        self.room_keys = {}        # room -> {epoch: 32-byte key}
        self.epochs = {}           # room -> the current epoch as last read
        self.directory = {}        # lower-case name -> {"agreement_public", "signing_public"}
        self.known = {}            # lower-case name -> the fingerprint first seen (TOFU)
        self.key_changes = []      # [(name, old fingerprint, new)]: to warn of
        self.received = []         # [Received] in arrival order
        self.unopened = {}         # (room, seq) -> message waiting for its epoch's key
        self.handled = set()       # (room, seq, edited_at, nonce) already read
        self.last_envelope = None  # the envelope of the last send
        self.emit = emit or (lambda event, **fields: None)

    # -- accounts ---------------------------------------------------------------------------

    @classmethod
    def register(cls, base, username, password, **kw):
        body = Api(base).call("POST", "/api/register", {"username": username, "password": password})
        return cls(base, body["user"]["username"], body["token"], **kw)

    @classmethod
    def login(cls, base, username, password, **kw):
        body = Api(base).call("POST", "/api/login", {"username": username, "password": password})
        return cls(base, body["user"]["username"], body["token"], **kw)

    @property
    def token(self):
        return self.api.token

    def set_up_keys(self, password):
        """New account keys, wrapped by `password` and a new recovery key, published with
        `PUT /api/user/@me/keys`; returns the recovery key in its written form."""
        keys, recovery = AccountKeys.generate(), new_recovery_key()
        own = self.api.call("PUT", "/api/user/@me/keys", {
            "agreement_public": keys.agreement_public,
            "signing_public": keys.signing_public,
            "password_wrapped": wrap_keys(keys, password=password),
            "recovery_wrapped": wrap_keys(keys, recovery_key=recovery),
        })
        self._adopt(keys, own)
        return format_recovery_key(recovery)

    def unlock(self, *, password=None, recovery_key=None):
        """Unwraps the account's keys from `GET /api/user/@me/keys` with the password or the
        recovery key, and checks they are the keys the directory publishes."""
        own = self.api.call("GET", "/api/user/@me/keys")
        doc = own["password_wrapped"] if password is not None else own["recovery_wrapped"]
        keys = unwrap_keys(doc, password=password, recovery_key=recovery_key)
        self._adopt(keys, own)
        return own

    def _adopt(self, keys, own):
        if (keys.agreement_public, keys.signing_public) != (own["agreement_public"],
                                                          own["signing_public"]):
            raise E2EError("the unwrapped private keys are not those of the published public keys")
        if own.get("fingerprint", "").lower() != keys.fingerprint:
            raise E2EError(f"the server's fingerprint {own.get('fingerprint')} is not "
                           f"SHA-256 of the public keys ({keys.fingerprint})")
        self.keys = keys
        self.directory[self.name.lower()] = {"agreement_public": keys.agreement_public,
                                             "signing_public": keys.signing_public}
        self.known[self.name.lower()] = keys.fingerprint

    def ensure_keys(self, password):
        """Unlocks the account's keys, or sets them up when it has none: ("unlocked", None) or
        ("created", recovery key)."""
        status, _, _ = self.api.request("GET", "/api/user/@me/keys")
        if status == 404:
            return "created", self.set_up_keys(password)
        self.unlock(password=password)
        return "unlocked", None

    def rewrap_for_password(self, new_password):
        """`PUT /api/user/@me/keys/wrapped` with the keys wrapped by `new_password` (before
        `POST /api/password`, as the document says)."""
        return self.api.call("PUT", "/api/user/@me/keys/wrapped",
                             {"password_wrapped": wrap_keys(self.keys, password=new_password)})

    # -- the key directory ------------------------------------------------------------------

    def _remember(self, name, public):
        """Keeps `name`'s public keys; a fingerprint other than the first one seen is a key
        change the user must be told of."""
        if public is None:
            return None
        entry = {"agreement_public": public["agreement_public"],
                 "signing_public": public["signing_public"]}
        mine = fingerprint(entry["agreement_public"], entry["signing_public"])
        claimed = public.get("fingerprint")
        if claimed is not None and claimed.lower() != mine:
            self.emit("warning", user=name, message="the server's fingerprint does not match "
                      "the public keys it serves", fingerprint=claimed, computed=mine)
        key = name.lower()
        if key in self.known and self.known[key] != mine:
            self.key_changes.append((name, self.known[key], mine))
            self.emit("keys_changed", user=name, fingerprint=mine,
                      safety_number=safety_number(mine))
        self.known[key] = mine
        self.directory[key] = entry
        return entry

    def public_keys(self, name, fresh=False):
        """`name`'s public keys ({"agreement_public", "signing_public"}) or None (no keys)."""
        key = name.lower()
        if key == self.name.lower() and self.keys is not None:
            return self.directory[key]
        if not fresh and key in self.directory:
            return self.directory[key]
        status, body, _ = self.api.request("GET", f"/api/user/{urllib.parse.quote(name)}/keys")
        if status == 404:
            return None
        if status != 200:
            raise ApiError("GET", f"/api/user/{name}/keys", status, body)
        return self._remember(name, body)

    # -- room keys: "What a client does" ----------------------------------------------------

    def held(self, room):
        return self.room_keys.setdefault(room, {})

    def current_key(self, room):
        """(epoch, key) of the current epoch as last read, or None when not held."""
        epoch = self.epochs.get(room)
        key = self.held(room).get(epoch)
        return None if key is None else (epoch, key)

    def room_e2e(self, room):
        return self.api.call("GET", f"/api/rooms/{room_path(room)}/e2e")

    def put_sealed(self, room, epoch, room_key, members):
        """Seals `room_key` to each member ({"name", "keys"}) with `PUT …/e2e/keys`, at most
        PUT_BATCH at a time, this account first (an epoch's first key must be sealed to its
        maker too)."""
        members = sorted(members, key=lambda m: m["name"].lower() != self.name.lower())
        stored = 0
        for start in range(0, len(members), PUT_BATCH):
            batch = members[start:start + PUT_BATCH]
            sealed = [{"user": m["name"],
                       "sealed": seal_room_key(room_key, room, epoch,
                                               m["keys"]["agreement_public"], self.keys)}
                      for m in batch]
            answer = self.api.call("PUT", f"/api/rooms/{room_path(room)}/e2e/keys",
                                   {"epoch": epoch, "keys": sealed})
            stored += answer.get("stored", 0)
            self.emit("sealed", room=room, epoch=epoch, to=[m["name"] for m in batch],
                      stored=answer.get("stored"))
        return stored

    def open_sealed_entries(self, room, entries, members):
        """Opens every sealed key of `entries` not held yet, checking `sealed_by`'s signature;
        one that does not open or verify is treated as missing."""
        by_name = {m["name"].lower(): m for m in members}
        held = self.held(room)
        for entry in entries:
            epoch = entry["epoch"]
            if epoch in held:
                continue
            sealer = entry["sealed_by"]
            member = by_name.get(sealer.lower())
            if member is not None and member.get("keys") and sealer.lower() != self.name.lower():
                signer = self._remember(member["name"], member["keys"])
            else:  # itself, or a sealer no longer a member: the directory
                signer = self.public_keys(sealer)
            if signer is None:
                self.emit("rejected_key", room=room, epoch=epoch, sealed_by=sealer,
                          reason="the sealer has no public keys")
                continue
            try:
                held[epoch] = open_sealed_key(entry["sealed"], room, epoch, self.keys,
                                              signer["signing_public"])
                self.emit("room_key", room=room, epoch=epoch, sealed_by=sealer)
            except SealError as exc:
                self.emit("rejected_key", room=room, epoch=epoch, sealed_by=sealer,
                          reason=str(exc))

    def sync_room(self, room, attempts=5):
        """Reads `GET /api/rooms/{room}/e2e` and does what the document says: opens the keys
        sealed to this account; makes the current epoch's key when nobody holds it; seals the
        current key to members with keys who lack it; otherwise waits for a `room_keys` event.
        Returns the last answer read."""
        info = None
        for _ in range(attempts):
            info = self.room_e2e(room)
            epoch, members = info["epoch"], info["members"]
            self.epochs[room] = epoch
            for member in members:
                if member.get("keys") and member["name"].lower() != self.name.lower():
                    self._remember(member["name"], member["keys"])
            self.open_sealed_entries(room, info["keys"], members)
            with_keys = [m for m in members if m.get("keys")]
            self._check_own_listing(room, with_keys)
            key = self.held(room).get(epoch)
            try:
                if key is not None:
                    lacking = [m for m in with_keys if not m.get("has_key")]
                    if lacking:
                        self.put_sealed(room, epoch, key, lacking)
                    break
                if any(m.get("has_key") for m in members):
                    self.emit("waiting", room=room, epoch=epoch,
                              reason="members hold the current key; one of them will seal it")
                    break
                self.put_sealed(room, epoch, secrets.token_bytes(KEY_BYTES), with_keys)
                # read again: the key stored is the one this account opens from the server
            except ApiError as exc:
                if exc.code not in ("stale_epoch", "epoch_key_exists"):
                    raise
                self.emit("retry", room=room, epoch=epoch, reason=exc.code)
        self._retry_unopened(room)
        return info

    def _check_own_listing(self, room, with_keys):
        for member in with_keys:
            if member["name"].lower() == self.name.lower():
                if member["keys"]["agreement_public"] != self.keys.agreement_public:
                    raise E2EError(f"{room}: the server lists other public keys for this account")
                return
        raise E2EError(f"{room}: this account is not listed among the members with keys")

    # -- the gateway ------------------------------------------------------------------------

    def connect(self):
        self.gateway = Gateway(self.base, self.token)
        return self.gateway

    def close(self):
        if self.gateway is not None:
            self.gateway.close()
            self.gateway = None

    def join(self, room):
        """`join` over the gateway; in an end-to-end room reads the room's keys (`sync_room`),
        then the messages of the ack."""
        joined = self.gateway.call("join", {"room": room})
        info = joined.get("room")
        if isinstance(info, dict) and "epoch" in info:
            self.epochs[room] = info["epoch"]
        if isinstance(info, dict) and info.get("e2e") is True:
            self.sync_room(room)
        for message in joined.get("messages", []):
            self.read_message(message)
        return joined

    def open_conversation(self, peer):
        """The conversation with `peer`: accepts an invitation, or opens it (pm_open)."""
        for conversation in self.api.call("GET", "/api/conversations")["conversations"]:
            if conversation["peer"].lower() == peer.lower():
                if conversation["state"] == "invited":
                    return self.gateway.call("pm_accept", {"room": conversation["room"]})
                return conversation
        conversation = self.gateway.call("pm_open", {"user": peer})
        if conversation.get("state") == "invited":
            conversation = self.gateway.call("pm_accept", {"room": conversation["room"]})
        return conversation

    def pump(self, timeout=0.2):
        """Handles one gateway event (or none within `timeout`); returns it."""
        item = self.gateway.next_event(timeout)
        if item is None:
            if self.gateway.closed is not None:
                raise ConnectionError(f"{self.name}: the gateway closed: {self.gateway.closed}")
            return None
        event, data = item
        data = data if isinstance(data, dict) else {}
        room = data.get("room")
        if event == "room_keys":
            self.emit("room_keys", room=room, epoch=data.get("epoch"))
            if room in self.epochs:
                try:
                    self.sync_room(room)
                except ApiError as exc:  # out of the room meanwhile: room_removed follows
                    if exc.status != 404:
                        raise
        elif event == "message":
            self.read_message(data)
        elif event == "message_edited":
            self.read_message(data, edited=True)
        elif event == "keys_changed":
            user = data.get("user") or ""
            if user.lower() in self.known and user.lower() != self.name.lower():
                self.public_keys(user, fresh=True)  # a new fingerprint says keys_changed
        elif event == "room_removed":
            self.epochs.pop(room, None)  # the keys held stay: the epochs it was in
            self.emit("room_removed", room=room, reason=data.get("reason"))
        elif event == "closing":
            self.emit("closing", reason=data.get("reason"))
        return event, data

    def wait_until(self, predicate, timeout, what):
        """Pumps events until `predicate()` holds; TimeoutError naming `what` otherwise."""
        end = time.monotonic() + timeout
        while not predicate():
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: {what}: not within {timeout}s")
            self.pump(min(left, 0.2))

    # -- messages ---------------------------------------------------------------------------

    def open_message(self, room, envelope, author):
        """Opens `envelope` with the room keys held, verifying with `author`'s signing key (an
        unknown author: it may open, but it is unverified)."""
        public = self.public_keys(author) if author else None
        return open_envelope(envelope, room, self.held(room),
                             public["signing_public"] if public else None)

    def read_message(self, message, edited=False):
        """Reads a message (event, history page or join ack) or an edit; returns Received or
        None (no envelope: a server-side message, a tombstone)."""
        room, seq, envelope = message.get("room"), message.get("seq"), message.get("envelope")
        if envelope is None:
            return None
        author = message.get("author")
        author = author.get("name") if isinstance(author, dict) else author
        if author is None:  # message_edited names no author: the original's
            author = next((r.author for r in reversed(self.received)
                           if r.room == room and r.seq == seq), None)
        marker = (room, seq, message.get("edited_at"), envelope.get("nonce"))
        if marker in self.handled:
            return None
        opened = self.open_message(room, envelope, author)
        received = Received(room, seq, author, opened, edited, message)
        if not opened.opened and opened.epoch is not None and \
                opened.epoch not in self.held(room):
            self.unopened[(room, seq, edited)] = message  # a key may come later
        else:
            self.handled.add(marker)
            self.unopened.pop((room, seq, edited), None)
        self.received.append(received)
        self._emit_received(received)
        return received

    def _emit_received(self, received):
        fields = {"room": received.room, "seq": received.seq, "author": received.author,
                  "epoch": received.opened.epoch}
        if received.edited:
            fields["edited"] = True
        if received.opened.opened:
            fields.update(text=received.opened.text, verified=received.opened.verified)
            if received.opened.content.get("files"):
                fields["files"] = received.opened.content["files"]
            self.emit("decrypted", **fields)
        elif (received.room, received.seq, received.edited) in self.unopened:
            # its epoch's key may still come (a member seals it): "decrypted" follows then
            self.emit("no_key", reason=received.opened.reason, **fields)
        else:
            self.emit("undecryptable", reason=received.opened.reason, **fields)

    def _retry_unopened(self, room):
        for (r, seq, edited), message in list(self.unopened.items()):
            if r == room and message["envelope"].get("epoch") in self.held(room):
                del self.unopened[(r, seq, edited)]
                self.read_message(message, edited=edited)

    def envelope(self, room, text, files=None):
        """An envelope of `text` (and `files`) under the current epoch's key."""
        current = self.current_key(room)
        if current is None:
            raise E2EError(f"{room}: no key of the current epoch {self.epochs.get(room)} yet")
        epoch, key = current
        content = {"text": text}
        if files:
            content["files"] = files
        return seal_message(key, room, epoch, content, self.keys)

    def send(self, room, text, files=None, attachments=None, **extra):
        """Sends `text` encrypted (`send` with an envelope); after `stale_epoch` it reads the
        room's keys again and re-encrypts once."""
        for attempt in (1, 2):
            data = {"room": room, "envelope": self.envelope(room, text, files), **extra}
            self.last_envelope = data["envelope"]
            if attachments:
                data["attachments"] = attachments
            try:
                return self.gateway.call("send", data)
            except GatewayError as exc:
                if exc.code != "stale_epoch" or attempt == 2:
                    raise
                self.sync_room(room)
        raise AssertionError("unreachable")

    def edit(self, room, seq, text, files=None):
        return self.gateway.call("edit", {"room": room, "seq": seq,
                                          "envelope": self.envelope(room, text, files)})

    def history(self, room, **window):
        """`history` over the gateway, each message read: [(message, Received)]."""
        page = self.gateway.call("history", {"room": room, **window})
        return [(m, self.read_message(m) or self.reopen(m)) for m in page["messages"]]

    def reopen(self, message):
        """Reads `message` again without recording it (one already handled); None without an
        envelope."""
        if message.get("envelope") is None:
            return None
        author = message["author"]["name"]
        return Received(message["room"], message.get("seq"), author,
                        self.open_message(message["room"], message["envelope"], author),
                        raw=message)

    def find(self, room, text, verified=True):
        return next((r for r in self.received if r.room == room and r.opened.text == text
                     and (r.opened.verified or not verified)), None)

    # -- attachments ------------------------------------------------------------------------

    def upload_encrypted(self, room, data, name, mime):
        """Encrypts `data`, uploads it as `encrypted.bin` (application/octet-stream) for
        `room`; returns (file id, the `files` entry for the envelope)."""
        ciphertext, key, nonce = encrypt_file(data)
        uploaded = self.api.call("POST", "/api/files",
                                 params={"room": room, "name": ENCRYPTED_FILE_NAME},
                                 data=ciphertext, content_type="application/octet-stream")
        return uploaded["id"], {"id": uploaded["id"], "key": key, "nonce": nonce, "name": name,
                                "type": mime, "size": len(data)}

    def download_decrypted(self, entry, url=None):
        """The plaintext of the file an envelope's `files` entry describes."""
        status, _, raw = self.api.request("GET", url or f"/api/files/{entry['id']}")
        if status != 200:
            raise ApiError("GET", url or f"/api/files/{entry['id']}", status, None)
        return decrypt_file(raw, entry["key"], entry["nonce"])


# ---------------------------------------------------------------------------------------------
# The `peer` command

def emit_line(event, **fields):
    print(json.dumps({"event": event, **fields}, ensure_ascii=False), flush=True)


def fail(message, code=1):
    emit_line("error", message=message)
    print(f"e2e_client: {message}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(code)


def peer(args):
    deadline = time.monotonic() + args.timeout
    client = E2EClient.login(args.base, args.username, args.password, emit=emit_line)
    state, recovery = client.ensure_keys(args.password)
    if state == "created":
        emit_line("keys_created", user=client.name, recovery_key=recovery,
                  fingerprint=client.keys.fingerprint, safety_number=client.keys.safety_number)
    else:
        emit_line("keys_unlocked", user=client.name, fingerprint=client.keys.fingerprint,
                  safety_number=client.keys.safety_number)
    client.connect()
    if args.pm_with:
        conversation = client.open_conversation(args.pm_with)
        room = conversation["room"]
        emit_line("conversation", room=room, peer=conversation.get("peer"),
                  state=conversation.get("state"), e2e=conversation.get("e2e"))
        if conversation.get("e2e") is False:
            fail(f"the conversation with {args.pm_with} is not end-to-end")
    else:
        room = args.room
    joined = client.join(room)
    info = joined.get("room") if isinstance(joined.get("room"), dict) else {}
    emit_line("joined", room=room, e2e=info.get("e2e"), epoch=info.get("epoch"),
              messages=len(joined.get("messages", [])))
    if info.get("e2e") is not True:
        fail(f"{room} is not an end-to-end room (its join says e2e: {info.get('e2e')!r})")

    to_send, expected = list(args.send), list(args.expect)

    def satisfied():
        found = [r.opened.text for r in client.received if r.room == room and r.opened.verified]
        missing = []
        for text in expected:
            if text in found:
                found.remove(text)
            else:
                missing.append(text)
        return missing

    while True:
        while to_send and client.current_key(room) is not None:
            text = to_send[0]
            try:
                sent = client.send(room, text, client_msg_id=f"e2e-peer-{secrets.token_hex(6)}")
            except GatewayError as exc:
                if exc.code not in ("epoch_key_missing", "stale_epoch"):
                    raise
                emit_line("retry", room=room, reason=exc.code)
                client.sync_room(room)
                break
            emit_line("sent", room=room, seq=sent.get("seq"), text=text,
                      epoch=client.epochs.get(room))
            to_send.pop(0)
        missing = satisfied()
        if not to_send and not missing:
            emit_line("done", room=room)
            return 0
        if time.monotonic() >= deadline:
            waiting = ("no key of the current epoch to send with" if to_send else None)
            emit_line("timeout", room=room, missing=missing, unsent=to_send, waiting=waiting)
            print(f"e2e_client: timed out after {args.timeout}s; not decrypted and verified: "
                  f"{missing!r}; not sent: {to_send!r}", file=sys.stderr, flush=True)
            return 3
        client.pump(0.2)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="e2e_client.py",
                                     description="Parlor's reference end-to-end client")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("peer", help="one account in one end-to-end room or conversation")
    p.add_argument("--base", required=True, help="the server's base URL, http://host:port")
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--room", help="an end-to-end room's slug")
    where.add_argument("--pm-with", help="the peer of an end-to-end conversation")
    p.add_argument("--send", action="append", default=[], help="a text to send (repeatable)")
    p.add_argument("--expect", action="append", default=[],
                   help="a text to decrypt and verify before exiting (repeatable)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        code = peer(args)
    except (ApiError, GatewayError, E2EError, ConnectionError, TimeoutError,
            requests.RequestException, websocket.WebSocketException) as exc:
        fail(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a bug here is a failure too, said plainly
        fail(f"unexpected {type(exc).__name__}: {exc}")
    sys.stdout.flush()
    os._exit(code)  # the gateway's reader thread is not waited for


if __name__ == "__main__":
    main()
