"""A local Copernicus CDS: the new CDS API (the one cdsapi >= 0.7 reaches through
ecmwf-datastores-client) served by stdlib `http.server` in a thread, with scripted failures.

Tests point the REAL ``cdsapi.Client`` at it (``CDSAPI_URL=<server.url>``) instead of faking
the client. The routes and JSON are those the client reads (ecmwf/datastores/processing.py
and catalogue.py), under ``<url>`` = ``http://127.0.0.1:<port>/api``:

* ``GET  catalogue/v1/messages`` - service messages, read when a client is made;
* ``GET  retrieve/v1/processes/<dataset>`` - the process;
* ``POST retrieve/v1/processes/<dataset>/execution`` - submit ``{"inputs": request}``; 201 and
  the job, whose ``monitor`` link is polled;
* ``GET  retrieve/v1/jobs/<id>`` - job status (``accepted``, ``running``, ``successful``,
  ``failed``, ``rejected``);
* ``GET  retrieve/v1/jobs/<id>/results`` - the asset (href, ``file:size``), or for a failed or
  rejected job a 400 whose ``title``/``traceback`` the client puts in its HTTPError;
* ``HEAD/GET download/<id>.nc`` - the NetCDF file (multiurl asks for the headers first).

Every ``retrieve/`` call must carry the key in the ``PRIVATE-TOKEN`` header (else 401), and
a request may hold only the fields of its dataset's CDS form (else 400, as the CDS rejects an
invalid request). A successful job serves a NetCDF file in the new-CDS layout (``valid_time``,
latitude, longitude) of the requested variable, days and hours.

``server.script`` lists what happens to each submitted job in turn (then ``then``, by default
``success``):

``success``; ``slow`` (one poll ``running`` first); ``rate_limited`` (429 on submit);
``queue_limited`` (accepted, then rejected: the CDS's per-user queue limit); ``bad_request``
(400 on submit); ``cost_limit`` (403 on submit); ``licence`` (403 on submit, the key echoed);
``unauthorized`` (401 on submit, the key echoed, as a careless service may); ``job_failed``
(accepted, then failed with the server's error); ``server_error`` (500 on submit);
``truncated`` (the file's Content-Length larger than the bytes sent, then the connection drops);
``zipped`` (the NetCDF file delivered inside a zip, as the CDS may do); ``gathered`` (the job
stays ``running`` until ``gather`` jobs have been in flight at once, or no job was submitted
for `GATHER_QUIET_S`: so `max_in_flight` shows the most requests a client lets run together).

``server.hits`` counts calls per route (``messages``, ``process``, ``execute``, ``status``,
``results``, ``download``); ``server.submitted`` holds each submitted ``(dataset, inputs)``;
``server.max_in_flight`` is the most jobs that were ever submitted and not yet done at once.
Use it as ``with cds_server(key) as server:``; `unused_url` gives an address where nothing
listens (connection refused).
"""

from __future__ import annotations

import calendar
import collections
import io
import json
import re
import socket
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import xarray as xr
from http_server import ThreadedServer

# The CDS download forms of the two ERA5-Land datasets, as the CDS web pages' "Show API
# request" lists them; written out here, not imported, so a wrong field in the code under
# test is caught.
FORMS = {
    "reanalysis-era5-land": {
        "variable",
        "year",
        "month",
        "day",
        "time",
        "area",
        "data_format",
        "download_format",
    },
    "derived-era5-land-daily-statistics": {
        "variable",
        "year",
        "month",
        "day",
        "daily_statistic",
        "time_zone",
        "frequency",
        "area",
    },
}
# the units the CDS writes on these variables
UNITS = {"swvl1": "m**3 m**-3", "swvl2": "m**3 m**-3", "swvl3": "m**3 m**-3", "swvl4": "m**3 m**-3"}
UNITS["sd"] = "m of water equivalent"
NETCDF_NAMES = {
    "volumetric_soil_water_layer_1": "swvl1",
    "volumetric_soil_water_layer_2": "swvl2",
    "volumetric_soil_water_layer_3": "swvl3",
    "volumetric_soil_water_layer_4": "swvl4",
    "snow_depth_water_equivalent": "sd",
}

QUEUE_LIMIT_MESSAGE = "Number queued requests for this dataset is temporarily limited. Please configure your scripts accordingly"
BAD_REQUEST_MESSAGE = "Request has not produced a valid combination of values, please check your selection."
COST_LIMIT_MESSAGE = "Your request is too large, please reduce your selection."
JOB_FAILED_MESSAGE = "The job failed with: MARS returned no data (the archive answered an empty field list)"

GATHER_QUIET_S = 10.0

BEHAVIOURS = (
    "success",
    "slow",
    "rate_limited",
    "queue_limited",
    "bad_request",
    "cost_limit",
    "licence",
    "unauthorized",
    "job_failed",
    "server_error",
    "truncated",
    "zipped",
    "gathered",
)


