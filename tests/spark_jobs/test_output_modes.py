"""The three output modes: two files dropped one after another, a run after each; what the sink
receives after each micro-batch, against the same tables computed in plain Python."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from pyspark.sql import functions as F

from spark_jobs import output_modes

THRESHOLD = 0.5
WINDOW = timedelta(hours=1)
WATERMARK = timedelta(minutes=30)
# resid,date,time,hz,disp,flow,sedPPM,psi,chlPPM; psi < 0.5 is an alert
FILES = [
    [
        "P1,3/10/14,0:05,10,1.7,880,1.5,0.1,1.9",
        "P1,3/10/14,0:35,10,1.7,880,1.5,0.2,1.9",
        "P2,3/10/14,0:50,10,1.7,880,1.5,0.3,1.9",
        "P3,3/10/14,0:15,10,1.7,880,1.5,0.4,1.9",
        "P4,3/10/14,0:20,10,1.7,880,1.5,0.2,1.9",
        "P1,3/10/14,1:10,10,1.7,880,1.5,0.4,1.9",
        "P2,3/10/14,1:40,10,1.7,880,1.5,80,1.9",  # no alert, but it moves the watermark
        "P1,3/11/14,0:10,not a reading",  # not a reading: no part of any mode's table
    ],
    [
        "P2,3/10/14,1:05,10,1.7,880,1.5,0.1,1.9",  # older than the watermark (1:10), but its window is open
        "P1,3/10/14,1:50,10,1.7,880,1.5,0.2,1.9",
        "P1,3/10/14,2:30,10,1.7,880,1.5,0.3,1.9",  # its window stays open: never appended
        "P3,3/10/14,0:40,10,1.7,880,1.5,0.1,1.9",  # too late for append: its window was written
        "P2,3/10/14,2:45,10,1.7,880,1.5,90,1.9",
    ],
]


def readings(lines: list[str]) -> list[tuple[str, str, datetime, float]]:
    """(resid, date, time, psi) of each whole reading."""
    out = []
    for line in lines:
        fields = line.split(",")
        if len(fields) == 9:
            time = datetime.strptime(f"{fields[1]} {fields[2]}", "%m/%d/%y %H:%M")
            out.append((fields[0], fields[1], time, float(fields[7])))
    return out


def expected_complete_and_update() -> tuple[list[list[tuple]], list[list[tuple]]]:
    """Per file: the whole table of alerts per (resid, date), and its rows that the file changed."""
    totals: Counter = Counter()
    complete, update = [], []
    for lines in FILES:
        changed = {(resid, date) for resid, date, _, psi in readings(lines) if psi < THRESHOLD}
        totals.update((resid, date) for resid, date, _, psi in readings(lines) if psi < THRESHOLD)
        complete.append(sorted((*key, n) for key, n in totals.items()))
        update.append(sorted((*key, totals[key]) for key in changed))
    return complete, update


def expected_append() -> list[list[tuple]]:
    """Per file: the (resid, window) counts that its run finalizes. A window is written once the
    watermark (latest reading time - WATERMARK) reaches its end; an alert of a window that is
    already past the watermark when its file is read is dropped."""
    counts: Counter = Counter()
    watermark, latest, written, out = None, None, set(), []
    for lines in FILES:
        rows = readings(lines)
        for resid, _, time, psi in rows:
            start = time.replace(minute=0)  # WINDOW: one hour
            if psi < THRESHOLD and (watermark is None or start + WINDOW > watermark):
                counts[(resid, start)] += 1
        latest = max([t for _, _, t, _ in rows] + ([latest] if latest else []))
        watermark = latest - WATERMARK
        final = sorted(key for key in counts if key[1] + WINDOW <= watermark and key not in written)
        written.update(final)
        out.append([(resid, stamp(start), stamp(start + WINDOW), counts[(resid, start)]) for resid, start in final])
    return out


def stamp(time: datetime) -> str:
    return f"{time:%Y-%m-%d %H:%M:%S}"


def batches_written(spark, output, checkpoint) -> dict[int, list[tuple]]:
    """The rows each micro-batch wrote (the job's Delta table, by its batch_id column), by batch id;
    every batch the query committed (its checkpoint's commits/N files) is there, with no rows or some."""
    ids = {int(path.name) for path in (checkpoint / "commits").iterdir() if path.name.isdigit()}
    df = spark.read.format("delta").load(str(output))
    df = df.select(*[F.col(c).cast("string") if c.startswith("window_") else c for c in df.columns])
    columns = [c for c in df.columns if c != output_modes.BATCH_COLUMN]
    rows = {batch_id: [] for batch_id in ids}
    for row in df.collect():
        rows[row[output_modes.BATCH_COLUMN]].append(tuple(row[c] for c in columns))
    return {batch_id: sorted(found) for batch_id, found in sorted(rows.items())}


def run_after_each_file(spark, tmp_path, mode: str) -> list[list[list[tuple]]]:
    """Drop each file, run the job; per file, the rows of each micro-batch its run wrote."""
    output, checkpoint, seen, per_file = tmp_path / "output", tmp_path / "checkpoint", set(), []
    for index, lines in enumerate(FILES):
        source = tmp_path / "stream" / f"sensor_{index}.csv"
        source.parent.mkdir(exist_ok=True)
        source.write_text("".join(f"{line}\n" for line in lines))
        args = {"--mode": mode, "--source": source.parent, "--output": output, "--checkpoint": checkpoint}
        args.update({"--threshold": THRESHOLD, "--window": "1 hour", "--watermark": "30 minutes"})
        assert output_modes.main([str(item) for pair in args.items() for item in pair]) == 0
        batches = batches_written(spark, output, checkpoint)
        per_file.append([rows for batch_id, rows in batches.items() if batch_id not in seen])
        seen.update(batches)
    return per_file


def test_complete_writes_the_whole_table_after_each_batch(spark, tmp_path):
    complete, _ = expected_complete_and_update()
    assert run_after_each_file(spark, tmp_path, "complete") == [[table] for table in complete]


def test_update_writes_only_the_rows_each_batch_changed(spark, tmp_path):
    complete, update = expected_complete_and_update()
    assert run_after_each_file(spark, tmp_path, "update") == [[rows] for rows in update]
    assert update[1] != complete[1]  # P4 has no new alert in the second file: not written again


def test_append_writes_each_window_once_when_the_watermark_passes_it(spark, tmp_path):
    """The batch that reads a file writes nothing: the watermark it moves applies from the next
    batch, which Spark runs at once without new data, and which writes the finalized windows."""
    expected = expected_append()
    assert run_after_each_file(spark, tmp_path, "append") == [[[], windows] for windows in expected]
    # by hand: P3's alert at 0:40 comes too late; P1's at 2:30 is in a window still open
    first, second = ("2014-03-10 00:00:00", "2014-03-10 01:00:00"), ("2014-03-10 01:00:00", "2014-03-10 02:00:00")
    assert expected == [
        [("P1", *first, 2), ("P2", *first, 1), ("P3", *first, 1), ("P4", *first, 1)],
        [("P1", *second, 2), ("P2", *second, 1)],
    ]
