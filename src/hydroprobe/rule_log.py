"""Send a rule script's output to its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path


@contextlib.contextmanager
def rule_log(log_path: str | Path):
    """Route stdout, stderr and `logging` of a rule script into `log_path`.

    An exception is logged as its one-line message (with its type) before it propagates, so
    the log names the file, basin or key at fault and Snakemake marks the job failed.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as log_file:
        handler = logging.StreamHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(log_file), contextlib.redirect_stderr(log_file):
                yield logging.getLogger("hydroprobe")
        except Exception as err:
            log_file.write(f"ERROR {type(err).__name__}: {err}\n")
            print(f"ERROR {type(err).__name__}: {err}", file=sys.stderr)
            raise
        finally:
            root.removeHandler(handler)
