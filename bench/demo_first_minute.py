"""The jobs a worker ran in the first minute of its log, by task.

    python -m bench.demo_first_minute instance/demo-logs/worker.log

Reads the `rq.worker` lines `make demo`'s worker writes (one per job started) from the
log's first timestamp to 60 s later.
"""
from __future__ import annotations

import argparse
import collections
import re
from datetime import datetime, timedelta

STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ ")
STARTED = re.compile(r"rq\.worker: Worker \w+: \w+: ([\w.]+) \(")


def first_minute(lines: list[str], seconds: int = 60) -> tuple[int, collections.Counter]:
    start, done, started = None, 0, collections.Counter()
    for line in lines:
        stamp = STAMP.match(line)
        if not stamp:
            continue
        at = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S")
        start = start or at
        if at - start > timedelta(seconds=seconds):
            break
        task = STARTED.search(line)
        if task:
            started[task.group(1)] += 1
        done += "Job OK" in line
    return done, started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    with open(args.log) as log:
        done, started = first_minute(log.read().splitlines(), args.seconds)
    print(f"jobs finished in the first {args.seconds} s: {done}")
    for name, count in started.most_common():
        print(f"  {count:5d} {name}")


if __name__ == "__main__":
    main()
