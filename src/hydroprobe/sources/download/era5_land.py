"""Download ERA5-Land probe targets from the Copernicus Climate Data Store (new CDS, cdsapi >= 0.7).

Two modes, one Snakemake job per variable x year:

* ``hourly`` - ``reanalysis-era5-land``, one request per variable x month, all 24 hours (what
  Lees et al. 2022 did), each averaged to UTC daily means with :func:`hourly_to_daily`; a job
  makes its year's 12 requests one after another (:func:`download_hourly_year`) and keeps the
  finished months, so a failure re-requests only the months still missing;
* ``daily`` - ``derived-era5-land-daily-statistics``, one request per variable x year, daily
  means computed by the CDS (far less data to transfer).

Requests carry only the fields of the dataset's CDS form (`FORM_FIELDS`).

Credentials are read as cdsapi reads them: ``CDSAPI_URL``/``CDSAPI_KEY``, else ``~/.cdsapirc``
(or the file named by ``CDSAPI_RC``). The new CDS key is the personal access token; a legacy
``UID:KEY`` key is refused before any request, because cdsapi would silently send it to the
decommissioned old API. The key is never written to a log line or error message: every text
that may contain it goes through :func:`redact`, and the log handlers filter it while a
request runs.

One retry policy (`RetryPolicy`, from ``era5_land.download``): the client's own retries are
switched off (``retry_max=1``), so every failure reaches :func:`retrieve` at once, is logged,
and is retried there only if it is transient, with bounded, doubling waits.

Files are written under a temporary name beside the target and moved into place
(`hydroprobe.io.atomic_output`) only once they open with xarray and hold the expected variable.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import logging
import os
import re
import shutil
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output, write_netcdf_atomic
from hydroprobe.sources.download.transfer import unzip_single_netcdf
from hydroprobe.sources.era5_land import daily_means

LOG = logging.getLogger(__name__)

SHORT_NAMES = {
    "swvl1": "volumetric_soil_water_layer_1",
    "swvl2": "volumetric_soil_water_layer_2",
    "swvl3": "volumetric_soil_water_layer_3",
    "swvl4": "volumetric_soil_water_layer_4",
    "sd": "snow_depth_water_equivalent",
}
CDS_NAMES = {v: k for k, v in SHORT_NAMES.items()}

# Lees et al. (2022) request box, [North, West, South, East] in degrees.
PAPER_AREA = [58.64, -7.57, 49.96, 1.68]

HOURLY_DATASET = "reanalysis-era5-land"
DAILY_DATASET = "derived-era5-land-daily-statistics"

# The fields of each dataset's CDS download form ("Show API request" on the dataset page).
# Neither ERA5-Land form has a product_type (ERA5 single levels has one); the daily
# statistics are computed on retrieval and always come as NetCDF, so that form has no format.
FORM_FIELDS = {
    HOURLY_DATASET: ("variable", "year", "month", "day", "time", "area", "data_format", "download_format"),
    DAILY_DATASET: ("variable", "year", "month", "day", "daily_statistic", "time_zone", "frequency", "area"),
}

NEW_CDS_URL = "https://cds.climate.copernicus.eu/api"
CONFIG_HINT = (
    f"put 'url: {NEW_CDS_URL}' and 'key: <personal access token>' in "
    "~/.cdsapirc (or the file named by CDSAPI_RC), or set CDSAPI_URL and CDSAPI_KEY"
)


class CdsRequestError(InputDataError):
    """The CDS refused a request or it could not be completed; one line, never the key."""


# --------------------------------------------------------------------------- requests


def _short_name(short_name: str) -> str:
    if short_name not in SHORT_NAMES:
        raise InputDataError(
            f"ERA5-Land variable {short_name!r} not supported (choose from {', '.join(SHORT_NAMES)})"
        )
    return short_name


def build_request(
    short_name: str,
    year: int,
    month: int | None = None,
    mode: str = "hourly",
    area: list[float] | tuple[float, ...] = PAPER_AREA,
) -> tuple[str, dict[str, Any]]:
    """``(dataset, request)`` for one variable x one month (hourly) or x one year (daily).

    ``area`` is ``[North, West, South, East]``. Hourly requests list only the real days of
    the month (28 or 29 for February).
    """
    _short_name(short_name)
    year = int(year)
    area = [float(a) for a in area]
    if len(area) != 4:
        raise InputDataError(f"ERA5-Land area must be [North, West, South, East], got {area}")
    common = {"variable": [SHORT_NAMES[short_name]], "year": f"{year:04d}"}
    if mode == "hourly":
        if month is None or not 1 <= int(month) <= 12:
            raise InputDataError(f"hourly ERA5-Land request needs a month 1-12, got {month!r}")
        month = int(month)
        n_days = calendar.monthrange(year, month)[1]
        request = {
            **common,
            "month": f"{month:02d}",
            "day": [f"{d:02d}" for d in range(1, n_days + 1)],
            "time": [f"{h:02d}:00" for h in range(24)],
            "area": area,
            "data_format": "netcdf",
            "download_format": "unarchived",
        }
        dataset = HOURLY_DATASET
    elif mode == "daily":
        if month is not None:
            raise InputDataError("daily ERA5-Land requests cover a whole year: leave month out")
        request = {
            **common,
            "month": [f"{m:02d}" for m in range(1, 13)],
            "day": [f"{d:02d}" for d in range(1, 32)],
            "daily_statistic": "daily_mean",
            "time_zone": "utc+00:00",
            "frequency": "1_hourly",
            "area": area,
        }
        dataset = DAILY_DATASET
    else:
        raise InputDataError(f"ERA5-Land download mode {mode!r} unknown (choose hourly or daily)")
    assert set(request) <= set(FORM_FIELDS[dataset]), "request field outside the dataset's CDS form"
    return dataset, request


def describe_request(dataset: str, request: dict[str, Any]) -> str:
    """``'swvl1 2000-02 (reanalysis-era5-land)'``: the variable, year and month of a request."""
    variable = request.get("variable")
    if isinstance(variable, (list, tuple)):
        variable = ",".join(CDS_NAMES.get(v, v) for v in variable)
    month = request.get("month")
    when = str(request.get("year", "?")) + (f"-{month}" if isinstance(month, str) else "")
    return f"{variable} {when} ({dataset})"


# --------------------------------------------------------------------------- credentials


def redact(text: Any, key: str | None) -> str:
    """``text`` as a string with the CDS key (and, for a legacy ``UID:KEY``, its secret part) masked."""
    text = str(text)
    if not key:
        return text
    secrets = {key}
    if ":" in key:
        secrets.add(key.split(":", 1)[1])
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _one_line(text: Any) -> str:
    return " | ".join(part.strip() for part in str(text).splitlines() if part.strip())


class _RedactKey(logging.Filter):
    """Masks the key in every record a handler emits (third-party loggers included)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.key in message or (":" in self.key and self.key.split(":", 1)[1] in message):
            record.msg, record.args = redact(message, self.key), None
        return True


