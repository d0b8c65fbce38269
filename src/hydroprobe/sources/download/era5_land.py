"""Download ERA5-Land probe targets from the Copernicus Climate Data Store (new CDS, cdsapi >= 0.7).

Two modes, one request per Snakemake job so that a failure re-runs only that piece:

* ``hourly`` - ``reanalysis-era5-land``, one variable x one month, all 24 hours (what Lees et
  al. 2022 did, then averaged to UTC daily means with :func:`hourly_to_daily`);
* ``daily`` - ``derived-era5-land-daily-statistics``, one variable x one year, daily means
  computed by the CDS (far less data to transfer).

Credentials come from ``~/.cdsapirc`` (or the file named by ``CDSAPI_RC``) or the
``CDSAPI_URL``/``CDSAPI_KEY`` environment variables; the new CDS key is the personal access
token *without* the legacy ``UID:`` prefix. The dataset licences must be accepted once on
the dataset web pages. The key is never written to a log line or error message: every text
that may contain it goes through :func:`redact`.

Files are written under a temporary name beside the target and moved into place
(`hydroprobe.io.atomic_output`) only once they open with xarray and hold the expected variable.
"""

from __future__ import annotations

import calendar
import logging
import os
import re
import time
import zipfile
from collections.abc import Callable
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

CONFIG_HINT = (
    "put 'url: https://cds.climate.copernicus.eu/api' and 'key: <personal access token>' in "
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
    common = {
        "product_type": "reanalysis",
        "variable": [SHORT_NAMES[short_name]],
        "year": f"{year:04d}",
    }
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
        return HOURLY_DATASET, request
    if mode == "daily":
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
            "data_format": "netcdf",
            "download_format": "unarchived",
        }
        return DAILY_DATASET, request
    raise InputDataError(f"ERA5-Land download mode {mode!r} unknown (choose hourly or daily)")


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


def _one_line(text: str) -> str:
    return " | ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _log_callback(level: int, key: str | None) -> Callable[..., None]:
    def callback(msg: Any = "", *args: Any, **kwargs: Any) -> None:
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = " ".join(str(a) for a in (msg, *args))
        LOG.log(level, "CDS: %s", redact(text, key))

    return callback


def make_client(quiet: bool = True, retry_max: int = 5, sleep_max: float = 120, **kwargs: Any):
    """A ``cdsapi.Client`` from ``~/.cdsapirc`` / ``CDSAPI_RC`` or ``CDSAPI_URL`` + ``CDSAPI_KEY``.

    All of the client's log messages are routed, redacted, to this module's logger (cdsapi's
    own debug line would otherwise print the key). Missing credentials give one clear line.
    """
    import cdsapi
    from cdsapi.api import get_url_key_verify

    rc = os.environ.get("CDSAPI_RC", os.path.expanduser("~/.cdsapirc"))
    try:
        url, key, _ = get_url_key_verify(os.environ.get("CDSAPI_URL"), os.environ.get("CDSAPI_KEY"), None)
    except Exception:  # cdsapi raises a bare Exception naming only the file
        raise CdsRequestError(
            f"CDS credentials missing or incomplete in {rc} and CDSAPI_URL/CDSAPI_KEY: {CONFIG_HINT}"
        ) from None
    if not url or not key:
        raise CdsRequestError(
            f"CDS credentials missing or incomplete in {rc} and CDSAPI_URL/CDSAPI_KEY: {CONFIG_HINT}"
        )
    callbacks = {
        "info_callback": _log_callback(logging.INFO, key),
        "warning_callback": _log_callback(logging.WARNING, key),
        "error_callback": _log_callback(logging.ERROR, key),
        "debug_callback": _log_callback(logging.DEBUG, key),
    }
    try:
        return cdsapi.Client(
            url=url, key=key, quiet=quiet, retry_max=retry_max, sleep_max=sleep_max, **callbacks, **kwargs
        )
    except Exception as err:
        raise CdsRequestError(
            f"cannot create CDS client from {rc} / CDSAPI_URL, CDSAPI_KEY: {redact(_one_line(err), key)}"
        ) from None


