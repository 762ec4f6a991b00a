"""The load driver: an asyncio HTTP/1.1 client, run as its own process.

    python bench/load.py < spec.json > result.json

The spec names the server, the requests to cycle through (raw bytes, base64),
the status every answer must have, how many connections to keep busy and for
how long. gunicorn's sync workers close the connection after each answer, so
every request opens a new one, as browsers behind a proxy would see it.

With ``per_worker`` each connection slot sends its own request (one writer
each), with ``QQQQQQ`` replaced by a running number; with
``record_location`` the Location header of every answer is kept, so the
caller can check afterwards that each acknowledged write is stored.

The result holds the number of answers, errors (a wrong status, a refused or
broken connection), each answer's latency, and this process's CPU time, so
the caller can check that the driver was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sys
import time
from typing import Any

COUNTER = b"QQQQQQ"  # (survives URL encoding) replaced by a six-digit number in per-worker requests
STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


async def _one(host: str, port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    match = STATUS.match(data)
    return (int(match.group(1)) if match else 0), data


async def _worker(
    spec: dict[str, Any], requests: list[bytes], start: int, deadline: float, out: dict[str, Any]
) -> None:
    host, port, expect = spec["host"], spec["port"], spec["expect"]
    record = spec.get("record_location", False)
    own = spec.get("per_worker", False)  # each worker its own request, numbered
    i = start
    n = 0
    while time.perf_counter() < deadline:
        if own:
            n += 1
            request = requests[start].replace(COUNTER, f"{n:06d}".encode())
        else:
            request = requests[i % len(requests)]
        i += 1
        began = time.perf_counter()
        try:
            status, data = await _one(host, port, request)
        except OSError:
            out["errors"] += 1
            continue
        took = time.perf_counter() - began
        if status != expect:
            out["errors"] += 1
            if len(out["samples"]) < 3:
                out["samples"].append(data[:300].decode("latin-1"))
            continue
        out["latencies"].append(took)
        if record:
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            for line in head.split("\r\n"):
                if line.lower().startswith("location:"):
                    where = line.split(":", 1)[1].strip()
                    out["locations"].append([start, n, where] if own else where)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    requests = [base64.b64decode(r) for r in spec["requests"]]
    out: dict[str, Any] = {"errors": 0, "latencies": [], "locations": [], "samples": []}
    cpu0 = time.process_time()
    warm_until = time.perf_counter() + spec.get("warmup", 0.0)
    if spec.get("warmup", 0.0) > 0:
        scratch: dict[str, Any] = {"errors": 0, "latencies": [], "locations": [], "samples": []}
        await asyncio.gather(
            *(_worker(spec, requests, n, warm_until, scratch) for n in range(spec["concurrency"]))
        )
        out["warmup_answers"] = len(scratch["latencies"])
        out["locations"].extend(scratch["locations"])
    cpu0 = time.process_time()
    began = time.perf_counter()
    deadline = began + spec["duration"]
    await asyncio.gather(
        *(_worker(spec, requests, n, deadline, out) for n in range(spec["concurrency"]))
    )
    out["elapsed"] = time.perf_counter() - began
    out["cpu"] = time.process_time() - cpu0
    return out


def main() -> int:
    spec = json.load(sys.stdin)
    json.dump(asyncio.run(run(spec)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
