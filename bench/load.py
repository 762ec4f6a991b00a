"""The load driver: a small non-blocking HTTP/1.1 client, run as its own process.

    python bench/load.py < spec.json > result.json

The spec names the server, the requests to cycle through (raw bytes, base64),
the status every answer must have, how many connections to keep busy and for
how long (after a warm-up). gunicorn's sync workers close the connection
after each answer, so every request opens a new one.

It is a plain `selectors` loop over non-blocking sockets rather than asyncio:
a request then costs the driver a few tens of microseconds, so one or two of
these processes keep the server busy without taking much of the machine.

With ``per_worker`` each connection slot sends its own request (one writer
each), with ``QQQQQQ`` replaced by a running number; with
``record_location`` the Location header of every answer is kept, so the
caller can check afterwards that each acknowledged write is stored.

The result holds the number of answers, errors (a wrong status, a refused or
broken connection), each answer's latency, and this process's CPU time, so
the caller can check that the driver was not the bottleneck.
"""

from __future__ import annotations

import base64
import json
import re
import selectors
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

COUNTER = b"QQQQQQ"  # survives URL encoding; replaced by a six-digit number per request
STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


@dataclass
class Slot:
    index: int
    sent: int = 0
    n: int = 0  # requests this slot has started
    began: float = 0.0
    request: bytes = b""
    chunks: list[bytes] = field(default_factory=list)
    sock: socket.socket | None = None


class Driver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.addr = (spec["host"], spec["port"])
        self.requests = [base64.b64decode(r) for r in spec["requests"]]
        self.expect = spec["expect"]
        self.own = spec.get("per_worker", False)
        self.record = spec.get("record_location", False)
        self.sel = selectors.DefaultSelector()
        self.next = 0
        self.measuring_from = 0.0
        self.out: dict[str, Any] = {"errors": 0, "latencies": [], "locations": [], "samples": []}

    def start(self, slot: Slot) -> None:
        slot.n += 1
        if self.own:
            slot.request = self.requests[slot.index].replace(COUNTER, f"{slot.n:06d}".encode())
        else:
            slot.request = self.requests[self.next % len(self.requests)]
            self.next += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        slot.sock, slot.sent, slot.chunks = sock, 0, []
        slot.began = time.perf_counter()
        sock.connect_ex(self.addr)
        self.sel.register(sock, selectors.EVENT_WRITE, slot)

    def close(self, slot: Slot) -> None:
        assert slot.sock is not None
        self.sel.unregister(slot.sock)
        slot.sock.close()
        slot.sock = None

    def fail(self, slot: Slot, why: str) -> None:
        self.close(slot)
        if slot.began >= self.measuring_from:
            self.out["errors"] += 1
            if len(self.out["samples"]) < 3:
                self.out["samples"].append(why)

    def finish(self, slot: Slot) -> None:
        self.close(slot)
        data = b"".join(slot.chunks)
        match = STATUS.match(data)
        status = int(match.group(1)) if match else 0
        if status != self.expect:
            self.out["errors"] += slot.began >= self.measuring_from
            if len(self.out["samples"]) < 3:
                self.out["samples"].append(data[:300].decode("latin-1"))
            return
        if self.record:
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            for line in head.split("\r\n"):
                if line.lower().startswith("location:"):
                    where = line.split(":", 1)[1].strip()
                    self.out["locations"].append([slot.index, slot.n, where] if self.own else where)
        if slot.began >= self.measuring_from:
            self.out["latencies"].append(time.perf_counter() - slot.began)

    def step(self, slot: Slot, events: int) -> bool:
        """Advance one connection; True when its exchange is over."""
        sock = slot.sock
        assert sock is not None
        try:
            if events & selectors.EVENT_WRITE:
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    self.fail(slot, f"connect error {error}")
                    return True
                slot.sent += sock.send(slot.request[slot.sent :])
                if slot.sent == len(slot.request):
                    self.sel.modify(sock, selectors.EVENT_READ, slot)
                return False
            data = sock.recv(65536)
        except OSError as exc:
            self.fail(slot, f"{type(exc).__name__}")
            return True
        if data:
            slot.chunks.append(data)
            return False
        self.finish(slot)
        return True

    def run(self, concurrency: int, warmup: float, duration: float) -> dict[str, Any]:
        began = time.perf_counter()
        self.measuring_from = began + warmup
        deadline = self.measuring_from + duration
        cpu0 = 0.0
        warm = warmup == 0
        if warm:
            cpu0 = time.process_time()
        slots = [Slot(i) for i in range(concurrency)]
        for slot in slots:
            self.start(slot)
        active = concurrency
        while active:
            now = time.perf_counter()
            if not warm and now >= self.measuring_from:
                warm, cpu0 = True, time.process_time()
            for key, events in self.sel.select(timeout=0.5):
                slot = key.data
                if self.step(slot, events):
                    if time.perf_counter() < deadline:
                        self.start(slot)
                    else:
                        active -= 1
        self.out["elapsed"] = time.perf_counter() - self.measuring_from
        self.out["cpu"] = time.process_time() - cpu0
        return self.out


def run(spec: dict[str, Any]) -> dict[str, Any]:
    driver = Driver(spec)
    return driver.run(spec["concurrency"], spec.get("warmup", 0.0), spec["duration"])


def main() -> int:
    spec = json.load(sys.stdin)
    json.dump(run(spec), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
