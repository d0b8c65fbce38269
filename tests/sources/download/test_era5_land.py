"""ERA5-Land CDS downloader: request building, and the REAL cdsapi client driven against a local
CDS (tests/cds_server.py) that speaks the new CDS API and misbehaves as the real one does."""

from __future__ import annotations

import calendar
import logging
import runpy
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import requests
import xarray as xr
import yaml
from cds_server import (
    COST_LIMIT_MESSAGE,
    JOB_FAILED_MESSAGE,
    QUEUE_LIMIT_MESSAGE,
    cds_server,
    era5_land_netcdf,
    unused_url,
)
from workflow_helpers import run_snakemake

from hydroprobe.errors import InputDataError
from hydroprobe.sources.download import era5_land as dl
from hydroprobe.sources.download.era5_land import (
    FORM_FIELDS,
    NEW_CDS_URL,
    PAPER_AREA,
    CdsRequestError,
    RetryPolicy,
    build_request,
    check_netcdf,
    download,
    download_hourly_year,
    hourly_to_daily,
    read_credentials,
    redact,
)
from hydroprobe.sources.era5_land import open_era5_land
from hydroprobe.sources.paths import era5_land_file, era5_land_job_files

ROOT = Path(__file__).resolve().parents[3]
FAKE_KEY = "abcd1234-5678-90ef-fake-key000000000"
HOURS = [f"{h:02d}:00" for h in range(24)]
SMALL_AREA = [58.6, -7.5, 58.0, -7.0]
TEST_POLICY = RetryPolicy(attempts=3, backoff_s=2.0, backoff_max_s=3.0)


def _write_nc(path, var="swvl1", days=2, start="2000-02-28", freq="1h"):
    times = pd.date_range(start, periods=days * 24 if freq == "1h" else days, freq=freq)
    rng = np.random.default_rng(0)
    ds = xr.Dataset(
        {
            var: (
                ("valid_time", "latitude", "longitude"),
                rng.uniform(0.1, 0.5, (times.size, 3, 2)).astype("float32"),
            )
        },
        coords={
            "valid_time": times,
            "latitude": [58.0, 57.9, 57.8],
            "longitude": [-4.0, -3.9],
            "number": 0,
            "expver": ("valid_time", np.array(["0001"] * times.size)),
        },
    )
    ds.to_netcdf(path)
    return ds


# --------------------------------------------------------------------------- requests


def test_hourly_request_exact_leap_february():
    dataset, req = build_request("swvl1", 2000, 2)
    assert dataset == "reanalysis-era5-land"
    assert req == {
        "variable": ["volumetric_soil_water_layer_1"],
        "year": "2000",
        "month": "02",
        "day": [f"{d:02d}" for d in range(1, 30)],
        "time": HOURS,
        "area": PAPER_AREA,
        "data_format": "netcdf",
        "download_format": "unarchived",
    }


@pytest.mark.parametrize("year,month,n", [(1999, 2, 28), (1900, 2, 28), (2001, 1, 31), (2001, 4, 30)])
def test_hourly_request_real_days(year, month, n):
    _, req = build_request("sd", year, month)
    assert req["day"] == [f"{d:02d}" for d in range(1, n + 1)]
    assert req["variable"] == ["snow_depth_water_equivalent"]
    assert req["month"] == f"{month:02d}"


def test_daily_request_exact():
    dataset, req = build_request("swvl4", 1995, mode="daily", area=[61, -8, 49.9, 2])
    assert dataset == "derived-era5-land-daily-statistics"
    assert req == {
        "variable": ["volumetric_soil_water_layer_4"],
        "year": "1995",
        "month": [f"{m:02d}" for m in range(1, 13)],
        "day": [f"{d:02d}" for d in range(1, 32)],
        "daily_statistic": "daily_mean",
        "time_zone": "utc+00:00",
        "frequency": "1_hourly",
        "area": [61.0, -8.0, 49.9, 2.0],
    }


def test_requests_hold_only_their_form_fields():
    for mode, month in (("hourly", 1), ("daily", None)):
        dataset, req = build_request("swvl1", 2000, month, mode=mode)
        assert set(req) <= set(FORM_FIELDS[dataset])
        assert "product_type" not in req


