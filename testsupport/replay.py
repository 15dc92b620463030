"""What the tests expect of a replay, in plain Python over the sensor CSV (no pipeline code), and
readers of what the streaming queries record: their checkpoints (offsets, commits, the file
source's log) and their Delta tables (history and versions, read with deltalake)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from deltalake import DeltaTable

from testsupport import oracle

SLICE_FILE = re.compile(r"sensor_(\d{8}T\d{4})_(\d+)m\.csv")


def event_time(row: dict) -> datetime:
    month, day, year = (int(part) for part in row["date"].split("/"))
    hour, minute = (int(part) for part in row["time"].split(":"))
    return datetime(2000 + year, month, day, hour, minute)


@dataclass
class Replay:
    """The sensor rows cut into slices of span minutes from midnight of the first day, as the drops cut them."""

    rows: list[dict]
    span: int
    origin: datetime = field(init=False)
    slices: dict[int, list[dict]] = field(init=False)

    def __post_init__(self) -> None:
        self.origin = min(map(event_time, self.rows)).replace(hour=0, minute=0)
        self.slices = defaultdict(list)
        for row in self.rows:
            self.slices[(event_time(row) - self.origin) // timedelta(minutes=self.span)].append(row)

    @classmethod
    def of(cls, sensor_file: Path, span: int) -> Replay:
        return cls(oracle.readings(sensor_file), span)

    @property
    def count(self) -> int:
        return max(self.slices) + 1

    def with_alerts(self) -> list[int]:
        return [index for index in sorted(self.slices) if oracle.alerts(self.slices[index])]

    def index_of(self, file_name: str) -> int:
        match = SLICE_FILE.fullmatch(file_name)
        if not match or int(match.group(2)) != self.span:
            raise ValueError(f"{file_name}: not a {self.span}-minute slice file")
        start = datetime.strptime(match.group(1), "%Y%m%dT%H%M")
        return (start - self.origin) // timedelta(minutes=self.span)

    def rows_of(self, indices) -> list[dict]:
        return [row for index in sorted(set(indices)) for row in self.slices.get(index, [])]


def local_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def log_entries(folder: Path) -> dict[int, list[dict]]:
    """A Spark metadata log folder (a checkpoint's offsets, a file source's sources/0):
    {batch id: its JSON entries}. Files are `N` or `N.compact`, a version line then one entry per line."""
    out: dict[int, list[dict]] = {}
    if not folder.is_dir():
        return out
    for path in folder.iterdir():
        match = re.fullmatch(r"(\d+)(\.compact)?", path.name)
        if match:
            lines = path.read_text().splitlines()[1:]
            out[int(match.group(1))] = [json.loads(line) for line in lines if line.strip()]
    return out


def committed(checkpoint: Path) -> list[int]:
    """Batch ids a streaming query has committed, in order."""
    folder = checkpoint / "commits"
    return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.is_dir() else []


@dataclass
class Query:
    """One streaming query of the pipeline as its checkpoint and its Delta table record it."""

    checkpoint: Path
    table: Path

    def batches(self) -> list[int]:
        return committed(self.checkpoint)

    def inputs(self) -> dict[int, list[Path]]:
        """Files each batch read (a file source's log: the alert query's)."""
        return {b: [local_path(e["path"]) for e in es] for b, es in log_entries(self.checkpoint / "sources/0").items()}

    def source_versions(self) -> dict[int, int]:
        """Per batch, the last version of its Delta source table it has read (the enrichment's: the alerts).
        The batch's end offset (version V, index -1) is the start of V: everything before V was read."""
        out = {}
        for batch, entries in log_entries(self.checkpoint / "offsets").items():
            offset = entries[-1]  # after the batch's metadata line: the one source's offset
            out[batch] = offset["reservoirVersion"] - (1 if offset["index"] == -1 else 0)
        return out

    def versions(self) -> dict[int, int]:
        """Per committed batch, the table version it left (-1: no table yet). A Delta commit does not
        record the batch that wrote it, but a batch writes before its checkpoint commit and the next
        one after it: the version is the last whose commit time is not later than the batch's commit."""
        history = DeltaTable(str(self.table)).history() if DeltaTable.is_deltatable(str(self.table)) else []
        out = {}
        for batch in self.batches():
            done_ms = (self.checkpoint / "commits" / str(batch)).stat().st_mtime_ns // 1_000_000
            out[batch] = max((h["version"] for h in history if h["timestamp"] <= done_ms), default=-1)
        return out

    def rows(self, version: int, columns) -> list[tuple]:
        """The table's rows at a version (-1: none), sorted."""
        if version < 0:
            return []
        table = DeltaTable(str(self.table), version=version).to_pyarrow_table(columns=list(columns))
        return sorted((tuple(row[c] for c in columns) for row in table.to_pylist()), key=repr)

    def added(self, columns) -> dict[int, list[tuple]]:
        """Rows each committed batch added: the rows of its version less those of the batch before."""
        out, before = {}, Counter()
        for batch, version in sorted(self.versions().items()):
            now = Counter(self.rows(version, columns))
            out[batch] = sorted((now - before).elements(), key=repr)
            before = now
        return out
