"""个人信息 in the Parquet store, a whole column at a time: sealing, tokens and masks.

Each personal column `<col>` of schema.PERSONAL is stored as three (see schema.py):

- `<col>_enc`: AES-256-GCM under the store key (`system_key("store")`), laid out as
  xiaobao.privacy.keys.seal lays it out (version byte, 12-byte random nonce, ciphertext and tag), so
  `keys.open_sealed` opens it. The associated data is `book:<table>:<column>:<record key>`: a
  ciphertext copied into another row, column or table no longer opens.
- `<col>_token`: exactly `personal_token(kind, value)`, the keyed hash customers and cases carry,
  so a policy's applicant joins a customer or a complainant without decrypting anything. DuckDB
  computes it as HMAC-SHA256 (RFC 2104 written out with its sha256), a whole column per query.
- `<col>_masked`: exactly `xiaobao.lib.masking.mask(kind, value)`, as SQL.

Values arrive normalised and validated (privacy.services.personal_normalize). Empty or missing
values are NULL in all three columns.
"""

import os
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from xiaobao.book.schema import PERSONAL
from xiaobao.privacy import keys

STORE_KEY_NAME = "store"
CIPHER_VERSION = b"\x01"  # the layout of xiaobao.privacy.keys.seal
HMAC_BLOCK = 64  # SHA-256's block size, the length HMAC pads its key to

# xiaobao.lib.masking, one CASE per kind; {v} is the normalised, non-empty value.
MASK_SQL = {
    "name": (
        "CASE WHEN length({v}) <= 1 THEN '*' WHEN length({v}) = 2 THEN left({v}, 1) || '*' "
        "ELSE left({v}, 1) || repeat('*', length({v}) - 2) || right({v}, 1) END"
    ),
    "phone": (
        "CASE WHEN length({v}) <= 7 THEN repeat('*', greatest(length({v}) - 2, 0)) || right({v}, 2) "
        "ELSE left({v}, 3) || repeat('*', length({v}) - 7) || right({v}, 4) END"
    ),
    "id_no": (
        "CASE WHEN length({v}) <= 8 THEN repeat('*', length({v})) "
        "ELSE left({v}, 4) || repeat('*', length({v}) - 8) || right({v}, 4) END"
    ),
    "account": "CASE WHEN length({v}) > 4 THEN '****' || right({v}, 4) ELSE '****' END",
}


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

    One AEAD call per value is the price of per-value decryption; everything around the call
    (nonces, associated data, the output array) is built by Arrow and numpy, so the loop is the
    library's code. `key`: the store key, when the caller has it (threads other than the request's
    should not open database connections of their own).
    """
    present = pc.fill_null(pc.greater(pc.binary_length(values), 0), False)
    n = len(values)
    count = pc.sum(pc.cast(present, pa.int64())).as_py() or 0
    if not count:
        return pa.nulls(n, pa.binary())
    subset_values = values.filter(present) if count < n else values
    subset_keys = record_keys.filter(present) if count < n else record_keys
    step = keys.NONCE_BYTES
    randomness = os.urandom(step * count)
    nonces = [randomness[i : i + step] for i in range(0, step * count, step)]
    prefix = np.empty((count, step + 1), dtype=np.uint8)
    prefix[:, 0] = CIPHER_VERSION[0]
    prefix[:, 1:] = np.frombuffer(randomness, dtype=np.uint8).reshape(count, step)
    heads = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(step + 1), count, [None, pa.py_buffer(prefix.tobytes())]
    )
    aads = pc.binary_join_element_wise(f"book:{table}:{column}:", subset_keys.cast(pa.string()), "")
    aead = AESGCM(key or store_key())
    sealed = map(
        aead.encrypt, nonces, subset_values.cast(pa.binary()).to_pylist(), aads.cast(pa.binary()).to_pylist()
    )
    blobs = pc.binary_join_element_wise(heads.cast(pa.binary()), pa.array(list(sealed), pa.binary()), b"")
    if count == n:
        return blobs
    # Scatter back into place, NULL where there was no value.
    positions = np.flatnonzero(present.to_numpy(zero_copy_only=False))
    indices = np.full(n, -1, dtype=np.int64)
    indices[positions] = np.arange(count)
    return blobs.take(pa.array(indices, mask=indices < 0))


def open_value(table: str, column: str, key: str, blob: bytes) -> str:
    """Decrypt one stored value (tests, and a reveal screen should one be added; lists show `_masked`)."""
    return keys.open_sealed(store_key(), bytes(blob), aad(table, column, key)).decode()


def token_params() -> dict[str, bytes]:
    """The HMAC pads of the token key, bound as $ipad and $opad by token_sql()."""
    key = keys.system_key("token").ljust(HMAC_BLOCK, b"\x00")
    return {"ipad": bytes(b ^ 0x36 for b in key), "opad": bytes(b ^ 0x5C for b in key)}


def token_sql(kind: str, value: str) -> str:
    """SQL for personal_token(kind, value) over the expression `value` (NULL when empty)."""
    return (
        f"CASE WHEN {value} IS NULL OR {value} = '' THEN NULL ELSE "
        f"left(sha256($opad || unhex(sha256($ipad || encode('{kind}:' || {value})))), 40) END"
    )


def mask_sql(kind: str, value: str) -> str:
    return f"CASE WHEN {value} IS NULL OR {value} = '' THEN NULL ELSE {MASK_SQL[kind].format(v=value)} END"


def derive(con: duckdb.DuckDBPyConnection, table: str, plain: pa.Table) -> dict[str, pa.Array]:
    """`<col>_token` and `<col>_masked` for a table of plain personal values (one column per personal
    column of `table`). Each distinct value of a kind is hashed once: a person named on several rows,
    or as both applicant and insured, costs one HMAC."""
    kinds = PERSONAL[table]
    out: dict[str, pa.Array] = {}
    by_kind: dict[str, list[str]] = {}
    for column in plain.column_names:
        by_kind.setdefault(kinds[column], []).append(column)
    params = token_params()
    for kind, columns in by_kind.items():
        arrays = [plain.column(c).combine_chunks() for c in columns]
        distinct = pc.unique(pa.concat_arrays(arrays)).drop_null()
        con.register("_book_distinct", pa.table({"v": distinct}))
        try:
            derived = con.sql(
                f"SELECT {token_sql(kind, 'v')} AS t, {mask_sql(kind, 'v')} AS m FROM _book_distinct",
                params=params,
            ).to_arrow_table()
        finally:
            con.unregister("_book_distinct")
        tokens = derived.column("t").combine_chunks()
        masks = derived.column("m").combine_chunks()
        for column, array in zip(columns, arrays, strict=True):
            where = pc.index_in(array, value_set=distinct)
            out[f"{column}_token"] = tokens.take(where)
            out[f"{column}_masked"] = masks.take(where)
    return out
