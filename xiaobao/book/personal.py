"""个人信息 in the Parquet store, a whole column at a time: sealing, tokens and masks.

Each personal column `<col>` of schema.PERSONAL is stored as three (see schema.py):

- `<col>_enc`: AES-256-GCM under the store key (`system_key("store")`), laid out as
  xiaobao.privacy.keys.seal lays it out (version byte, 12-byte random nonce, ciphertext and tag), so
  `keys.open_sealed` opens it. The associated data is `book:<table>:<column>:<record key>`: a
  ciphertext copied into another row, column or table no longer opens.
- `<col>_token`: exactly `personal_token(kind, value)`, the keyed hash customers and cases carry,
  so a policy's applicant joins a customer or a complainant without decrypting anything.
- `<col>_masked`: exactly `xiaobao.lib.masking.mask(kind, value)`.

Values arrive normalised and validated (privacy.services.personal_normalize). Empty or missing
values are NULL in all three columns.
"""

import hashlib
import os
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaobao.book.gcm import column_cipher
from xiaobao.book.schema import PERSONAL
from xiaobao.lib.masking import mask
from xiaobao.privacy import keys

STORE_KEY_NAME = "store"
CIPHER_VERSION = b"\x01"  # the layout of xiaobao.privacy.keys.seal
HMAC_BLOCK = 64  # SHA-256's block size, the length HMAC pads its key to

try:
    # CPython's own SHA-256: copying its state is a struct copy, where OpenSSL's allocates a context,
    # so a token costs 0.9 µs instead of 1.2 (the same digest; test_gcm checks against hmac).
    from _sha256 import sha256 as _sha256  # Python 3.11
except ImportError:  # pragma: no cover - other Pythons
    try:
        from _sha2 import sha256 as _sha256  # Python 3.12+
    except ImportError:
        _sha256 = hashlib.sha256


def store_key() -> bytes:
    return keys.system_key(STORE_KEY_NAME)


def aad(table: str, column: str, key: str) -> bytes:
    return f"book:{table}:{column}:{key}".encode()


def key_text(parts: Sequence[object]) -> str:
    """A record's natural key as one string (composite keys joined by "|"), as sealed and as logged."""
    return "|".join(str(part) for part in parts)


def seal_column(
    table: str, column: str, values: pa.Array, record_keys: pa.Array, *, key: bytes | None = None
) -> pa.Array:
    """Encrypt one column of plain values (NULL and "" stay NULL), each bound to its record's key
    (`record_keys`: the keys as text, see key_text).

    One AES-GCM encryption per value, with its own random nonce, is the price of per-value
    decryption; xiaobao.book.gcm makes them for the whole column at once (the same bytes as one
    AESGCM.encrypt per value). `key`: the store key, when the caller has it (threads other than the
    request's should not open database connections of their own).
    """
    present = pc.fill_null(pc.greater(pc.binary_length(values), 0), False)
    n = len(values)
    count = pc.sum(pc.cast(present, pa.int64())).as_py() or 0
    if not count:
        return pa.nulls(n, pa.binary())
    subset_values = values.filter(present) if count < n else values
    subset_keys = record_keys.filter(present) if count < n else record_keys
    nonces = np.frombuffer(os.urandom(keys.NONCE_BYTES * count), dtype=np.uint8).reshape(
        count, keys.NONCE_BYTES
    )
    aads = pc.binary_join_element_wise(f"book:{table}:{column}:", subset_keys.cast(pa.string()), "")
    store = key or store_key()
    blobs = column_cipher(store).seal(subset_values, aads, nonces, version=CIPHER_VERSION[0])
    _check_sealed(store, subset_values, aads, blobs)
    if count == n:
        return blobs
    # Scatter back into place, NULL where there was no value.
    positions = np.flatnonzero(present.to_numpy(zero_copy_only=False))
    indices = np.full(n, -1, dtype=np.int64)
    indices[positions] = np.arange(count)
    return blobs.take(pa.array(indices, mask=indices < 0))


SEAL_CHECKS = 8  # values of every sealed batch opened again by the library (first, last, random)


def _check_sealed(store: bytes, values: pa.Array, aads: pa.Array, blobs: pa.Array) -> None:
    """Open a few of the batch's ciphertexts with `cryptography`'s AESGCM (keys.open_sealed), which
    checks the tag, and compare with the plain values: xiaobao.book.gcm computes GCM itself, and
    should it ever disagree with the library, the import stops here, before anything is stored,
    instead of storing values nobody can open. About 10 µs a batch."""
    n = len(blobs)
    picks = {0, n - 1, *np.random.default_rng().integers(0, n, size=SEAL_CHECKS - 2).tolist()}
    for i in sorted(picks):
        plain = values[i].as_py()
        plain = plain.encode() if isinstance(plain, str) else plain
        try:
            aad = aads[i].as_py()
            opened = keys.open_sealed(store, blobs[i].as_py(), aad.encode() if isinstance(aad, str) else aad)
        except Exception as exc:  # InvalidTag, or a malformed blob
            raise RuntimeError(f"sealed value {i} does not open with the library: {exc!r}") from exc
        if opened != plain:
            raise RuntimeError(f"sealed value {i} opens to other bytes than were sealed")


