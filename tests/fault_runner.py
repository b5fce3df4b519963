"""`renovation` as a subprocess of the fault-injection tests, with the GX service forced on or off
(``FAULT_TEST_SERVICE`` = 1 / 0): the service path is otherwise taken from 60 files on."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines import cli, ingest  # noqa: E402

if os.environ.get("FAULT_TEST_SERVICE") in ("0", "1"):
    forced = os.environ["FAULT_TEST_SERVICE"] == "1"
    ingest._use_service = lambda files: forced

if __name__ == "__main__":
    raise SystemExit(cli.main(sys.argv[1:]))
