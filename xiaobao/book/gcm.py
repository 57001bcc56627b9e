"""AES-256-GCM over a whole column at once: the same ciphertexts as AESGCM.encrypt, value by value.

A per-value AEAD call costs a microsecond and a half of call overhead for some 20 bytes of data;
at 40 million values (10 million policies, four personal columns) that is a minute of CPU. GCM
(NIST SP 800-38D) is two independent parts, and both vectorise:

- the keystream: AES (OpenSSL, through `cryptography`) in ECB mode over every counter block of
  every value in one call: the pre-counter block J0 = nonce || 1 and nonce || 2, 3, … for the data;
- the tag: GHASH, multiplication by the hash key H = AES_K(0^128) in GF(2^128), for all values
  of one shape (number of associated-data and data blocks) at a time with numpy. H is fixed for
  a key, so X·H is the XOR of 16 table entries, one per byte of X (the "8-bit tables" method of
  the GCM paper, the one OpenSSL also has for processors without carry-less multiply).

The layout is xiaobao.privacy.keys.seal's (version byte, 12-byte nonce, ciphertext, 16-byte tag),
so keys.open_sealed opens every value; a test checks byte equality with AESGCM for awkward lengths
and contents. Nonces are random (os.urandom), 96 bits, one per value, as keys.seal makes them.

Table lookups are not constant-time: a process sharing the core could in principle learn about H
from cache timings while an import runs (H protects integrity, not secrecy: the ciphertexts stay
as confidential). OpenSSL's own table-based GHASH carries the same caveat on processors without
carry-less multiply.
"""

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
NONCE = 12
TAG = 16
_R = 0xE1 << 120  # the reduction polynomial x^128 + x^7 + x^2 + x + 1, in GCM's reflected bit order
_ROW = (np.arange(BLOCK, dtype=np.intp) * 256)[:, None]  # byte i of a block → its table's offset
# Rows per GHASH pass: the lookups of a pass (16 × 16 bytes a row) then stay in the core's cache,
# which makes a multiplication about four times cheaper than over a whole batch.
CHUNK_ROWS = 4096
_RUNS = 64  # beyond this many runs of equal length, padding scatters byte by byte


def gf_mul(x: int, y: int) -> int:
    """X·Y in GF(2^128) as GCM defines it (Algorithm 1 of SP 800-38D; blocks as big-endian ints)."""
    z, v = 0, y
    for i in range(128):
        if (x >> (127 - i)) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def _tables(h: int) -> np.ndarray:
    """(16 × 256, 2) uint64: entry 256·i + b is (the block with byte i = b, others 0)·H, as the 16
    bytes of the product. Multiplication is linear, so each entry is a XOR of 8 products."""
    out = np.zeros((BLOCK, 256, 2), dtype=np.uint64)
    for i in range(BLOCK):
        basis = [
            np.frombuffer(gf_mul((1 << bit) << (8 * (BLOCK - 1 - i)), h).to_bytes(BLOCK, "big"), np.uint64)
            for bit in range(8)
        ]
        for b in range(1, 256):
            out[i, b] = out[i, b & (b - 1)] ^ basis[(b & -b).bit_length() - 1]
    return out.reshape(BLOCK * 256, 2)


