"""Key hierarchy for personal data (个人信息保护).

master key (XIAOBAO_FIELD_KEY, or var/keys/field.key in the demo)
  ├─ wraps each data subject's own data key (DEK): erasing one customer = destroying their DEK
  ├─ wraps the token key: HMAC-SHA256 tokens that match equal values without decrypting
  └─ wraps the audit key: HMAC of the tamper-evident audit chain

Rotating the master key re-wraps the keys below it; no value and no token changes.
"""

import base64
import binascii
import hashlib
import os
import secrets
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
NONCE_BYTES = 12


def decode_key(text: str, source: str) -> bytes:
    text = text.strip()
    for decoder in (bytes.fromhex, lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))):
        try:
            key = decoder(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == KEY_BYTES:
            return key
    raise ImproperlyConfigured(
        f"{source}: 应为 32 字节密钥的 base64 或 hex 编码 (可用 `xiaobao keys generate` 生成)"
    )


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


@lru_cache(maxsize=1)
def master_key() -> bytes:
    if settings.FIELD_KEY:
        return decode_key(settings.FIELD_KEY, "XIAOBAO_FIELD_KEY")
    if settings.PRODUCTION:
        raise ImproperlyConfigured("XIAOBAO_FIELD_KEY: 生产模式必须设置")
    path = settings.FIELD_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(encode_key(new_key()))
    return decode_key(path.read_text(), str(path))


def key_id(key: bytes) -> str:
    """A short fingerprint that says which master key wrapped a blob, without revealing it."""
    return hashlib.sha256(b"xiaobao-kek" + key).hexdigest()[:16]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    blob = bytes(blob)
    if blob[:1] != b"\x01":
        raise ValueError("unknown ciphertext version")
    return AESGCM(key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)


def wrap(kek: bytes, dek: bytes, label: str) -> bytes:
    return seal(kek, dek, b"wrap:" + label.encode())


def unwrap(kek: bytes, blob: bytes, label: str) -> bytes:
    return open_sealed(kek, blob, b"wrap:" + label.encode())


def system_key(name: str) -> bytes:
    """The token or audit key, created on first use and stored wrapped by the master key."""
    return _system_key(name, key_id(master_key()))


@lru_cache(maxsize=8)
def _system_key(name: str, kek_id: str) -> bytes:
    from django.db import IntegrityError, transaction

    from xiaobao.privacy.models import KeyMaterial

    kek = master_key()
    row = KeyMaterial.objects.filter(name=name).first()
    if row is None:
        try:
            with transaction.atomic():
                row = KeyMaterial.objects.create(name=name, wrapped=wrap(kek, new_key(), name), kek_id=kek_id)
        except IntegrityError:
            row = KeyMaterial.objects.get(name=name)
    if row.kek_id != kek_id:
        raise ImproperlyConfigured(
            "XIAOBAO_FIELD_KEY: 与数据库中加密数据所用的主密钥不一致 (密钥指纹 "
            f"{row.kek_id} ≠ {kek_id}); 请使用原密钥或执行 `xiaobao keys rotate`"
        )
    return unwrap(kek, row.wrapped, name)


def clear_caches() -> None:
    master_key.cache_clear()
    _system_key.cache_clear()
