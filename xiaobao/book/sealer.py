"""The stage writer: tokenises, masks and seals the personal values of a batch of rows and appends the
batch to the staging files (see staging.Stage).

It runs in a thread of the import, or, for the bulk pass, as a child process of its own
(`python -m xiaobao.book.sealer`): tokenising is a Python loop (one HMAC per distinct value) that
holds the GIL, so in a thread it would take turns with the import's own Python work (cell checks,
batching) instead of running beside it on another core; a process runs beside it. Tables without
personal columns have nothing to seal and stage through a thread (bulk.BulkPass.read).
The child reads one JSON line (table, batch, paths, the store and token keys) and then an Arrow IPC stream of
batches from its stdin, and says "ok <rows>" on stdout once the stream has ended properly. It imports
no Django and opens no database; when the import is killed its stdin closes and it exits.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xiaobao.book.personal import derive, seal_column
from xiaobao.book.schema import KEYS, SCHEMAS

# Column prefixes of the batches the child receives: row numbers, typed values, plain personal
# values and record keys (as sealed).
ROWS, VALUE, PLAIN, KEY = "r", "v:", "p:", "k"


def parquet_options(schema: pa.Schema) -> dict:
    from xiaobao.book.staging import parquet_options as options

    return options(schema)


class StageWriter:
    def __init__(
        self, *, table: str, batch_id: int, store_key: bytes, token_key: bytes, data: Path, rows: Path
    ) -> None:
        self.table = table
        self.token_key = token_key
        self.schema = SCHEMAS[table]
        self.key = KEYS[table]
        self.batch_id = batch_id
        self.store_key = store_key
        self.rows_schema = pa.schema(
            [pa.field("_row", pa.int64()), *(self.schema.field(k) for k in self.key)]
        )
        self._data = pq.ParquetWriter(data, self.schema, **parquet_options(self.schema))
        self._rows = pq.ParquetWriter(rows, self.rows_schema, compression="lz4")
        self.count = 0

    def write(
        self, rows: pa.Array, values: dict[str, pa.Array], plain: dict[str, pa.Array], keys: pa.Array
    ) -> None:
        """Tokenise, mask and seal the plain personal values, and append the rows."""
        n = len(rows)
        columns: dict[str, pa.Array] = dict(values)
        if plain:
            columns.update(derive(self.table, plain, self.token_key))
        for name, array in plain.items():
            columns[f"{name}_enc"] = seal_column(self.table, name, array, keys, key=self.store_key)
        columns["_batch"] = pa.array(np.full(n, self.batch_id, dtype=np.int64))
        arrays = []
        for f in self.schema:
            array = columns.get(f.name)
            if array is None:
                array = pa.nulls(n, f.type)
            elif not array.type.equals(f.type):
                array = array.cast(f.type)
            arrays.append(array)
        self._data.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema), row_group_size=n)
        self._rows.write_batch(
            pa.RecordBatch.from_arrays(
                [rows.cast(pa.int64()), *(columns[k].cast(self.schema.field(k).type) for k in self.key)],
                schema=self.rows_schema,
            )
        )
        self.count += n

    def write_packed(self, batch: pa.RecordBatch) -> None:
        """A batch as the child receives it (the prefixed columns of pack())."""
        parts: dict[str, dict[str, pa.Array]] = {VALUE: {}, PLAIN: {}}
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            for prefix, bucket in parts.items():
                if name.startswith(prefix):
                    bucket[name[len(prefix) :]] = column
        self.write(batch.column(ROWS), parts[VALUE], parts[PLAIN], batch.column(KEY))

    def close(self) -> None:
        self._data.close()
        self._rows.close()


def pack(
    rows: pa.Array, values: dict[str, pa.Array], plain: dict[str, pa.Array], keys: pa.Array, schema: pa.Schema
) -> pa.RecordBatch:
    """One batch for the child: every part as prefixed columns, with types fixed by the table schema."""
    names = [ROWS, KEY]
    arrays = [rows.cast(pa.int64()), keys.cast(pa.string())]
    for name, array in values.items():
        names.append(VALUE + name)
        arrays.append(array.cast(schema.field(name).type))
    for name, array in plain.items():
        names.append(PLAIN + name)
        arrays.append(array.cast(pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def main() -> None:
    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    writer = StageWriter(
        table=header["table"],
        batch_id=header["batch"],
        store_key=bytes.fromhex(header["key"]),
        token_key=bytes.fromhex(header["token_key"]),
        data=Path(header["data"]),
        rows=Path(header["rows"]),
    )
    if stdin.peek(1):  # nothing at all: the import had fewer batches than sealers
        with pa.ipc.open_stream(stdin) as stream:
            for batch in stream:
                writer.write_packed(batch)
    writer.close()
    sys.stdout.write(f"ok {writer.count}\n")


if __name__ == "__main__":
    main()