# --------------------------------------------------------------------------- retrieval

_PERMANENT_PATTERNS = re.compile(
    r"too large|cost limit|reduce your selection|licen[cs]e|not accepted|terms|"
    r"unauthori[sz]ed|forbidden|authentication|invalid (api )?key|not found|"
    r"invalid request|bad request|no data|not available",
    re.IGNORECASE,
)
_TRANSIENT_PATTERNS = re.compile(
    r"\b429\b|rate limit|too many requests|\b50[0-9]\b|server error|service unavailable|"
    r"bad gateway|gateway time|temporar|try again|timed? ?out|connection|could not connect|"
    r"reset by peer|downloaded \d+ byte\(s\) out of|incomplete read",
    re.IGNORECASE,
)


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
    """Whether retrying ``err`` later may succeed (HTTP 429/5xx, connection drops, timeouts)."""
    status = _http_status(err)
    if status is not None:
        return status == 429 or status == 408 or 500 <= status < 600
    text = str(err)
    if _PERMANENT_PATTERNS.search(text):
        return False
    if isinstance(err, (ConnectionError, TimeoutError)):
        return True
    try:
        import requests

        if isinstance(err, (requests.ConnectionError, requests.Timeout)):
            return True
    except ImportError:  # pragma: no cover
        pass
    return bool(_TRANSIENT_PATTERNS.search(text))


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
    attempts: int = 5,
    backoff_s: float = 30,
    sleep: Callable[[float], Any] = time.sleep,
    variable: str | None = None,
) -> Path:
    """Run ``client.retrieve(dataset, request, tmp)`` and move the checked file to ``target``.

    Transient failures (HTTP 429/5xx, connection errors, timeouts, truncated transfers) are
    retried up to ``attempts`` times in all, sleeping ``backoff_s * 2**k`` between tries.
    A permanent refusal (request too large / cost limits, licence not accepted, 400/401/403,
    unknown error) raises `CdsRequestError` at once with the CDS message, key redacted.
    ``variable`` is the NetCDF short name expected in the file (default: from the request).
    A partial or unreadable file is deleted; nothing is ever left at ``target`` unless valid.
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
    attempts = max(1, int(attempts))
    what = f"{dataset} {variable} {request.get('year', '')}{'-' + request['month'] if isinstance(request.get('month'), str) else ''}"
    for attempt in range(1, attempts + 1):
        try:
            with atomic_output(target) as tmp:
                client.retrieve(dataset, request, str(tmp))
                if not tmp.is_file():
                    raise CdsRequestError(f"{target}: CDS client returned without writing a file")
                if zipfile.is_zipfile(tmp):
                    unzip_single_netcdf(tmp)
                check_netcdf(tmp, variable, label=str(target))
            return target
        except InputDataError as err:
            # Unreadable / wrong content: a truncated transfer is worth another try.
            last = redact(_one_line(err), key)
            transient = "not readable" in str(err)
            if not transient or attempt == attempts:
                raise CdsRequestError(redact(_one_line(err), key)) from None
        except Exception as err:  # the network layer raises many types
            message = redact(_one_line(err), key)
            status = _http_status(err)
            prefix = f"HTTP {status}: " if status and str(status) not in message else ""
            if not is_transient(err):
                raise CdsRequestError(f"CDS refused {what}: {prefix}{message}") from None
            if attempt == attempts:
                raise CdsRequestError(
                    f"CDS request {what} still failing after {attempts} attempts: {prefix}{message}"
                ) from None
            last = message
        delay = backoff_s * 2 ** (attempt - 1)
        LOG.warning(
            "CDS %s: attempt %d/%d failed (%s); retrying in %.0f s", what, attempt, attempts, last, delay
        )
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


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
