"""The encrypted container of a backup: a small header, then AES-256-GCM chunks (streamed).

    b"XBBACKUP" | u32 header length | header JSON | chunk*
    chunk = u32 ciphertext length | AES-GCM(plaintext ≤ CHUNK bytes) (ciphertext includes the 16-byte tag)

The header says the format version, the KDF (scrypt) with its salt and parameters, the chunk size, a
random nonce prefix and a check value (HMAC of the derived check key), so that a wrong passphrase is
told apart from a damaged archive. Each chunk's nonce is prefix(7) | counter(4) | last-flag(1), and the
whole header is the associated data of every chunk: chunks cannot be reordered, dropped, truncated at a
chunk boundary (the last one is flagged) or moved to another archive, and the header cannot be edited.
Nothing is ever held in memory beyond one chunk.
"""

import base64
import hashlib
import hmac
import json
import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"XBBACKUP"
FORMAT = 1
CHUNK = 1 << 20
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 15, 8, 1
MAX_HEADER = 64 * 1024
TAG = 16


class BackupError(Exception):
    """A refusal an operator must read: the message is for the terminal (Chinese)."""


class WrongPassphrase(BackupError):
    pass


class Tampered(BackupError):
    pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    if not (2 <= n <= 1 << 20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise Tampered("备份文件头中的密钥派生参数无效: 文件已损坏或不是 xiaobao 备份")
    material = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return material[:32], material[32:]


def _check_value(check_key: bytes) -> str:
    return hmac.new(check_key, b"xiaobao-backup-passphrase-check", hashlib.sha256).hexdigest()


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file object: what is written is encrypted, a chunk at a time, into `raw`."""

    def __init__(self, raw, passphrase: str):
        salt = secrets.token_bytes(16)
        self._prefix = secrets.token_bytes(7)
        key, check_key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        header = {
            "format": FORMAT,
            "cipher": "AES-256-GCM",
            "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
            "chunk": CHUNK,
            "nonce_prefix": _b64(self._prefix),
            "check": _check_value(check_key),
        }
        self._header = json.dumps(header, sort_keys=True).encode()
        self._aead = AESGCM(key)
        self._raw = raw
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        raw.write(MAGIC + struct.pack(">I", len(self._header)) + self._header)

    def writable(self) -> bool:
        return True

    def _emit(self, plaintext: bytes, last: bool) -> None:
        if self._counter >= 0xFFFFFFFF:
            raise BackupError("备份过大: 超出分块数量上限")
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), plaintext, self._header)
        self._raw.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte back: the last chunk is flagged
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True


def _read_exact(raw, size: int) -> bytes:
    data = raw.read(size)
    if len(data) != size:
        raise Tampered("备份文件不完整 (被截断) 或已损坏")
    return data


class DecryptingReader:
    """A read-only file object over an encrypted archive; every chunk is authenticated before use."""

    def __init__(self, raw, passphrase: str):
        self._raw = raw
        if raw.read(len(MAGIC)) != MAGIC:
            raise Tampered("不是 xiaobao 备份文件 (文件头标识不符)")
        (length,) = struct.unpack(">I", _read_exact(raw, 4))
        if length > MAX_HEADER:
            raise Tampered("备份文件头无效: 文件已损坏")
        self._header = _read_exact(raw, length)
        try:
            header = json.loads(self._header)
            if header.get("format") != FORMAT:
                raise Tampered(f"不支持的备份格式版本 {header.get('format')!r} (本程序支持 {FORMAT})")
            kdf = header["kdf"]
            if kdf["name"] != "scrypt" or header["cipher"] != "AES-256-GCM":
                raise Tampered("备份文件头中的加密算法不受支持")
            salt = base64.b64decode(kdf["salt"])
            self._prefix = base64.b64decode(header["nonce_prefix"])
            self._chunk = int(header["chunk"])
            key, check_key = _derive(passphrase, salt, int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
            check = str(header["check"])
        except (ValueError, KeyError, TypeError) as exc:
            raise Tampered(f"备份文件头无效: 文件已损坏 ({exc})") from None
        if len(self._prefix) != 7 or not 0 < self._chunk <= 64 << 20:
            raise Tampered("备份文件头无效: 文件已损坏")
        if not hmac.compare_digest(check, _check_value(check_key)):
            raise WrongPassphrase("备份口令错误: 无法解密备份文件")
        self.header = header
        self._aead = AESGCM(key)
        self._counter = 0
        self._buffer = b""
        self._offset = 0
        self.finished = False
        self.closed = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        size_bytes = self._raw.read(4)
        if len(size_bytes) != 4:
            raise Tampered("备份文件不完整 (被截断) 或已损坏")
        (size,) = struct.unpack(">I", size_bytes)
        if size < TAG or size > self._chunk + TAG:
            raise Tampered("备份文件已损坏 (分块长度无效)")
        sealed = _read_exact(self._raw, size)
        for last in (False, True):
            try:
                plain = self._aead.decrypt(_nonce(self._prefix, self._counter, last), sealed, self._header)
            except InvalidTag:
                continue
            self._counter += 1
            if last:
                self.finished = True
                if self._raw.read(1):
                    raise Tampered("备份文件已被篡改: 结尾之后还有多余数据")
            return plain
        raise Tampered(f"备份文件已被篡改或损坏: 第 {self._counter + 1} 个数据块校验失败")

    def read(self, size: int = -1) -> bytes:
        parts = []
        wanted = size if size is not None and size >= 0 else None
        while wanted is None or wanted > 0:
            if self._offset >= len(self._buffer):
                if self.finished:
                    break
                self._buffer, self._offset = self._next_chunk(), 0
                continue
            end = len(self._buffer) if wanted is None else min(len(self._buffer), self._offset + wanted)
            piece = self._buffer[self._offset : end]
            self._offset = end
            parts.append(piece)
            if wanted is not None:
                wanted -= len(piece)
        return b"".join(parts)

    def drain(self) -> None:
        """Read (and authenticate) to the flagged last chunk: the archive is whole only then."""
        while not self.finished:
            self._next_chunk()

    def close(self) -> None:
        self.closed = True
