"""Send a rule script's output to its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from hydroprobe.errors import InputDataError
from hydroprobe.io import OutputWriteError


@contextlib.contextmanager
def rule_log(log_path: str | Path):
    """Route stdout, stderr and `logging` of a rule script into `log_path`.

    An exception is logged as its one-line message (with its type), so the log names the file,
    basin or key at fault and Snakemake marks the job failed. Bad input (`InputDataError`) and an
    output the machine cannot take (`OutputWriteError`: a full disk, a folder without write
    permission) then exit with status 1 and no traceback; any other exception propagates with
    its traceback.
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
        except (InputDataError, OutputWriteError) as err:
            # bad input or a full disk, not a bug: its one line in the log (the profiles'
            # show-failed-logs prints it on snakemake's stderr), no traceback and no second copy here
            log_file.write(f"ERROR {type(err).__name__}: {err}\n")
            raise SystemExit(1) from None
        except Exception as err:
            log_file.write(f"ERROR {type(err).__name__}: {err}\n")
            print(f"ERROR {type(err).__name__}: {err}", file=sys.stderr)
            raise
        finally:
            root.removeHandler(handler)