@contextlib.contextmanager
def _key_kept_out_of_logs(key: str | None) -> Iterator[None]:
    """While a request runs: the key filtered from every handler of the root logger, and
    Python warnings (the CDS client warns with server messages) logged here, redacted."""
    handlers = list(logging.getLogger().handlers)
    key_filter = _RedactKey(key) if key else None
    for handler in handlers if key_filter else ():
        handler.addFilter(key_filter)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        for handler in handlers if key_filter else ():
            handler.removeFilter(key_filter)
        for warning in caught:
            LOG.warning("CDS client warning: %s", redact(_one_line(warning.message), key))


def _log_callback(level: int, key: str | None) -> Callable[..., None]:
    def callback(msg: Any = "", *args: Any, **kwargs: Any) -> None:
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = " ".join(str(a) for a in (msg, *args))
        LOG.log(level, "CDS: %s", redact(text, key))

    return callback


def read_credentials() -> tuple[str, str, str]:
    """``(url, key, where)`` read exactly as cdsapi reads them (``CDSAPI_URL``/``CDSAPI_KEY``,
    else ``~/.cdsapirc`` or ``CDSAPI_RC``); ``where`` names the source for messages.

    A legacy ``UID:KEY`` key, or the old ``/api/v2`` url, is refused here with the fix: cdsapi
    would route such a key to the decommissioned old API, whose failure says nothing useful.
    """
    from cdsapi.api import get_url_key_verify

    rc = os.environ.get("CDSAPI_RC", os.path.expanduser("~/.cdsapirc"))
    try:
        url, key, _ = get_url_key_verify(None, None, None)
    except Exception:  # cdsapi raises a bare Exception naming only the file
        url = key = None
    if not url or not key:
        raise CdsRequestError(
            f"CDS credentials missing or incomplete in {rc} and CDSAPI_URL/CDSAPI_KEY: {CONFIG_HINT}"
        )
    where = "CDSAPI_KEY" if os.environ.get("CDSAPI_KEY") else rc
    if ":" in key:
        raise CdsRequestError(
            f"the CDS key in {where} is a legacy 'UID:KEY' key, which cdsapi sends to the "
            f"decommissioned old CDS API: use the personal access token from your CDS profile "
            f"(no 'UID:' prefix) and url {NEW_CDS_URL}"
        )
    if re.search(r"/api/v2/?$", url):
        url_from = "CDSAPI_URL" if os.environ.get("CDSAPI_URL") else rc
        raise CdsRequestError(
            f"the CDS url {url} in {url_from} is the decommissioned old API: use {NEW_CDS_URL}"
        )
    return url, key, where


