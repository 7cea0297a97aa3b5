"""The `mockstripe` command with event recording switched off: the bench's baseline for what
recording events costs. Measurement tooling only; the server itself has no such switch."""

from __future__ import annotations

import sys

from mockstripe.cli import main
from mockstripe.domain.events import Events


def _record_nothing(self: Events, change: object) -> None:
    pass


Events.__call__ = _record_nothing  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
