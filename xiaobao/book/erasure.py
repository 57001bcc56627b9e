"""Erasing one person from the Parquet store, in every version (the current one and those snapshots keep).

The store's ciphertext is under one store key, so it cannot be crypto-shredded per person like the
database's (xiaobao.privacy: one data key per subject). Instead every version's files are rewritten,
each atomically (scratch file, fsync, os.replace), with the person's personal columns replaced:
- `<col>_enc` → null (the ciphertext is gone),
- `<col>_masked` → "已删除",
- `<col>_token` → a pseudonym "erased:…", a hash of the old token under a random salt of this erasure:
  the same old token gets the same pseudonym, so distinct counts (insured persons, policyholders) and
  every statistic stay as they were, but nothing links the rows to the person or to other data any more.
Which rows are the person's: policies whose applicant or insured has the person's ID-number token (or,
without an ID number, the same name and phone tokens); the surrenders of the policies they hold and
any surrender paid into their account. Every other column is left untouched.
"""

import hashlib
import os
import secrets
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaobao.book import store
from xiaobao.book.schema import PERSONAL, SCHEMAS

ERASED = "已删除"


def _pseudonyms(column: pa.ChunkedArray, mask: pa.ChunkedArray, salt: bytes) -> pa.ChunkedArray:
    """The column with each token under the mask replaced by its pseudonym (columnar: only the few
    distinct tokens being erased are hashed)."""
    erased = pc.unique(pc.drop_null(pc.filter(column, mask)))
    pseudonyms = pa.array(
        ["erased:" + hashlib.sha256(salt + token.encode()).hexdigest()[:32] for token in erased.to_pylist()],
        pa.string(),
    )
    replaced = pc.take(pseudonyms, pc.index_in(column, value_set=erased))
    return pc.if_else(pc.and_(mask, pc.is_valid(replaced)), replaced, column)


def _blank(data: pa.Table, columns: list[str], mask: pa.ChunkedArray, salt: bytes) -> pa.Table:
    for column in columns:
        if f"{column}_token" not in data.schema.names:
            continue  # a version older than the column (surrenders.contact_address): nothing to erase
        for suffix, replacement in (("_enc", None), ("_masked", ERASED)):
            name = column + suffix
            index = data.schema.get_field_index(name)
            field = data.schema.field(name)
            blank = pa.scalar(replacement, field.type)
            data = data.set_column(index, field, pc.if_else(mask, blank, data.column(name)))
        name = f"{column}_token"
        index = data.schema.get_field_index(name)
        data = data.set_column(index, data.schema.field(name), _pseudonyms(data.column(name), mask, salt))
    return data


def _is_in(data: pa.Table, column: str, tokens: set[str]) -> pa.ChunkedArray:
    tokens = {token for token in tokens if token}  # a blank token is nobody: it must match nothing
    return pc.fill_null(pc.is_in(data.column(column), pa.array(sorted(tokens), pa.string())), False)


def _rewrite(path: Path, data: pa.Table) -> None:
    scratch = path.with_name(f".erase-{uuid.uuid4().hex}.parquet")
    try:
        pq.write_table(data.cast(pq.read_schema(path)), scratch, compression="zstd")
        with open(scratch, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


def _policies_of(tokens: dict[str, str]) -> set[str]:
    """The policy numbers (in any version) whose applicant is the person."""
    held: set[str] = set()
    for version in store.versions("policies"):
        for part in sorted((store.table_dir("policies") / version).glob("*.parquet")):
            data = pq.read_table(
                part,
                columns=[
                    "policy_no",
                    "applicant_id_no_token",
                    "applicant_name_token",
                    "applicant_phone_token",
                ],
            )
            held.update(pc.filter(data.column("policy_no"), _applicant(data, tokens)).to_pylist())
    return held


def _applicant(data: pa.Table, tokens: dict[str, str]) -> pa.ChunkedArray:
    if tokens.get("id_no"):
        return _is_in(data, "applicant_id_no_token", {tokens["id_no"]})
    if tokens.get("name") and tokens.get("phone"):
        return pc.and_(
            _is_in(data, "applicant_name_token", {tokens["name"]}),
            _is_in(data, "applicant_phone_token", {tokens["phone"]}),
        )
    return _is_in(data, "applicant_id_no_token", set())  # nothing to know them by: no rows


def store_erase(tokens: dict[str, str]) -> dict[str, int]:
    """Erase the person with these tokens ({"id_no", "name", "phone", "account"}: any may be blank) from
    every version of the store. Returns {table: rows changed in the current version}."""
    salt = secrets.token_bytes(16)
    held = _policies_of(tokens)
    changed = {table: 0 for table in SCHEMAS if PERSONAL[table]}
    for table in changed:
        current = store.current_version(table)
        for version in store.versions(table):
            for part in sorted((store.table_dir(table) / version).glob("*.parquet")):
                data = pq.read_table(part)
                if table == "policies":
                    applicant = _applicant(data, tokens)
                    insured = _is_in(data, "insured_id_no_token", {tokens.get("id_no")})
                    hits = pc.sum(pc.or_(applicant, insured)).as_py() or 0
                    if not hits:
                        continue
                    data = _blank(
                        data, ["applicant_name", "applicant_id_no", "applicant_phone"], applicant, salt
                    )
                    data = _blank(data, ["insured_id_no"], insured, salt)
                else:
                    mine = pc.or_(
                        _is_in(data, "policy_no", held),
                        _is_in(data, "payee_account_token", {tokens.get("account")}),
                    )
                    hits = pc.sum(mine).as_py() or 0
                    if not hits:
                        continue
                    data = _blank(data, list(PERSONAL[table]), mine, salt)
                _rewrite(part, data)
                if version == current:
                    changed[table] += hits
    return changed