def make_client(timeout_s: float, poll_max_s: float) -> Any:
    """A ``cdsapi.Client`` for the new CDS with its own retries off (`retrieve` retries).

    ``timeout_s`` bounds each HTTP call; ``poll_max_s`` is the longest wait between two polls
    of a queued job's status. The client's log messages go, redacted, to this module's logger
    (cdsapi's own debug line would otherwise print the key); no progress bar in the logs.
    """
    import cdsapi

    url, key, where = read_credentials()
    callbacks = {
        "info_callback": _log_callback(logging.INFO, key),
        "warning_callback": _log_callback(logging.WARNING, key),
        "error_callback": _log_callback(logging.ERROR, key),
        "debug_callback": _log_callback(logging.DEBUG, key),
    }
    try:
        with _key_kept_out_of_logs(key):
            # retry_max=1: multiurl makes one try and no sleep, so a wrong url or a dead
            # service fails in seconds instead of after the client's own minutes of retries.
            return cdsapi.Client(
                url=url,
                key=key,
                quiet=True,
                progress=False,
                retry_max=1,
                sleep_max=poll_max_s,
                timeout=timeout_s,
                **callbacks,
            )
    except Exception as err:
        raise CdsRequestError(
            f"cannot create CDS client from {where} ({url}): {redact(_one_line(err), key)}"
        ) from None


