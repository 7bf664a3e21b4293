"""The duplicate index's journal: the changes saved since its snapshot, one record a save.

    records, end = read_records(path, offset)    # complete records from byte `offset` on
    end = append_record(path, offset, added, removed)

A record is one line, `<crc32 of the JSON, 8 hex digits> <JSON>\\n`, the JSON being
{"added": [ids], "removed": [ids]}. The ids' signatures are not in the record: they are in
items/<id>.npz, written before it. A line without its newline or whose checksum does not
match is a record torn by a crash mid-write; it and anything after it count as not
written, and the next append overwrites them.

Only one process writes (vision.index_store holds a Redis lock around every save); it
checks that nothing complete lies past the offset its memory reflects before it
truncates a torn tail, so a stale writer is refused rather than overwriting records it
has not seen.
"""
from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from foundation.errors import Conflict
from foundation.files import fsync_directory


@dataclass(frozen=True, slots=True)
class Record:
    added: tuple[int, ...]
    removed: tuple[int, ...]

    @property
    def size(self) -> int:
        """How many ids the record names: what the journal's bound counts."""
        return len(self.added) + len(self.removed)


def final_states(records: list[Record]) -> dict[int, bool]:
    """Each id the records name, and whether it is in the index after the last of them
    (True: added, perhaps replaced; False: removed)."""
    final: dict[int, bool] = {}
    for record in records:
        final.update(dict.fromkeys(record.removed, False))
        final.update(dict.fromkeys(record.added, True))
    return final


def encode(record: Record) -> bytes:
    body = json.dumps({"added": list(record.added), "removed": list(record.removed)},
                      separators=(",", ":")).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def read_records(path: Path, offset: int = 0) -> tuple[list[Record], int]:
    """The complete records from byte `offset` on, and the offset just past the last one.
    A missing journal is an empty one."""
    try:
        with open(path, "rb") as journal:
            journal.seek(offset)
            data = journal.read()
    except FileNotFoundError:
        return [], offset
    records, position = [], 0
    while True:
        newline = data.find(b"\n", position)
        if newline < 0:
            break
        record = _decoded(data[position:newline])
        if record is None:
            break
        records.append(record)
        position = newline + 1
    return records, offset + position


def _decoded(line: bytes) -> Record | None:
    """The record on `line`, or None when the line is torn or damaged."""
    checksum, _, body = line.partition(b" ")
    try:
        if int(checksum, 16) != zlib.crc32(body):
            return None
        fields = json.loads(body)
        return Record(tuple(int(i) for i in fields["added"]),
                      tuple(int(i) for i in fields["removed"]))
    except (ValueError, KeyError, TypeError):
        return None


def append_record(path: Path, offset: int, record: Record) -> int:
    """Write `record` at `offset` (the end of the journal the writer's memory reflects),
    flushed to disk; returns the new end. Refused (index_stale) when complete records
    already lie past `offset`: another writer saved, and this one has not seen it."""
    newer, _ = read_records(path, offset)
    if newer:
        raise Conflict("Another writer extended the duplicate index's journal; refresh "
                       "the index before saving.", code="index_stale")
    created = not path.exists()
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.ftruncate(descriptor, offset)    # drops a torn record a crash left behind
        line = encode(record)
        os.pwrite(descriptor, line, offset)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        fsync_directory(path.parent)
    return offset + len(line)
