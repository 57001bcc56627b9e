"""The column cipher and the column tokens against their one-value originals: every sealed value is
byte for byte AESGCM.encrypt with the same nonce and opens with keys.open_sealed; every token is
personal_token of the value."""

import hashlib
import hmac
import os

import numpy as np
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaobao.book import gcm, personal
from xiaobao.privacy.keys import open_sealed, system_key
from xiaobao.privacy.services import personal_token

AWKWARD = [
    "",
    "a",
    "张",
    "0123456789abcde",  # 15 bytes
    "0123456789abcdef",  # one whole block
    "0123456789abcdefg",  # one byte into the next
    "张三 Ünïcödé ✓ 😀",
    "\x00\x01\x7f",
    "长" * 5000,  # 15,000 bytes
    "x" * 4096,
]


def _reference(key: bytes, values: list[bytes], aads: list[bytes], nonces: np.ndarray) -> list[bytes]:
    aead = AESGCM(key)
    return [
        b"\x01" + bytes(n) + aead.encrypt(bytes(n), v, a)
        for v, a, n in zip(values, aads, nonces, strict=True)
    ]


def _nonces(n: int) -> np.ndarray:
    return np.frombuffer(os.urandom(12 * n), dtype=np.uint8).reshape(n, 12)


def test_gf_multiplication_matches_the_gcm_specification_example():
    # SP 800-38D / the GCM paper, test case 2: H = AES_0(0), one zero block of ciphertext.
    h = 0x66E94BD4EF8A2C3B884CFA59CA342B2E
    c = 0x0388DACE60B6A392F328C2B971B2FE78
    assert gcm.gf_mul(c, h) == 0x5E2EC746917062882C85B0685353DEB7
    assert gcm.gf_mul(h, 1 << 127) == h  # 1 is the most significant bit in GCM's order


def test_sealing_equals_aesgcm_for_awkward_values_and_mixed_lengths():
    key = os.urandom(32)
    values = [v.encode() for v in AWKWARD] * 3
    aads = [os.urandom(size) for size in [0, 1, 15, 16, 17, 45, 64, 100, 3, 33] * 3]
    nonces = _nonces(len(values))

    sealed = gcm.column_cipher(key).seal(pa.array(values, pa.binary()), pa.array(aads, pa.binary()), nonces)

    assert sealed.to_pylist() == _reference(key, values, aads, nonces)
    for blob, value, aad in zip(sealed.to_pylist(), values, aads, strict=True):
        assert open_sealed(key, blob, aad) == value


def test_sealing_equals_aesgcm_for_one_shape_and_for_a_slice():
    key = os.urandom(32)
    values = [f"37010219{i:010d}".encode() for i in range(9000)]
    aads = [f"book:policies:applicant_id_no:{863701000000000 + i}".encode() for i in range(9000)]
    nonces = _nonces(9000)
    array, aad_array = pa.array(values, pa.binary()), pa.array(aads, pa.binary())

    sealed = gcm.column_cipher(key).seal(array, aad_array, nonces)
    part = gcm.column_cipher(key).seal(array.slice(4090, 100), aad_array.slice(4090, 100), nonces[4090:4190])

    assert sealed.to_pylist() == _reference(key, values, aads, nonces)
    assert part.to_pylist() == sealed.to_pylist()[4090:4190]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=80), st.binary(max_size=80)), min_size=1, max_size=60))
def test_sealing_equals_aesgcm_for_any_bytes(pairs):
    key = b"k" * 32
    values, aads = [v for v, _ in pairs], [a for _, a in pairs]
    nonces = _nonces(len(pairs))
    sealed = gcm.column_cipher(key).seal(pa.array(values, pa.binary()), pa.array(aads, pa.binary()), nonces)
    assert sealed.to_pylist() == _reference(key, values, aads, nonces)