class ColumnCipher:
    """AES-256-GCM under one key, many values per call (see the module docstring)."""

    def __init__(self, key: bytes) -> None:
        self._aes = Cipher(algorithms.AES(key), modes.ECB())
        h = int.from_bytes(self._ecb(bytes(BLOCK)), "big")
        self._table = _tables(h)

    def _ecb(self, data: bytes) -> bytes:
        encryptor = self._aes.encryptor()
        return encryptor.update(data) + encryptor.finalize()

    def _times_h(self, x: np.ndarray) -> np.ndarray:
        """(n, 16) uint8 blocks, each multiplied by H."""
        index = x.T.astype(np.intp)
        index += _ROW
        return np.bitwise_xor.reduce(np.take(self._table, index, axis=0), axis=0).view(np.uint8)

    def seal(self, values: pa.Array, aads: pa.Array, nonces: np.ndarray, version: int = 1) -> pa.Array:
        """version byte || nonce || AES-GCM(values[i], aad = aads[i], nonce = nonces[i]) || tag, for
        every i: a binary array. `values`, `aads`: string or binary arrays without nulls; `nonces`:
        (n, 12) uint8."""
        values = values.cast(pa.binary())
        aads = aads.cast(pa.binary())
        n = len(values)
        data_blocks = (pc.binary_length(values).to_numpy().astype(np.int64) + BLOCK - 1) // BLOCK
        aad_blocks = (pc.binary_length(aads).to_numpy().astype(np.int64) + BLOCK - 1) // BLOCK
        shapes = aad_blocks * (1 << 32) + data_blocks
        if n == 0 or (shapes == shapes[0]).all():
            order = None
            parts = [np.arange(n)]
        else:
            order = np.argsort(shapes, kind="stable")
            parts = np.split(order, np.flatnonzero(np.diff(shapes[order])) + 1)
        pieces, lengths = [], []
        for rows in parts:
            if not len(rows):
                continue
            if order is None:
                same_values, same_aads, same_nonces = values, aads, nonces
            else:
                taken = pa.array(rows)
                same_values, same_aads, same_nonces = values.take(taken), aads.take(taken), nonces[rows]
            for start in range(0, len(rows), CHUNK_ROWS):
                piece, length = self._seal_shape(
                    same_values.slice(start, CHUNK_ROWS),
                    same_aads.slice(start, CHUNK_ROWS),
                    same_nonces[start : start + CHUNK_ROWS],
                    version,
                )
                pieces.append(piece)
                lengths.append(length)
        offsets = np.zeros(n + 1, dtype=np.int64)
        if lengths:
            np.cumsum(np.concatenate(lengths), out=offsets[1:])
        data = np.concatenate(pieces) if pieces else np.zeros(0, np.uint8)
        sealed = pa.Array.from_buffers(
            pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        ).cast(pa.binary())
        if order is None:
            return sealed
        back = np.empty(n, dtype=np.int64)
        back[order] = np.arange(n)
        return sealed.take(pa.array(back))

    def _seal_shape(
        self, values: pa.Array, aads: pa.Array, nonces: np.ndarray, version: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values whose data and associated data have the same number of blocks: (the sealed values'
        bytes one after another, their lengths)."""
        m = len(values)
        plain, length = padded(values)
        aad, aad_length = padded(aads)
        c_blocks = plain.shape[1] // BLOCK
        a_blocks = aad.shape[1] // BLOCK
        # Counter blocks: J0 = nonce || 1 (masks the tag), then nonce || 2, 3, … (the keystream).
        counters = np.empty((m, c_blocks + 1, BLOCK), dtype=np.uint8)
        counters[:, :, :NONCE] = nonces[:, None, :]
        counters[:, :, NONCE:] = np.arange(1, c_blocks + 2, dtype=">u4").view(np.uint8).reshape(-1, 4)
        stream = np.frombuffer(self._ecb(counters.tobytes()), np.uint8).reshape(m, c_blocks + 1, BLOCK)
        inside = np.arange(c_blocks * BLOCK)[None, :] < length[:, None]
        cipher = plain ^ stream[:, 1:].reshape(m, c_blocks * BLOCK)
        cipher *= inside  # GHASH reads the ciphertext zero-padded
        # GHASH: X = 0; X = (X ^ block)·H for each block of aad, ciphertext, then the lengths. Leading
        # aad blocks common to every value (the column's prefix) are hashed once.
        x = np.zeros((1, BLOCK), dtype=np.uint8)
        start = 0
        while start < a_blocks:
            block = aad[:, start * BLOCK : (start + 1) * BLOCK]
            if not (block == block[0]).all():
                break
            x = self._times_h(x ^ block[:1])
            start += 1
        x = np.broadcast_to(x, (m, BLOCK))
        for k in range(start, a_blocks):
            x = self._times_h(x ^ aad[:, k * BLOCK : (k + 1) * BLOCK])
        for k in range(c_blocks):
            x = self._times_h(x ^ cipher[:, k * BLOCK : (k + 1) * BLOCK])
        lengths = np.empty((m, BLOCK), dtype=np.uint8)
        lengths[:, :8] = (aad_length * 8).astype(">u8").view(np.uint8).reshape(m, 8)
        lengths[:, 8:] = (length * 8).astype(">u8").view(np.uint8).reshape(m, 8)
        x = self._times_h(x ^ lengths)
        width = 1 + NONCE + c_blocks * BLOCK + TAG
        whole = np.empty((m, width), dtype=np.uint8)
        whole[:, 0] = version
        whole[:, 1 : 1 + NONCE] = nonces
        whole[:, 1 + NONCE : width - TAG] = cipher
        whole[:, width - TAG :] = x ^ stream[:, 0]
        keep = np.ones((m, width), dtype=bool)
        keep[:, 1 + NONCE : width - TAG] = inside
        return whole[keep], length + 1 + NONCE + TAG


def padded(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(n, 16·k) uint8 of a binary array's values, zero-padded to the longest one's whole blocks,
    and the values' lengths."""
    n = len(array)
    _, offsets, data = array.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32)[array.offset : array.offset + n + 1].astype(np.int64)
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    length = np.diff(starts)
    width = (int(length.max()) + BLOCK - 1) // BLOCK * BLOCK if n else 0
    out = np.zeros((n, width), dtype=np.uint8)
    if not n or not width:
        return out, length
    change = np.flatnonzero(length[1:] != length[:-1]) + 1
    if len(change) < _RUNS:
        # Runs of values of one length (usually one run: ID numbers, phones) copy as matrices.
        bounds = [0, *change.tolist(), n]
        for first, end in zip(bounds, bounds[1:], strict=False):
            size = int(length[first])
            if size:
                out[first:end, :size] = data[starts[first] : starts[end]].reshape(end - first, size)
        return out, length
    where = np.repeat(np.arange(n, dtype=np.int64) * width - starts[:-1], length)
    where += np.arange(starts[0], starts[-1])
    out.reshape(-1)[where] = data[starts[0] : starts[-1]]
    return out, length


@lru_cache(maxsize=4)
def column_cipher(key: bytes) -> ColumnCipher:
    """One ColumnCipher per key (building its tables takes some milliseconds)."""
    return ColumnCipher(key)