# --------------------------------------------------------------------------- retrieval


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; before try k+1 a wait of ``backoff_s * 2**(k-1)``, at most
    ``backoff_max_s``, so a request waits at most `max_wait_s` in all (queue time aside)."""

    attempts: int
    backoff_s: float
    backoff_max_s: float

    def delays(self) -> list[float]:
        return [min(self.backoff_s * 2**k, self.backoff_max_s) for k in range(max(1, self.attempts) - 1)]

    @property
    def max_wait_s(self) -> float:
        return float(sum(self.delays()))


# The CDS accepts a job, then rejects it when the user already has too many queued for that
# dataset: HTTP 400 on the job's results, "The job has been rejected | Number queued requests
# for this dataset is temporarily limited. Please configure your scripts accordingly".
_QUEUE_LIMITED = re.compile(r"queued requests.*temporarily limited", re.IGNORECASE)
# Transfers cut short: the client's size check, multiurl's, urllib3's.
_TRUNCATED = re.compile(r"downloaded \d+ byte\(s\) out of|size mismatch|IncompleteRead", re.IGNORECASE)


def _http_status(err: BaseException) -> int | None:
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(err, "status_code", None) or getattr(err, "status", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def is_transient(err: BaseException) -> bool:
    """Whether retrying ``err`` later may succeed: HTTP 408/429/5xx, the CDS's per-user queue
    limit (a 400), connection failures, timeouts and truncated transfers. Anything else (bad
    request, cost limit, licence, authentication, a job that failed on the server) is not."""
    import requests

    status = _http_status(err)
    text = str(err)
    if status is not None:
        return status in (408, 429) or 500 <= status < 600 or bool(_QUEUE_LIMITED.search(text))
    if isinstance(
        err, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
    ):
        return True
    if isinstance(err, (ConnectionError, TimeoutError)):
        return True
    return bool(_TRUNCATED.search(text) or _QUEUE_LIMITED.search(text))


def _failure_text(err: BaseException, key: str | None) -> str:
    """One redacted line for ``err``; a connection failure is told by its host and cause."""
    import requests

    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return redact(f"download cut short ({_one_line(err)[:200]})", key)
    if isinstance(err, requests.ConnectionError) and not isinstance(err, requests.Timeout):
        request = getattr(err, "request", None)
        host = re.match(r"https?://[^/]+", getattr(request, "url", "") or "")
        cause = re.search(r"\[Errno -?\d+\][^'\")]*", str(err))
        where = host.group(0) if host else "the CDS"
        return redact(f"cannot connect to {where}: {cause.group(0) if cause else _one_line(err)[:200]}", key)
    message = redact(_one_line(err), key)
    status = _http_status(err)
    return f"HTTP {status}: {message}" if status and str(status) not in message else message


def check_netcdf(path: str | os.PathLike, variable: str, label: str | None = None) -> None:
    """Raise `CdsRequestError` unless ``path`` opens with xarray and holds ``variable`` with a time axis."""
    path = Path(path)
    label = label or str(path)
    try:
        with xr.open_dataset(path) as ds:
            if variable not in ds.data_vars:
                raise CdsRequestError(
                    f"{label}: downloaded file lacks variable {variable!r} (has {', '.join(map(str, ds.data_vars)) or 'none'})"
                )
            da = ds[variable]
            if not ({"valid_time", "time"} & set(da.dims)):
                raise CdsRequestError(
                    f"{label}: {variable} has no time/valid_time dimension (dims {da.dims})"
                )
            da.load()  # reads every chunk: a truncated file fails here
    except CdsRequestError:
        raise
    except Exception as err:
        raise CdsRequestError(
            f"{label}: downloaded file is not readable NetCDF ({_one_line(err)[:200]})"
        ) from None


def retrieve(
    client: Any,
    dataset: str,
    request: dict[str, Any],
    target: str | os.PathLike,
    policy: RetryPolicy,
    sleep: Callable[[float], Any] = time.sleep,
    variable: str | None = None,
) -> Path:
    """Run ``client.retrieve(dataset, request, tmp)`` and move the checked file to ``target``.

    Each failure is logged at once (redacted). Transient ones (`is_transient`, or a file that
    does not open) are retried as ``policy`` says; a permanent one raises `CdsRequestError` at
    once with the CDS's message. Every error is one line naming the request (variable, year,
    month). ``variable`` is the NetCDF short name expected in the file (default: from the
    request). Nothing is ever left at ``target`` unless complete and readable; a partial
    transfer is deleted with its temporary name.
    """
    target = Path(target)
    key = getattr(client, "key", None)
    if variable is None:
        requested = request.get("variable")
        requested = (
            requested[0] if isinstance(requested, (list, tuple)) and len(requested) == 1 else requested
        )
        variable = CDS_NAMES.get(requested, requested) if isinstance(requested, str) else None
    if not variable:
        raise InputDataError(f"{target}: cannot tell which variable to expect; pass variable=")
    target.parent.mkdir(parents=True, exist_ok=True)
    what = describe_request(dataset, request)
    delays = policy.delays()
    attempts = len(delays) + 1
    for attempt in range(1, attempts + 1):
        try:
            with _key_kept_out_of_logs(key), atomic_output(target) as tmp:
                try:
                    client.retrieve(dataset, request, str(tmp))
                finally:
                    # multiurl streams into '<tmp>.download' first: never leave it behind
                    Path(f"{tmp}.download").unlink(missing_ok=True)
                if not tmp.is_file():
                    raise CdsRequestError(f"CDS {what}: the client returned without writing a file")
                if zipfile.is_zipfile(tmp):
                    unzip_single_netcdf(tmp)
                check_netcdf(tmp, variable, label=f"CDS {what}")
            return target
        except InputDataError as err:
            failure = redact(_one_line(err), key)
            # an unreadable file is most often a transfer cut short: worth another try
            if "not readable" not in failure:
                raise CdsRequestError(failure) from None
        except Exception as err:  # the network layer raises many types
            failure = _failure_text(err, key)
            if not is_transient(err):
                raise CdsRequestError(f"CDS refused {what}: {failure}{_hint(err)}") from None
        if attempt == attempts:
            raise CdsRequestError(f"CDS {what} still failing after {attempts} attempts: {failure}") from None
        LOG.warning(
            "CDS %s: attempt %d/%d failed (%s); retrying in %.3g s",
            what,
            attempt,
            attempts,
            failure,
            delays[attempt - 1],
        )
        sleep(delays[attempt - 1])
    raise AssertionError("unreachable")  # pragma: no cover


def _hint(err: BaseException) -> str:
    """What the user can do about a permanent refusal, where the status says it."""
    status = _http_status(err)
    if status == 401:
        return f" (check the personal access token: {CONFIG_HINT})"
    if status == 403 and re.search(r"licen[cs]e|terms|polic", str(err), re.IGNORECASE):
        return " (accept the dataset's licence once on its CDS page, tab 'Download')"
    return ""


def download(
    short_name: str,
    year: int,
    month: int | None,
    target: str | os.PathLike,
    mode: str,
    area: list[float] | tuple[float, ...],
    policy: RetryPolicy,
    timeout_s: float,
    poll_max_s: float,
    sleep: Callable[[float], Any] = time.sleep,
) -> Path:
    """One ERA5-Land request (variable x month, or x year in ``daily`` mode) from the CDS to
    ``target``: the request built from the dataset's form, the client, the retries."""
    dataset, request = build_request(short_name, year, month, mode=mode, area=area)
    LOG.info(
        "CDS %s, area %s; up to %d attempts, %.0f s of waits at most",
        describe_request(dataset, request),
        request["area"],
        len(policy.delays()) + 1,
        policy.max_wait_s,
    )
    client = make_client(timeout_s=timeout_s, poll_max_s=poll_max_s)
    return retrieve(client, dataset, request, target, policy, sleep=sleep, variable=short_name)