def test_bad_request_arguments():
    with pytest.raises(InputDataError, match="tp"):
        build_request("tp", 2000, 1)
    with pytest.raises(InputDataError, match="month"):
        build_request("swvl1", 2000)
    with pytest.raises(InputDataError, match="mode"):
        build_request("swvl1", 2000, 1, mode="weekly")


def test_retry_policy_doubles_up_to_its_cap():
    policy = RetryPolicy(attempts=5, backoff_s=30, backoff_max_s=100)
    assert policy.delays() == [30, 60, 100, 100]
    assert policy.max_wait_s == 290
    assert RetryPolicy(attempts=1, backoff_s=30, backoff_max_s=100).delays() == []


def _http_error(status, text):
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(text, response=response)


def test_is_transient_classification():
    assert dl.is_transient(_http_error(429, "429 Client Error: Too Many Requests"))
    assert dl.is_transient(_http_error(502, "502 Server Error"))
    assert dl.is_transient(
        _http_error(400, f"400 Client Error | The job has been rejected | {QUEUE_LIMIT_MESSAGE}")
    )
    assert dl.is_transient(requests.ConnectionError("[Errno 111] Connection refused"))
    assert dl.is_transient(requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"))
    assert dl.is_transient(RuntimeError("Download failed: downloaded 10 byte(s) out of 20"))
    assert dl.is_transient(TimeoutError("read timed out"))
    assert not dl.is_transient(_http_error(400, "400 Client Error: Bad Request | invalid request"))
    assert not dl.is_transient(_http_error(401, "401 Client Error: Unauthorized"))
    assert not dl.is_transient(
        _http_error(403, f"403 Client Error | cost limits exceeded | {COST_LIMIT_MESSAGE}")
    )
    assert not dl.is_transient(
        _http_error(400, f"400 Client Error | The job has failed | {JOB_FAILED_MESSAGE}")
    )


def test_redact():
    assert redact(f"url?key={FAKE_KEY}", FAKE_KEY) == "url?key=***"
    assert "secretpart" not in redact("auth 12345:secretpart and secretpart", "12345:secretpart")
    assert redact("nothing", None) == "nothing"


def test_check_netcdf_refuses_wrong_variable(tmp_path):
    _write_nc(tmp_path / "f.nc", var="swvl2")
    with pytest.raises(CdsRequestError, match="lacks variable 'swvl1'"):
        check_netcdf(tmp_path / "f.nc", "swvl1")
    check_netcdf(tmp_path / "f.nc", "swvl2")


# --------------------------------------------------------------------------- credentials


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    monkeypatch.delenv("CDSAPI_URL", raising=False)
    monkeypatch.delenv("CDSAPI_KEY", raising=False)
    monkeypatch.setenv("CDSAPI_RC", str(tmp_path / "nope.cdsapirc"))


def test_missing_credentials(no_credentials):
    with pytest.raises(CdsRequestError) as info:
        read_credentials()
    text = str(info.value)
    assert "nope.cdsapirc" in text and "CDSAPI_URL" in text and "CDSAPI_KEY" in text
    assert "\n" not in text


def test_credentials_read_as_cdsapi_does(tmp_path, monkeypatch, no_credentials):
    rc = tmp_path / "rc"
    rc.write_text(f"url: https://cds.example.invalid/api\nkey: {FAKE_KEY}\n")
    monkeypatch.setenv("CDSAPI_RC", str(rc))
    assert read_credentials() == ("https://cds.example.invalid/api", FAKE_KEY, str(rc))
    monkeypatch.setenv("CDSAPI_URL", "https://other.invalid/api")
    monkeypatch.setenv("CDSAPI_KEY", "0000aaaa-1111-2222-3333-444455556666")
    assert read_credentials() == (
        "https://other.invalid/api",
        "0000aaaa-1111-2222-3333-444455556666",
        "CDSAPI_KEY",
    )


@pytest.mark.parametrize("where", ["rc", "env"])
def test_legacy_key_refused_before_any_request(tmp_path, monkeypatch, no_credentials, where):
    legacy = "123456:" + FAKE_KEY
    with cds_server(FAKE_KEY) as server:
        if where == "rc":
            rc = tmp_path / "rc"
            rc.write_text(f"url: {server.url}\nkey: {legacy}\n")
            monkeypatch.setenv("CDSAPI_RC", str(rc))
        else:
            monkeypatch.setenv("CDSAPI_URL", server.url)
            monkeypatch.setenv("CDSAPI_KEY", legacy)
        with pytest.raises(CdsRequestError) as info:
            download("swvl1", 2000, 2, tmp_path / "out.nc", "hourly", SMALL_AREA, RetryPolicy(3, 0, 0), 5, 1)
        assert sum(server.hits.values()) == 0
    text = str(info.value)
    assert "legacy 'UID:KEY'" in text and "personal access token" in text and NEW_CDS_URL in text
    assert (str(tmp_path / "rc") if where == "rc" else "CDSAPI_KEY") in text
    assert FAKE_KEY not in text and "\n" not in text


def test_old_api_url_refused(monkeypatch, no_credentials):
    monkeypatch.setenv("CDSAPI_URL", "https://cds.climate.copernicus.eu/api/v2")
    monkeypatch.setenv("CDSAPI_KEY", FAKE_KEY)
    with pytest.raises(
        CdsRequestError, match="decommissioned old API: use https://cds.climate.copernicus.eu/api$"
    ):
        read_credentials()


# --------------------------------------------------------------------------- against the local CDS


@pytest.fixture
def cds(monkeypatch, tmp_path):
    """Start a local CDS with ``cds(*behaviours)``; the client is pointed at it."""
    servers = []

    def start(*script):
        server = cds_server(FAKE_KEY, list(script))
        servers.append(server)
        running = server.__enter__()
        monkeypatch.setenv("CDSAPI_URL", running.url)
        monkeypatch.setenv("CDSAPI_KEY", FAKE_KEY)
        monkeypatch.setenv("CDSAPI_RC", str(tmp_path / "no.cdsapirc"))
        return running

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def _fetch(tmp_path, policy=TEST_POLICY, slept=None, mode="hourly", short="swvl1"):
    """One download of ``short`` 2000-02 (or 2000, daily) into ``tmp_path/era5``; the retry
    waits are recorded in ``slept`` instead of slept."""
    month = 2 if mode == "hourly" else None
    target = era5_land_file(tmp_path / "era5", short, 2000, month)
    sleep = (slept if slept is not None else []).append
    return target, lambda: download(short, 2000, month, target, mode, SMALL_AREA, policy, 10, 1, sleep=sleep)


def _files_left(tmp_path):
    return sorted(p.name for p in (tmp_path / "era5").rglob("*") if p.is_file())


def test_success_writes_a_readable_month(cds, tmp_path):
    server = cds("slow")  # one poll 'running' first: the client waits and polls again
    target, fetch = _fetch(tmp_path)
    assert fetch() == target
    assert server.hits["execute"] == 1 and server.hits["status"] >= 2 and server.hits["download"] == 1
    [(dataset, inputs)] = server.submitted
    assert (dataset, inputs) == build_request("swvl1", 2000, 2, area=SMALL_AREA)
    assert _files_left(tmp_path) == [target.name]
    with xr.open_dataset(target) as ds:
        assert ds["swvl1"].sizes["valid_time"] == 29 * 24
        assert float(ds["swvl1"].min()) >= 0.1 and float(ds["swvl1"].max()) <= 0.5
    assert open_era5_land(tmp_path / "era5", ["swvl1"]).sizes["time"] == 29  # read as daily means


def test_daily_mode_request_accepted_by_its_form(cds, tmp_path):
    server = cds()
    target, fetch = _fetch(tmp_path, mode="daily", short="sd")
    fetch()
    assert server.submitted[0][0] == "derived-era5-land-daily-statistics"
    with xr.open_dataset(target) as ds:
        assert ds["sd"].sizes["valid_time"] == 366  # 2000 is a leap year; 31 April etc. skipped


def test_the_local_cds_rejects_fields_outside_the_form(cds, tmp_path):
    """The server's form check is what makes the two tests above mean something."""
    server = cds()
    target, _ = _fetch(tmp_path)
    dataset, request = build_request("swvl1", 2000, 2, area=SMALL_AREA)
    client = dl.make_client(timeout_s=10, poll_max_s=1)
    with pytest.raises(CdsRequestError, match="Unknown field.s.: product_type") as info:
        dl.retrieve(client, dataset, {**request, "product_type": "reanalysis"}, target, RetryPolicy(3, 0, 0))
    assert "swvl1 2000-02" in str(info.value) and server.hits["execute"] == 1


@pytest.mark.parametrize(
    "first, shown",
    [
        ("rate_limited", "Too Many Requests"),
        ("queue_limited", "Number queued requests for this dataset is temporarily limited"),
        ("server_error", "500 Server Error"),
        ("truncated", "download cut short"),
    ],
)
def test_transient_failure_then_success(cds, tmp_path, caplog, first, shown):
    server = cds(first)
    slept = []
    target, fetch = _fetch(tmp_path, slept=slept)
    with caplog.at_level(logging.WARNING, logger="hydroprobe"):
        assert fetch() == target
    assert server.hits["execute"] == 2 and slept == [2.0]
    assert "attempt 1/3 failed" in caplog.text and shown in caplog.text
    assert _files_left(tmp_path) == [target.name]
    with xr.open_dataset(target) as ds:
        assert ds["swvl1"].sizes["valid_time"] == 29 * 24


def test_zipped_delivery_is_unzipped(cds, tmp_path):
    cds("zipped")
    target, fetch = _fetch(tmp_path)
    fetch()
    assert open_era5_land(tmp_path / "era5", ["swvl1"]).sizes["time"] == 29  # read as daily means
    assert _files_left(tmp_path) == [target.name]


@pytest.mark.parametrize(
    "behaviour, shown",
    [
        ("bad_request", "invalid request | Request has not produced a valid combination"),
        ("cost_limit", f"cost limits exceeded | {COST_LIMIT_MESSAGE}"),
        ("job_failed", f"The job has failed | {JOB_FAILED_MESSAGE}"),
        ("licence", "required licences not accepted"),
        ("unauthorized", "Authentication failed"),
    ],
)
def test_permanent_refusal_stops_at_once_with_the_cds_message(cds, tmp_path, capfd, caplog, behaviour, shown):
    server = cds(behaviour)
    slept = []
    _, fetch = _fetch(tmp_path, slept=slept)
    with caplog.at_level(logging.DEBUG), pytest.raises(CdsRequestError) as info:
        fetch()
    text = str(info.value)
    assert text.startswith("CDS refused swvl1 2000-02 (reanalysis-era5-land): ") and shown in text
    assert "\n" not in text
    assert server.hits["execute"] == 1 and slept == []
    assert _files_left(tmp_path) == []
    # licence and unauthorized echo the key in their bodies: it is masked everywhere
    out, err = capfd.readouterr()
    for seen in (text, caplog.text, out, err):
        assert FAKE_KEY not in seen
    if behaviour in ("licence", "unauthorized"):
        assert "***" in text


@pytest.mark.parametrize("behaviour", ["server_error", "truncated", "queue_limited"])
def test_gives_up_after_exactly_the_configured_attempts(cds, tmp_path, behaviour):
    server = cds(*[behaviour] * 4)
    slept = []
    _, fetch = _fetch(tmp_path, policy=RetryPolicy(4, 2.0, 3.0), slept=slept)
    with pytest.raises(
        CdsRequestError, match=r"^CDS swvl1 2000-02 \(reanalysis-era5-land\) still failing after 4 attempts"
    ):
        fetch()
    # the client's own retries are off: one submission per attempt, waits doubled and capped
    assert server.hits["execute"] == 4 and slept == [2.0, 3.0, 3.0]
    assert _files_left(tmp_path) == []  # no partial file, no temporary left behind


def test_connection_refused_reported_at_once_and_bounded(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("CDSAPI_URL", unused_url())
    monkeypatch.setenv("CDSAPI_KEY", FAKE_KEY)
    seen_before_first_wait = []
    target = era5_land_file(tmp_path / "era5", "swvl1", 2000, 2)

    def sleep(seconds):
        seen_before_first_wait.append((seconds, caplog.text))

    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="hydroprobe"), pytest.raises(CdsRequestError) as info:
        download(
            "swvl1", 2000, 2, target, "hourly", SMALL_AREA, RetryPolicy(3, 5.0, 60.0), 10, 1, sleep=sleep
        )
    assert time.monotonic() - start < 10  # no hidden retries inside the client
    text = str(info.value)
    assert "swvl1 2000-02" in text and "after 3 attempts" in text and "Connection refused" in text
    assert [s for s, _ in seen_before_first_wait] == [5.0, 10.0]
    first_wait_log = seen_before_first_wait[0][1]
    assert "attempt 1/3 failed (cannot connect to http://127.0.0.1:" in first_wait_log
    assert not (tmp_path / "era5").exists() or _files_left(tmp_path) == []


def test_workflow_script_downloads_and_logs_without_the_key(cds, tmp_path, monkeypatch):
    """The rule's script, as Snakemake runs it, against the local CDS: a licence refusal that
    echoes the key first (the job fails, one line, key masked), then a whole hourly-mode year."""
    server = cds("licence")
    monkeypatch.chdir(tmp_path)  # Snakemake runs scripts in the working directory
    settings = {"attempts": 2, "backoff_s": 0.01, "backoff_max_s": 0.01, "timeout_s": 10, "poll_max_s": 1}
    outputs = era5_land_job_files(tmp_path / "resources/era5_land", "swvl1", 2000, "hourly")

    def run(log):
        job = SimpleNamespace(
            wildcards=SimpleNamespace(short="swvl1", year="2000"),
            params=SimpleNamespace(mode="hourly", area=SMALL_AREA),
            config={"era5_land": {"download": settings}},
            output=[str(path) for path in outputs],
            log=[str(log)],
        )
        runpy.run_path(str(ROOT / "workflow_scripts/download_era5_land.py"), init_globals={"snakemake": job})

    with pytest.raises((CdsRequestError, SystemExit)):  # rule_log may turn bad input into exit 1
        run(tmp_path / "refused.log")
    refused = (tmp_path / "refused.log").read_text()
    assert "required licences not accepted" in refused and FAKE_KEY not in refused
    assert not any(path.exists() for path in outputs)
    run(tmp_path / "ok.log")
    ok = (tmp_path / "ok.log").read_text()
    assert ok.count("wrote") == 12 and FAKE_KEY not in ok
    assert server.hits["execute"] == 1 + 12
    assert open_era5_land(tmp_path / "resources/era5_land", ["swvl1"]).sizes["time"] == 366
    assert not (tmp_path / "resources/era5_land_hourly/swvl1/2000").exists()  # removed once complete


@pytest.mark.workflow
def test_default_profile_caps_concurrent_cds_requests(tmp_path, monkeypatch):
    """snakemake --cores 8 on 6 hourly-mode years, as a user runs it (the workflow's default
    profile applies): the local CDS holds the first requests until 6 are in flight or none came
    for a few seconds, and sees at most the profile's 4 at once; every month arrives whole."""
    config = yaml.safe_load((ROOT / "configs" / "lees2022.yaml").read_text())
    config["era5_land"]["variables"] = config["probes"]["targets"] = ["swvl1"]
    config["era5_land"]["download"].update(years=[2000, 2005], area=SMALL_AREA, poll_max_s=1, backoff_s=0.1)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [
        path
        for year in range(2000, 2006)
        for path in era5_land_job_files("resources/era5_land", "swvl1", year, "hourly")
    ]
    # the first 4 requests are held: without the cap, 6 jobs would each have one in flight
    with cds_server(FAKE_KEY, ["gathered"] * 4, then="success", gather=6) as server:
        monkeypatch.setenv("CDSAPI_URL", server.url)
        monkeypatch.setenv("CDSAPI_KEY", FAKE_KEY)
        monkeypatch.setenv("CDSAPI_RC", str(tmp_path / "no.cdsapirc"))
        # the targets after --cores, whose one value ends the list --configfile would take them into
        run_snakemake(tmp_path, tmp_path / "config.yaml", "--cores", "8", *map(str, targets[::12]))
    assert server.max_in_flight == 4 and server.hits["execute"] == 6 * 12
    for target in targets:
        year, month = int(target.stem[-6:-2]), int(target.stem[-2:])
        with xr.open_dataset(tmp_path / target) as ds:
            assert ds["swvl1"].sizes["valid_time"] == calendar.monthrange(year, month)[1]


# --------------------------------------------------------------------------- hourly -> daily


def test_hourly_to_daily(tmp_path):
    src = tmp_path / "hourly.nc"
    ds = _write_nc(src, days=2, start="2000-02-28")
    # drop the last hour: the second day is incomplete and must become NaN
    ds.isel(valid_time=slice(0, 47)).to_netcdf(tmp_path / "ragged.nc")
    out = hourly_to_daily(src, tmp_path / "era5" / "swvl1" / "daily.nc")
    with xr.open_dataset(out) as daily:
        assert daily["swvl1"].dims == ("valid_time", "latitude", "longitude")
        assert daily["swvl1"].dtype == np.float32
        assert list(daily["valid_time"].values) == list(pd.to_datetime(["2000-02-28", "2000-02-29"]).values)
        expected = ds["swvl1"].isel(valid_time=slice(0, 24)).mean("valid_time").values
        np.testing.assert_allclose(daily["swvl1"].isel(valid_time=0).values, expected, rtol=1e-6)
        assert "expver" not in daily.variables and "number" in daily.coords
    ragged = hourly_to_daily(tmp_path / "ragged.nc", tmp_path / "ragged_daily.nc")
    with xr.open_dataset(ragged) as daily:
        assert np.isnan(daily["swvl1"].isel(valid_time=1).values).all()
    assert open_era5_land(tmp_path / "era5", ["swvl1"]).sizes["time"] == 2


def test_hourly_to_daily_refuses_accumulated(tmp_path):
    _write_nc(tmp_path / "tp.nc", var="tp")
    with pytest.raises(InputDataError, match="accumulated"):
        hourly_to_daily(tmp_path / "tp.nc", tmp_path / "out.nc")


def _hourly_year(tmp_path, area=SMALL_AREA):
    """A fetch of swvl1 2000 in hourly mode into ``tmp_path/era5``, months kept in ``tmp_path/work``."""
    targets = era5_land_job_files(tmp_path / "era5", "swvl1", 2000, "hourly")
    return targets, lambda: download_hourly_year(
        "swvl1", 2000, targets, tmp_path / "work", area, RetryPolicy(1, 0, 0), 10, 1, sleep=lambda _: None
    )


def _cds_daily_means(month, area=SMALL_AREA):
    """The UTC daily means of the hourly month the local CDS serves."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hourly.nc"
        path.write_bytes(era5_land_netcdf(*build_request("swvl1", 2000, month, area=area)))
        with xr.open_dataset(path) as ds:
            return ds["swvl1"].resample(valid_time="1D").mean().values


@pytest.mark.parametrize(
    "rerun, requests_again",
    [("as it was", 4), ("one kept month unreadable", 5), ("another area", 12)],
)
def test_hourly_year_failing_on_month_9_keeps_months_1_to_8(cds, tmp_path, caplog, rerun, requests_again):
    server = cds(*["success"] * 8, "bad_request")
    targets, fetch = _hourly_year(tmp_path)
    with pytest.raises(CdsRequestError, match=r"^CDS refused swvl1 2000-09 "):
        fetch()
    assert server.hits["execute"] == 9
    assert not any(target.exists() for target in targets)  # the outputs appear with the whole year
    kept = sorted(p.name for p in (tmp_path / "work").iterdir())
    assert kept == ["area.json"] + [t.name for t in targets[:8]]  # no raw hourly month left
    area = SMALL_AREA
    if rerun == "one kept month unreadable":
        (tmp_path / "work" / targets[2].name).write_bytes(b"CDF\x01 cut short")
    elif rerun == "another area":
        area = [58.5, -7.4, 58.0, -7.0]
        targets, fetch = _hourly_year(tmp_path, area)
    with caplog.at_level(logging.INFO, logger="hydroprobe"):
        assert fetch() == targets
    assert server.hits["execute"] == 9 + requests_again
    assert not (tmp_path / "work").exists()
    daily = open_era5_land(tmp_path / "era5", ["swvl1"]).load()
    assert daily.sizes["time"] == 366
    for month in (1, 3, 9, 12):  # kept, kept or requested again, requested on the rerun, the last
        in_month = daily["swvl1"].sel(time=daily["time"].dt.month == month)
        np.testing.assert_allclose(
            in_month.isel(latitude=slice(None, None, -1)).values, _cds_daily_means(month, area), rtol=1e-6
        )
    if rerun == "one kept month unreadable":
        assert "era5_land_swvl1_200003.nc: downloaded file is not readable NetCDF" in caplog.text


def test_hourly_year_resumes_a_month_downloaded_but_not_yet_averaged(cds, tmp_path):
    server = cds()
    targets, fetch = _hourly_year(tmp_path)
    dataset, request = build_request("swvl1", 2000, 5, area=SMALL_AREA)
    dl.retrieve(
        dl.make_client(10, 1), dataset, request, tmp_path / "work" / f"hourly_{targets[4].name}", TEST_POLICY
    )
    fetch()
    assert server.hits["execute"] == 1 + 11
    assert all(target.exists() for target in targets)
