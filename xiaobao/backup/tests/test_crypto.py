"""The encrypted container: round trips across chunk boundaries, and every kind of tampering is caught."""

import io
import json
import struct

import pytest

from xiaobao.backup import crypto
from xiaobao.backup.crypto import DecryptingReader, EncryptingWriter, Tampered, WrongPassphrase


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    monkeypatch.setattr(crypto, "CHUNK", 1000)
    monkeypatch.setattr(crypto, "SCRYPT_N", 1 << 10)  # fast tests; the format records the parameters


def _seal(data: bytes, passphrase: str = "pass-phrase") -> bytes:
    out = io.BytesIO()
    writer = EncryptingWriter(out, passphrase)
    for i in range(0, len(data), 333):
        writer.write(data[i : i + 333])
    writer.close()
    return out.getvalue()


def _open(blob: bytes, passphrase: str = "pass-phrase") -> bytes:
    reader = DecryptingReader(io.BytesIO(blob), passphrase)
    out = bytearray()
    while piece := reader.read(777):
        out += piece
    reader.drain()
    return bytes(out)


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 5000, 12_345])
def test_round_trip(size):
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    blob = _seal(data)
    assert _open(blob) == data
    assert data[:50] not in blob or size < 50


def test_the_header_records_format_kdf_and_salt():
    blob = _seal(b"x")
    (length,) = struct.unpack(">I", blob[8:12])
    header = json.loads(blob[12 : 12 + length])
    assert header["format"] == 1 and header["kdf"]["name"] == "scrypt" and header["kdf"]["salt"]
    assert header["kdf"]["n"] == 1 << 10 and header["cipher"] == "AES-256-GCM"


def test_wrong_passphrase():
    with pytest.raises(WrongPassphrase, match="口令错误"):
        _open(_seal(b"secret" * 500), "other-phrase")


def _chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    (length,) = struct.unpack(">I", blob[8:12])
    head, rest = blob[: 12 + length], blob[12 + length :]
    chunks = []
    while rest:
        (n,) = struct.unpack(">I", rest[:4])
        chunks.append(rest[: 4 + n])
        rest = rest[4 + n :]
    return head, chunks


def test_flipped_byte_dropped_reordered_truncated_and_appended_are_all_refused():
    blob = _seal(bytes(5000))
    head, chunks = _chunks(blob)
    assert len(chunks) == 5
    flipped = bytearray(blob)
    flipped[-100] ^= 1
    cases = {
        "flipped": bytes(flipped),
        "dropped": head + b"".join(chunks[:2] + chunks[3:]),
        "reordered": head + b"".join([chunks[1], chunks[0], *chunks[2:]]),
        "truncated at a chunk": head + b"".join(chunks[:-1]),
        "truncated inside": blob[:-10],
        "appended": blob + b"\x00",
    }
    for name, bad in cases.items():
        with pytest.raises(Tampered):
            _open(bad)
        assert name


def test_an_edited_header_is_refused():
    blob = bytearray(_seal(b"data" * 400))
    (length,) = struct.unpack(">I", blob[8:12])
    header = json.loads(blob[12 : 12 + length])
    header["chunk"] = 999
    edited = json.dumps(header, sort_keys=True).encode()
    bad = bytes(blob[:8]) + struct.pack(">I", len(edited)) + edited + bytes(blob[12 + length :])
    with pytest.raises(Tampered):
        _open(bad)
    with pytest.raises(Tampered, match="不是 xiaobao 备份文件"):
        _open(b"NOTABACKUP" + bytes(blob[10:]))


def test_another_vendor_is_refused():
    from xiaobao.backup.archive import _check_compatible
    from xiaobao.backup.crypto import BackupError

    manifest = {"database": {"vendor": "oracle"}, "keys": {"included": True, "master_key_id": None}}
    with pytest.raises(BackupError, match="该备份来自 oracle 数据库"):
        _check_compatible(manifest)