def download_hourly_year(
    short_name: str,
    year: int,
    targets: list[str | os.PathLike],
    work_dir: str | os.PathLike,
    area: list[float] | tuple[float, ...],
    policy: RetryPolicy,
    timeout_s: float,
    poll_max_s: float,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[Path]:
    """One variable-year in hourly mode: its 12 monthly CDS requests one after another (each a
    `download`), each month averaged to UTC daily means (`hourly_to_daily`), written to
    ``targets`` (January to December).

    Finished months are kept in ``work_dir`` until the whole year is in place: Snakemake deletes
    a failed job's outputs, so a job stopped after 8 months finds those 8 there on its rerun and
    requests only the other 4. A raw hourly month is deleted once its daily means are written
    (it is ~30 times larger). ``work_dir`` remembers the ``area`` it was filled for; another area
    starts it afresh. The targets appear only once all 12 months are done, and ``work_dir`` is
    then removed.
    """
    targets = [Path(t) for t in targets]
    if len(targets) != 12:
        raise InputDataError(
            f"{short_name} {year}: an hourly-mode year needs 12 monthly targets, got {len(targets)}"
        )
    work_dir = Path(work_dir)
    _start_work_dir(work_dir, area)
    kept = [work_dir / target.name for target in targets]
    for month, (daily, target) in enumerate(zip(kept, targets, strict=True), start=1):
        if _readable(daily, short_name):
            LOG.info("%s %d-%02d: daily means kept from an earlier run (%s)", short_name, year, month, daily)
            continue
        hourly = work_dir / f"hourly_{target.name}"
        if not _readable(hourly, short_name):  # a run stopped while averaging left it whole
            download(short_name, year, month, hourly, "hourly", area, policy, timeout_s, poll_max_s, sleep)
        hourly_to_daily(hourly, daily)
        hourly.unlink()
    for daily, target in zip(kept, targets, strict=True):
        with atomic_output(target) as tmp:
            try:
                os.link(daily, tmp)  # no second copy on disk
            except OSError:
                shutil.copy2(daily, tmp)
    shutil.rmtree(work_dir)
    return targets


_WORK_AREA = "area.json"


def _start_work_dir(work_dir: Path, area: list[float] | tuple[float, ...]) -> None:
    """Make ``work_dir`` ready for ``area``: months kept for another area are removed."""
    area = [float(a) for a in area]
    marker = work_dir / _WORK_AREA
    if marker.is_file() and json.loads(marker.read_text()) != area:
        LOG.info("%s: months kept there are of another area, requesting them again", work_dir)
        shutil.rmtree(work_dir)
    if not marker.is_file():
        work_dir.mkdir(parents=True, exist_ok=True)
        with atomic_output(marker) as tmp:
            tmp.write_text(json.dumps(area))


def _readable(path: Path, variable: str) -> bool:
    """Whether ``path`` is a whole NetCDF file holding ``variable`` (an earlier run's month)."""
    if not path.is_file():
        return False
    try:
        check_netcdf(path, variable)
    except CdsRequestError as err:
        LOG.warning("%s; requesting that month again", err)
        path.unlink()
        return False
    return True


# --------------------------------------------------------------------------- hourly -> daily


def hourly_to_daily(path_in: str | os.PathLike, path_out: str | os.PathLike) -> Path:
    """The UTC daily means (`hydroprobe.sources.era5_land.daily_means`, incomplete days NaN) of
    the variables of an hourly ERA5-Land file, written as NetCDF.

    The time dimension keeps its name (``valid_time`` for new-CDS files, ``time`` for legacy
    ones), stamped at 00 UTC, encoded as seconds since 1970-01-01; latitude/longitude, scalar
    coordinates (``number``), dtypes and attributes are kept, the per-time ``expver`` is dropped.
    Accumulated variables (``tp``, ``pev``, ...) are refused.
    """
    path_in = Path(path_in)
    try:
        ds = xr.open_dataset(path_in)
    except Exception as err:
        raise InputDataError(f"{path_in}: cannot open as NetCDF ({_one_line(err)[:200]})") from None
    with ds:
        tdim = next((d for d in ("valid_time", "time") if d in ds.dims), None)
        if tdim is None:
            raise InputDataError(f"{path_in}: no valid_time or time dimension")
        if not np.issubdtype(ds[tdim].dtype, np.datetime64):
            raise InputDataError(f"{path_in}: {tdim} is not decodable to dates")
        timed = [v for v in ds.data_vars if tdim in ds[v].dims]
        try:
            daily = xr.Dataset({v: daily_means(ds[v], tdim) for v in timed}, attrs=ds.attrs)
        except InputDataError as err:
            raise InputDataError(f"{path_in}: {err}") from None
        for v in timed:
            if np.issubdtype(ds[v].dtype, np.floating):
                daily[v] = daily[v].astype(ds[v].dtype)
            daily[v].attrs = dict(ds[v].attrs)
        daily.attrs["history"] = (
            str(ds.attrs.get("history", "")) + "\nhydroprobe: UTC daily mean of hourly values"
        ).strip()
        daily[tdim].attrs = {k: v for k, v in ds[tdim].attrs.items() if k not in ("units", "calendar")}
        encoding = {
            tdim: {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian", "dtype": "int64"}
        }
        for v in timed:
            encoding[v] = {"zlib": True, "complevel": 4}
        daily = daily.load()
    return write_netcdf_atomic(daily, path_out, encoding=encoding, engine="netcdf4")
