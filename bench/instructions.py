"""CPU instructions per request, counted by valgrind's callgrind.

A request rate depends on the machine and on whatever else shares it: on a
shared virtual machine the same server's rate can differ by half from one
minute to the next. The number of instructions a request costs does not: it
changes only when the code (or the interpreter) does, and repeats to within
about 0.1%. It leaves out the kernel's share (the socket system calls) and
how fast each instruction runs, so it measures the Python side of a request:
what a change to mockstripe's code adds or saves.

The server runs under `valgrind --tool=callgrind` (30 to 100 times slower),
is warmed up, has its counters zeroed, answers an exact number of requests
from a closed loop of keep-alive connections, and dumps the count.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from load import Request
from servers import Server

WARMUP = 200
MEASURED = 500
CONNECTIONS = 32


@dataclass
class Counted:
    """A server started under callgrind, whose counters can be zeroed and read."""

    server: Server
    out: Path

    @classmethod
    def wrap(cls, server: Server, scratch: Path) -> Counted:
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            raise FileNotFoundError("valgrind is not installed")
        out = scratch / f"callgrind-{server.name}-{server.port}.out"
        inner = server.command
        server.command = lambda port: [
            valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", *inner(port)
        ]
        return cls(server, out)

    def zero(self) -> None:
        subprocess.run(["callgrind_control", "-z", str(self.server.pid)], capture_output=True, check=True)

    def dumped(self, label: str) -> int:
        """The instructions counted since the last `zero`, from a dump of them."""
        before = set(self.out.parent.glob(self.out.name + ".*"))
        subprocess.run(["callgrind_control", f"--dump={label}", str(self.server.pid)], capture_output=True, check=True)
        (dump,) = set(self.out.parent.glob(self.out.name + ".*")) - before
        match = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
        if match is None:
            raise RuntimeError(f"no instruction total in {dump}")
        return int(match.group(1))

    def per_request(self, req: Request, label: str) -> float:
        asyncio.run(send(self.server.port, req, WARMUP))
        self.zero()
        asyncio.run(send(self.server.port, req, MEASURED))
        return self.dumped(label) / MEASURED


async def send(port: int, req: Request, count: int) -> None:
    """Exactly `count` requests over CONNECTIONS keep-alive connections, each waiting for its answer."""
    body = (req.body or "").encode()
    head = [f"{req.method} {req.path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in req.headers.items())]
    if req.body is not None:
        head.append(f"Content-Length: {len(body)}")
    wire = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    left = count

    async def connection() -> None:
        nonlocal left
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left > 0:
                left -= 1
                writer.write(wire)
                status_and_headers = await reader.readuntil(b"\r\n\r\n")
                if not status_and_headers.startswith(b"HTTP/1.1 2"):
                    raise RuntimeError(f"{req.method} {req.path}: {status_and_headers.splitlines()[0]!r}")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", status_and_headers)
                if length is None:
                    raise RuntimeError(f"{req.method} {req.path}: an answer without Content-Length")
                await reader.readexactly(int(length.group(1)))
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