class CdsServer(ThreadedServer):
    """The running local CDS; `url` is what ``CDSAPI_URL`` should be."""

    def __init__(
        self, key: str, script: list[str] | None = None, then: str = "success", gather: int = 0
    ) -> None:
        self.key = key
        self.script: collections.deque[str] = collections.deque(script or [])
        self.then = then
        self.gather = gather
        self.hits: collections.Counter[str] = collections.Counter()
        self.submitted: list[tuple[str, dict]] = []
        self.jobs: dict[str, dict] = {}
        self.in_flight: set[str] = set()  # jobs submitted, their file not yet sent
        self.max_in_flight = 0
        self.last_submission = 0.0
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))
        self.url = f"{self.root}/api"

    def next_behaviour(self) -> str:
        with self._lock:
            behaviour = self.script.popleft() if self.script else self.then
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r} (choose from {', '.join(BEHAVIOURS)})")
        return behaviour


@contextmanager
def cds_server(
    key: str, script: list[str] | None = None, then: str = "success", gather: int = 0
) -> Iterator[CdsServer]:
    server = CdsServer(key, script, then, gather).start()
    try:
        yield server
    finally:
        server.stop()


def unused_url() -> str:
    """An API url on a local port where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


# HDF5 (under netCDF4) is not thread-safe: the server's threads write one file at a time
_NETCDF_LOCK = threading.Lock()


def era5_land_netcdf(dataset: str, inputs: dict) -> bytes:
    """The file the CDS would deliver for ``inputs``: one variable on a 3 x 2 grid at the
    north-west corner of the area, every requested hour (hourly) or day (daily statistics),
    values that differ per variable and time."""
    (variable,) = inputs["variable"]
    short = NETCDF_NAMES[variable]
    year = int(inputs["year"])
    months = [inputs["month"]] if isinstance(inputs["month"], str) else inputs["month"]
    days = [int(d) for d in inputs["day"]]
    stamps = []
    for month in map(int, months):
        for day in days:
            if day > calendar.monthrange(year, month)[1]:
                continue  # the CDS skips dates that do not exist (31 April)
            midnight = pd.Timestamp(year, month, day)
            hours = [int(t[:2]) for t in inputs["time"]] if "time" in inputs else [0]
            stamps += [midnight + pd.Timedelta(hours=h) for h in hours]
    times = pd.DatetimeIndex(stamps)
    north, west = inputs["area"][0], inputs["area"][1]
    lat = np.round(north - 0.1 * np.arange(3), 2)
    lon = np.round(west + 0.1 * np.arange(2), 2)
    seed = zlib.crc32(f"{short}{year}{months}".encode())
    values = np.random.default_rng(seed).uniform(0.1, 0.5, (times.size, lat.size, lon.size)).astype("float32")
    ds = xr.Dataset(
        {
            short: (
                ("valid_time", "latitude", "longitude"),
                values,
                {"long_name": variable, "units": UNITS[short]},
            )
        },
        coords={"valid_time": times, "latitude": lat, "longitude": lon, "number": 0},
        attrs={"GRIB_centre": "ecmf", "Conventions": "CF-1.7", "history": f"local CDS: {dataset}"},
    )
    with _NETCDF_LOCK, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.nc"
        ds.to_netcdf(path, engine="netcdf4")
        return path.read_bytes()


def _zipped(data: bytes, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _error(title: str, detail: str = "", traceback: str = "") -> dict:
    body = {"type": "about:blank", "title": title}
    if traceback:
        body["traceback"] = traceback
    if detail:
        body["detail"] = detail
    return body


def _handler_for(server: CdsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive with a Content-Length contract, as the CDS

        def log_message(self, *args) -> None:  # quiet: the test output is the client's
            pass

        # ------------------------------------------------------------------ plumbing
        def _send(self, status: int, body: bytes, content_type: str, length: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, payload: dict) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _authorised(self) -> bool:
            if self.headers.get("PRIVATE-TOKEN") == server.key:
                return True
            self._json(401, _error("Authentication failed", "The authentication failed: unknown token"))
            return False

        def _job_json(self, job: dict) -> dict:
            job_url = f"{server.url}/retrieve/v1/jobs/{job['id']}"
            return {
                "processID": job["dataset"],
                "type": "process",
                "jobID": job["id"],
                "status": job["status"],
                "created": "2026-01-01T00:00:00.000000",
                "updated": "2026-01-01T00:00:01.000000",
                "metadata": {"request": {"ids": job["inputs"]}},
                "links": [
                    {"href": job_url, "rel": "self", "type": "application/json"},
                    {"href": job_url, "rel": "monitor", "type": "application/json"},
                    {"href": f"{job_url}/results", "rel": "results"},
                ],
            }

        # ------------------------------------------------------------------ routes
        def do_HEAD(self) -> None:  # noqa: N802 (the name http.server calls)
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path == "/api/catalogue/v1/messages":
                server.hits["messages"] += 1
                return self._json(200, {"messages": []})
            if match := re.fullmatch(r"/api/retrieve/v1/processes/([\w.-]+)", path):
                server.hits["process"] += 1
                if not self._authorised():
                    return None
                if match.group(1) not in FORMS:
                    return self._json(404, _error("Not Found", f"process {match.group(1)} not found"))
                return self._json(200, {"id": match.group(1), "links": []})
            if match := re.fullmatch(r"/api/retrieve/v1/jobs/([\w-]+)(/results)?", path):
                job = server.jobs.get(match.group(1))
                if not self._authorised():
                    return None
                if job is None:
                    return self._json(404, _error("job not found"))
                return self._results(job) if match.group(2) else self._status(job)
            if match := re.fullmatch(r"/download/([\w-]+)\.nc", path):
                return self._download(server.jobs[match.group(1)])
            return self._json(404, _error("Not Found", path))

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            match = re.fullmatch(r"/api/retrieve/v1/processes/([\w.-]+)/execution", path)
            if match is None:
                return self._json(404, _error("Not Found", path))
            server.hits["execute"] += 1
            if not self._authorised():
                return None
            dataset, inputs = match.group(1), body.get("inputs", {})
            server.submitted.append((dataset, inputs))
            unknown = sorted(set(inputs) - FORMS.get(dataset, set()))
            if unknown:
                return self._json(
                    400,
                    _error(
                        "invalid request", f"{BAD_REQUEST_MESSAGE} Unknown field(s): {', '.join(unknown)}"
                    ),
                )
            behaviour = server.next_behaviour()
            token = self.headers.get("PRIVATE-TOKEN", "")
            refusals = {
                "rate_limited": (429, _error("Too Many Requests", "rate limit exceeded, try again later")),
                "bad_request": (400, _error("invalid request", BAD_REQUEST_MESSAGE)),
                "cost_limit": (403, _error("cost limits exceeded", COST_LIMIT_MESSAGE)),
                "licence": (
                    403,
                    _error(
                        "required licences not accepted",
                        f"not all the required licences were accepted by {token}",
                    ),
                ),
                "unauthorized": (
                    401,
                    _error("Authentication failed", f"operation not allowed for token {token}"),
                ),
                "server_error": (500, _error("Internal Server Error", "an unexpected error occurred")),
            }
            if behaviour in refusals:
                return self._json(*refusals[behaviour])
            job = {
                "id": str(uuid.uuid4()),
                "dataset": dataset,
                "inputs": inputs,
                "behaviour": behaviour,
                "status": "accepted",
                "running_polls": 1 if behaviour == "slow" else 0,
            }
            with server._lock:
                server.jobs[job["id"]] = job
                server.in_flight.add(job["id"])
                server.last_submission = time.monotonic()
                server.max_in_flight = max(server.max_in_flight, len(server.in_flight))
            return self._json(201, self._job_json(job))

        def _status(self, job: dict) -> None:
            server.hits["status"] += 1
            if job["behaviour"] == "queue_limited":
                job["status"] = "rejected"
            elif job["behaviour"] == "job_failed":
                job["status"] = "failed"
            elif job["behaviour"] == "gathered" and not (
                server.max_in_flight >= server.gather
                or time.monotonic() - server.last_submission > GATHER_QUIET_S
            ):
                job["status"] = "running"
            elif job["running_polls"] > 0:
                job["running_polls"] -= 1
                job["status"] = "running"
            else:
                job["status"] = "successful"
            return self._json(200, self._job_json(job))

        def _results(self, job: dict) -> None:
            server.hits["results"] += 1
            if job["status"] in ("rejected", "failed"):
                with server._lock:
                    server.in_flight.discard(job["id"])
            if job["status"] == "rejected":
                return self._json(400, _error("The job has been rejected", traceback=QUEUE_LIMIT_MESSAGE))
            if job["status"] == "failed":
                return self._json(400, _error("The job has failed", traceback=JOB_FAILED_MESSAGE))
            if job["status"] != "successful":
                return self._json(404, _error("job results not ready"))
            if "data" not in job:
                job["data"] = era5_land_netcdf(job["dataset"], job["inputs"])
                if job["behaviour"] == "zipped":
                    job["data"] = _zipped(job["data"], "data_stream-oper_stepType-instant.nc")
            data = job["data"]
            asset = {
                "type": "application/zip" if job["behaviour"] == "zipped" else "application/netcdf",
                "href": f"{server.root}/download/{job['id']}.nc",
                "file:size": len(data),
                "file:checksum": uuid.uuid5(uuid.NAMESPACE_URL, job["id"]).hex,
            }
            return self._json(200, {"asset": {"value": asset}})

        def _download(self, job: dict) -> None:
            if self.command == "GET":
                server.hits["download"] += 1
                with server._lock:
                    server.in_flight.discard(job["id"])
            data = job["data"]
            if job["behaviour"] != "truncated":
                return self._send(200, data, "application/netcdf")
            # announce the whole file, send half of it, drop the connection
            self.close_connection = True
            return self._send(200, data[: len(data) // 2], "application/netcdf", length=len(data))

    return Handler
