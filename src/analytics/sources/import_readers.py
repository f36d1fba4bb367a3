"""Reading import files in chunks: CSV (optionally gzipped) with pyarrow's streaming reader, and Parquet.

A reader never holds a whole file: CSV is read block by block and Parquet batch by batch, into chunks of about
:data:`CHUNK_ROWS` rows. CSV cells arrive as text (an empty cell is missing); Parquet columns keep their types.
Problems with the file as a whole become :class:`~analytics.errors.ImportFileError`; a file that is not UTF-8
is located to its line and byte so the user can find the offending character.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from analytics.errors import ImportFileError

__all__ = ["CHUNK_ROWS", "FORMATS", "OpenedFile", "open_table_file", "read_csv_header"]

CHUNK_ROWS = 100_000
FORMATS = (".csv", ".csv.gz", ".parquet")
_BLOCK = 8 << 20
_INTS = {t: pd.Int64Dtype() for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16())}
_TYPES: dict[Any, Any] = {**_INTS, pa.uint32(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


@dataclass
class OpenedFile:
    """A file ready to stream: its column names, its chunks, and how far reading has got (for progress bars)."""

    columns: list[str]
    chunks: Iterator[pd.DataFrame]
    total: int
    unit: str
    position: Callable[[], int]


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary file (the progress of a streaming reader)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_text_bytes(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _locate_bad_utf8(path: Path) -> str:
    """Where the first byte that is not UTF-8 is: line, byte offset and the offending bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    lines = 1
    line_start = 0
    with _open_text_bytes(path) as stream:
        while block := stream.read(1 << 20):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                data = decoder.getstate()[0] + block if pending else block
                where = offset - pending + exc.start
                before = data[: exc.start]
                newlines = before.count(b"\n")
                if newlines:
                    line_start = offset - pending + before.rfind(b"\n") + 1
                bad = data[exc.start : exc.end].hex(" ")
                return f"line {lines + newlines}, byte {where} (byte {where - line_start + 1} of that line): 0x{bad}"
            newlines = block.count(b"\n")
            if newlines:
                lines += newlines
                line_start = offset + block.rfind(b"\n") + 1
            offset += len(block)
    return "an unknown position"


def _not_utf8(path: Path, name: str) -> ImportFileError:
    return ImportFileError(
        f"is not UTF-8 text: the first bad byte is at {_locate_bad_utf8(path)}; "
        "save the file as UTF-8 (in Excel: 'CSV UTF-8') and import it again",
        file=name,
    )


def read_csv_header(path: Path, *, name: str) -> list[str]:
    """The column names on the first line of a CSV file (``.csv`` or ``.csv.gz``).

    Raises
    ------
    ImportFileError
        The file cannot be read, is not UTF-8 or has no header.
    """
    try:
        with _open_text_bytes(path) as stream:
            head = stream.read(1 << 16)
            more = bool(stream.read(1))
    except (OSError, EOFError) as exc:
        raise ImportFileError(f"cannot be read ({exc}); check the path and that .gz files are gzip", file=name) from exc
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=not more)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, name) from exc
    header = next(csv.reader(io.StringIO(text)), [])
    if not [h for h in header if h.strip()]:
        raise ImportFileError(
            "the file is empty (no header row); the first line must name the columns, e.g. account_id,id,…",
            file=name,
        )
    return header


def _open_csv(path: Path, name: str) -> OpenedFile:
    header = read_csv_header(path, name=name)
    counter = _CountingReader(path.open("rb"))
    stream: Any = gzip.GzipFile(fileobj=counter) if path.name.lower().endswith(".gz") else io.BufferedReader(counter)

    def fail(exc: Exception) -> ImportFileError:
        counter.close()
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            return _not_utf8(path, name)
        return ImportFileError(f"is not valid CSV: {exc}; fix the line or re-export the file", file=name)

    try:
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(block_size=_BLOCK),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise fail(exc) from exc

    def chunks() -> Iterator[pd.DataFrame]:
        pending: list[pa.RecordBatch] = []
        rows = 0
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (pa.ArrowInvalid, OSError, EOFError) as exc:
                    raise fail(exc) from exc
                pending.append(batch)
                rows += batch.num_rows
                if rows >= CHUNK_ROWS:
                    yield pa.Table.from_batches(pending).to_pandas()
                    pending, rows = [], 0
            if pending:
                yield pa.Table.from_batches(pending).to_pandas()
        finally:
            counter.close()

    return OpenedFile(
        columns=list(reader.schema.names),
        chunks=chunks(),
        total=path.stat().st_size,
        unit="B",
        position=lambda: counter.count,
    )


def _open_parquet(path: Path, name: str) -> OpenedFile:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ImportFileError(
            f"is not a readable Parquet file ({exc}); re-export it, or export CSV instead", file=name
        ) from exc
    done = [0]

    def chunks() -> Iterator[pd.DataFrame]:
        try:
            for batch in parquet.iter_batches(batch_size=CHUNK_ROWS):
                done[0] += batch.num_rows
                yield batch.to_pandas(types_mapper=_TYPES.get)
        except (pa.ArrowException, OSError) as exc:
            raise ImportFileError(f"is not a readable Parquet file ({exc}); re-export it", file=name) from exc
        finally:
            parquet.close()

    return OpenedFile(
        columns=list(parquet.schema_arrow.names),
        chunks=chunks(),
        total=parquet.metadata.num_rows,
        unit="rows",
        position=lambda: done[0],
    )


def open_table_file(path: Path, *, name: str) -> OpenedFile:
    """Open a ``.csv``, ``.csv.gz`` or ``.parquet`` file for streaming (``name`` is used in messages).

    Raises
    ------
    ImportFileError
        Unknown extension, missing or empty file, not UTF-8, unreadable Parquet.
    """
    lower = path.name.lower()
    if not lower.endswith(FORMATS):
        raise ImportFileError(f"unknown file type; use one of {', '.join(FORMATS)}", file=name)
    if not path.is_file():
        raise ImportFileError("does not exist or is not a file; check the path", file=name)
    if path.stat().st_size == 0:
        raise ImportFileError("the file is empty (0 bytes); export it again with a header row", file=name)
    if lower.endswith(".parquet"):
        return _open_parquet(path, name)
    return _open_csv(path, name)