@pytest.mark.django_db
def test_sealed_columns_open_with_the_record_key_only():
    values = pa.array([v or None for v in AWKWARD])
    keys = pa.array([f"P{i}" for i in range(len(AWKWARD))])

    sealed = personal.seal_column("surrenders", "contact_address", values, keys).to_pylist()

    assert sealed[0] is None
    for i, value in enumerate(AWKWARD[1:], start=1):
        assert personal.open_value("surrenders", "contact_address", f"P{i}", sealed[i]) == value
        with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
            personal.open_value("surrenders", "contact_address", f"P{i + 1}", sealed[i])


@pytest.mark.django_db
def test_column_tokens_equal_personal_token_for_awkward_values():
    key = system_key("token")
    values = [v for v in AWKWARD if v] + ["a|b", "'; DROP TABLE x; --", "ａｂｃ"]
    for kind in ("name", "phone", "id_no", "account"):
        tokens = personal.hmac_tokens(key, kind, pa.array(values)).to_pylist()
        # personal_token normalises first; the column gets values already normalised, so compare
        # with the HMAC of the value as given.
        assert tokens == [
            hmac.new(key, f"{kind}:{v}".encode(), hashlib.sha256).hexdigest()[:40] for v in values
        ]
    assert personal.hmac_tokens(key, "name", pa.array([], pa.string())).to_pylist() == []
    assert personal.hmac_tokens(key, "phone", pa.array(["13812345678"])).to_pylist() == [
        personal_token("phone", "13812345678")
    ]


@pytest.mark.django_db
def test_derive_gives_null_for_empty_and_missing_and_shares_one_token_per_value():
    plain = {
        "applicant_name": pa.array(["张三", "", None, "张三", "李四"]),
        "applicant_id_no": pa.array(["11010519491231002X", None, "", "370102198001010007", None]),
        "applicant_phone": pa.array([None, None, None, None, None], pa.string()),
        "insured_id_no": pa.array(["370102198001010007", "11010519491231002X", None, "", None]),
    }
    derived = personal.derive("policies", plain, system_key("token"))
    for column, kind in (
        ("applicant_name", "name"),
        ("applicant_id_no", "id_no"),
        ("applicant_phone", "phone"),
        ("insured_id_no", "id_no"),
    ):
        values = plain[column].to_pylist()
        assert derived[f"{column}_token"].to_pylist() == [
            personal_token(kind, v) if v else None for v in values
        ]
    assert derived["applicant_name_masked"].to_pylist() == ["张*", None, None, "张*", "李*"]


def test_a_batch_the_library_cannot_open_stops_the_sealing(monkeypatch):
    """seal_column opens a sample of every batch with cryptography's AESGCM: a wrong tag or wrong
    bytes from the column cipher is an error before anything is stored."""
    import pyarrow as pa

    from xiaobao.book import personal
    from xiaobao.book.gcm import ColumnCipher

    values = pa.array([f"张三{i}" for i in range(50)])
    record_keys = pa.array([f"P{i}" for i in range(50)])
    key = bytes(range(32))
    sealed = personal.seal_column("policies", "applicant_name", values, record_keys, key=key)
    assert len(sealed) == 50

    real = ColumnCipher.seal

    def flipped_tag(self, *args, **kwargs):
        out = real(self, *args, **kwargs).to_pylist()
        return pa.array([blob[:-1] + bytes([blob[-1] ^ 1]) for blob in out], pa.binary())

    monkeypatch.setattr(ColumnCipher, "seal", flipped_tag)
    with pytest.raises(RuntimeError, match="does not open"):
        personal.seal_column("policies", "applicant_name", values, record_keys, key=key)

    def other_bytes(self, values, aads, nonces, version=1):
        return real(self, pa.array(["李四"] * len(values)), aads, nonces, version)

    monkeypatch.setattr(ColumnCipher, "seal", other_bytes)
    with pytest.raises(RuntimeError, match="other bytes"):
        personal.seal_column("policies", "applicant_name", values, record_keys, key=key)