def open_value(table: str, column: str, key: str, blob: bytes) -> str:
    """Decrypt one stored value (tests, and a reveal screen should one be added; lists show `_masked`)."""
    return keys.open_sealed(store_key(), bytes(blob), aad(table, column, key)).decode()


def _stars(count: pa.Array) -> pa.Array:
    return pc.binary_repeat(pa.scalar("*"), pc.max_element_wise(count, 0))


def mask_column(kind: str, values: pa.Array) -> pa.Array:
    """xiaobao.lib.masking.mask over a whole column of normalised, non-empty values."""
    if kind == "address":
        # The province/city head is found by a regex: one call per value (derive() passes each
        # distinct address once, as it hashes each once).
        return pa.array([mask(kind, v) for v in values.to_pylist()], pa.string())
    length = pc.utf8_length(values)
    join = pc.binary_join_element_wise
    reversed_values = pc.utf8_reverse(values)

    def head(n: int) -> pa.Array:
        return pc.utf8_slice_codeunits(values, 0, n)

    def tail(n: int) -> pa.Array:
        return pc.utf8_reverse(pc.utf8_slice_codeunits(reversed_values, 0, n))

    def fewer(n: int) -> pa.Array:
        return pc.subtract(length, n)

    if kind == "name":
        two = join(head(1), "*", "")
        more = join(head(1), _stars(fewer(2)), tail(1), "")
        return pc.if_else(
            pc.less_equal(length, 1), pa.scalar("*"), pc.if_else(pc.equal(length, 2), two, more)
        )
    if kind == "phone":
        short = join(_stars(fewer(2)), tail(2), "")
        return pc.if_else(pc.less_equal(length, 7), short, join(head(3), _stars(fewer(7)), tail(4), ""))
    if kind == "id_no":
        return pc.if_else(
            pc.less_equal(length, 8), _stars(length), join(head(4), _stars(fewer(8)), tail(4), "")
        )
    if kind != "account":
        raise ValueError(kind)
    return pc.if_else(pc.greater(length, 4), join("****", tail(4), ""), pa.scalar("****"))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
TOKEN_CHARS = 40  # personal_token keeps the first 40 hex digits


def hmac_tokens(token_key: bytes, kind: str, values: pa.Array) -> pa.Array:
    """personal_token(kind, v) for each v of `values` (normalised, non-empty, no NULL): HMAC-SHA256
    (RFC 2104) with the key's inner and outer states computed once, so each value costs two
    compressions and four calls into the hash; the hex digits are written by numpy."""
    padded = token_key.ljust(HMAC_BLOCK, b"\x00")
    inner = _sha256(bytes(b ^ 0x36 for b in padded))
    outer = _sha256(bytes(b ^ 0x5C for b in padded))
    inner_copy, outer_copy = inner.copy, outer.copy

    def digest(message: bytes) -> bytes:
        h = inner_copy()
        h.update(message)
        o = outer_copy()
        o.update(h.digest())
        return o.digest()

    n = len(values)
    messages = pc.binary_join_element_wise(f"{kind}:", values.cast(pa.string()), "").cast(pa.binary())
    raw = np.frombuffer(b"".join(map(digest, messages.to_pylist())), dtype=np.uint8)
    half = raw.reshape(n, 32)[:, : TOKEN_CHARS // 2]
    text = np.empty((n, TOKEN_CHARS), dtype=np.uint8)
    text[:, 0::2] = _HEX[half >> 4]
    text[:, 1::2] = _HEX[half & 0x0F]
    offsets = np.arange(0, (n + 1) * TOKEN_CHARS, TOKEN_CHARS, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())])


def derive(table: str, plain: dict[str, pa.Array], token_key: bytes) -> dict[str, pa.Array]:
    """`<col>_token` and `<col>_masked` for plain personal values (one array per personal column of
    `table`). Each distinct value of a kind is hashed and masked once: a person named on several
    rows, or as both applicant and insured, costs one HMAC (hmac_tokens); personal_token is the
    same function, one value at a time."""
    kinds = PERSONAL[table]
    by_kind: dict[str, list[str]] = {}
    for column in plain:
        by_kind.setdefault(kinds[column], []).append(column)
    out: dict[str, pa.Array] = {}
    for kind, columns in by_kind.items():
        arrays = [plain[c].cast(pa.string()) for c in columns]
        # One hash pass: the distinct values and, per row, which one it holds.
        encoded = pc.dictionary_encode(pa.concat_arrays(arrays) if len(arrays) > 1 else arrays[0])
        dictionary = encoded.dictionary
        present = pc.not_equal(dictionary, "")
        distinct = dictionary.filter(present)
        # dictionary position → position in `distinct` ("" → NULL: no token, no mask)
        kept = present.to_numpy(zero_copy_only=False)
        places = np.cumsum(kept) - 1
        slot = pa.array(places, mask=~kept).take(encoded.indices)
        tokens = hmac_tokens(token_key, kind, distinct)
        masks = mask_column(kind, distinct)
        at = 0
        for column, array in zip(columns, arrays, strict=True):
            where = slot.slice(at, len(array))
            at += len(array)
            out[f"{column}_token"] = tokens.take(where)
            out[f"{column}_masked"] = masks.take(where)
    return out
