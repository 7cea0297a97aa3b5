"""Run the cURL calls of `guide.sh` with the real `curl`, as a person following the guide would.

Each call runs as written; only the host (`$STRIPE_API`) is swapped for the server's URL and each
`{{PLACEHOLDER}}` is filled from an earlier response: `{{METER_ID}}` from the `billing.meter`,
`{{PRICE_ID}}` from the `price`, and so on (the last part of the `object` name, upper-cased, plus
`_ID`). `{{START_TIME}}`/`{{END_TIME}}` become the UTC day around the last meter event.

By hand, against a running server (this resets the guide's account first):

    STRIPE_API=http://127.0.0.1:12111 python -m conformance.curlflow
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).with_name("guide.sh")
HOST = "$STRIPE_API"
_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
DAY = 86_400


@dataclass(frozen=True)
class CurlCall:
    title: str  # the comment line above the call, e.g. "1. Create a meter"
    args: tuple[str, ...]  # the words after `curl`, as the shell would split them

    @property
    def api_key(self) -> str:
        """The secret key of `-u "sk_test_...:"`."""
        return self.args[self.args.index("-u") + 1].rstrip(":")


@dataclass(frozen=True)
class Reply:
    call: CurlCall
    command: tuple[str, ...]  # the call as run: `curl`, then its words with host and placeholders filled
    status: int
    body: Any


@dataclass
class Flow:
    """Placeholder values learned from the responses so far."""

    values: dict[str, str] = field(default_factory=dict)

    def fill(self, word: str, host: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.values:
                raise LookupError(f"no earlier response gave {{{{{name}}}}}")
            return self.values[name]

        if word.startswith(HOST):
            word = host + word[len(HOST) :]
        return _PLACEHOLDER.sub(value, word)

    def learn(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        kind, object_id = body.get("object"), body.get("id")
        if isinstance(kind, str) and isinstance(object_id, str):
            self.values[kind.rpartition(".")[2].upper() + "_ID"] = object_id
        if kind == "billing.meter_event":
            start = body["timestamp"] - body["timestamp"] % DAY
            self.values["START_TIME"], self.values["END_TIME"] = str(start), str(start + DAY)


def parse(text: str) -> list[CurlCall]:
    """The `curl` calls of a shell file, each titled by the comment just above it."""
    calls, title = [], ""
    for chunk in re.sub(r"\\\n", " ", text).splitlines():
        line = chunk.strip()
        if line.startswith("#"):
            title = line.lstrip("# ").strip()
        elif line.startswith("curl "):
            calls.append(CurlCall(title, tuple(shlex.split(line)[1:])))
    return calls


def run(calls: list[CurlCall], host: str, curl: str = "curl") -> list[Reply]:
    """Run the calls in order against `host`, filling placeholders from earlier responses.
    Stops after the first call that fails, since later ones need its id."""
    flow, replies = Flow(), []
    for call in calls:
        command = (curl, *(flow.fill(word, host) for word in call.args))
        # Output flags only: they change what curl prints (body, then the status), not the request.
        argv = [command[0], "--silent", "--show-error", "--write-out", "\n%{http_code}", *command[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
        text, _, status = done.stdout.rpartition("\n")
        body = json.loads(text) if text else None
        replies.append(Reply(call, command, int(status), body))
        if replies[-1].status != 200:
            break
        flow.learn(body)
    return replies


def reset_account(host: str, api_key: str) -> None:
    """Forget the account of `api_key` on a mockstripe server (the guide's key is the same every run)."""
    request = urllib.request.Request(f"{host}/_mock/reset", data=f"api_key={api_key}".encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def main() -> int:
    host = os.environ.get("STRIPE_API", "http://127.0.0.1:12111")
    calls = parse(GUIDE.read_text())
    reset_account(host, calls[0].api_key)
    replies = run(calls, host)
    for reply in replies:
        print(f"# {reply.call.title}\n$ {shlex.join(reply.command)}\n{reply.status} {json.dumps(reply.body, indent=2)}\n")
    return 0 if len(replies) == len(calls) and replies[-1].status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
