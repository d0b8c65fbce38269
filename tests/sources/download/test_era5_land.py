"""ERA5-Land CDS downloader with fakes of the network layer (no test touches the network)."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.sources.download import era5_land as dl
from hydroprobe.sources.download.era5_land import (
    PAPER_AREA,
    CdsRequestError,
    build_request,
    hourly_to_daily,
    make_client,
    redact,
    retrieve,
)
from hydroprobe.sources.era5_land import open_era5_land
from hydroprobe.sources.paths import era5_land_file

FAKE_KEY = "abcd1234-5678-90ef-fake-key000000000"
HOURS = [f"{h:02d}:00" for h in range(24)]


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


class HttpError(Exception):
    def __init__(self, status, text):
        super().__init__(text)
        self.response = type("R", (), {"status_code": status})()


class FakeClient:
    key = FAKE_KEY

    def __init__(self, failures=(), writer=_write_nc):
        self.failures = list(failures)
        self.writer = writer
        self.calls = []

    def retrieve(self, name, request, target):
        self.calls.append((name, request, target))
        if self.failures:
            raise self.failures.pop(0)
        self.writer(target)
        return target


def test_hourly_request_exact_leap_february():
    dataset, req = build_request("swvl1", 2000, 2)
    assert dataset == "reanalysis-era5-land"
    assert req == {
        "product_type": "reanalysis",
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
        "product_type": "reanalysis",
        "variable": ["volumetric_soil_water_layer_4"],
        "year": "1995",
        "month": [f"{m:02d}" for m in range(1, 13)],
        "day": [f"{d:02d}" for d in range(1, 32)],
        "daily_statistic": "daily_mean",
        "time_zone": "utc+00:00",
        "frequency": "1_hourly",
        "area": [61.0, -8.0, 49.9, 2.0],
        "data_format": "netcdf",
        "download_format": "unarchived",
    }


def test_bad_request_arguments():
    with pytest.raises(InputDataError, match="tp"):
        build_request("tp", 2000, 1)
    with pytest.raises(InputDataError, match="month"):
        build_request("swvl1", 2000)
    with pytest.raises(InputDataError, match="mode"):
        build_request("swvl1", 2000, 1, mode="weekly")


def test_retry_then_success(tmp_path):
    client = FakeClient(
        failures=[
            HttpError(429, "429 Too Many Requests: rate limit exceeded"),
            ConnectionError("connection reset by peer"),
        ]
    )
    slept = []
    dataset, req = build_request("swvl1", 2000, 2)
    target = era5_land_file(tmp_path, "swvl1", 2000, 2)
    out = retrieve(client, dataset, req, target, backoff_s=30, sleep=slept.append)
    assert out == target and target.is_file()
    assert slept == [30, 60]
    assert len(client.calls) == 3
    # written under a temporary name beside the target, never at the target itself
    for _, _, tmp in client.calls:
        assert tmp != str(target) and str(tmp).startswith(str(target.parent))
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    # readable by the project's reader
    ds = open_era5_land(tmp_path, ["swvl1"])
    assert ds.sizes["time"] == 2


def test_retry_gives_up(tmp_path):
    client = FakeClient(failures=[HttpError(503, "503 Service Unavailable")] * 3)
    slept = []
    dataset, req = build_request("swvl1", 2000, 2)
    target = era5_land_file(tmp_path, "swvl1", 2000, 2)
    with pytest.raises(CdsRequestError, match="after 3 attempts"):
        retrieve(client, dataset, req, target, attempts=3, backoff_s=2, sleep=slept.append)
    assert slept == [2, 4]
    assert list(target.parent.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"garbage, not netcdf" * 10, "truncate"])
def test_partial_file_never_left(tmp_path, content):
    def writer(path):
        if content == "truncate":
            _write_nc(path)
            data = open(path, "rb").read()
            open(path, "wb").write(data[: len(data) // 2])
        else:
            open(path, "wb").write(content)

    client = FakeClient(writer=writer)
    slept = []
    dataset, req = build_request("swvl1", 2000, 2)
    target = era5_land_file(tmp_path, "swvl1", 2000, 2)
    with pytest.raises(CdsRequestError, match="not readable"):
        retrieve(client, dataset, req, target, attempts=2, sleep=slept.append)
    assert len(client.calls) == 2 and slept == [30]
    assert list(target.parent.iterdir()) == []  # neither target nor temp


def test_zipped_delivery_is_unzipped(tmp_path):
    def writer(path):
        inner = tmp_path / "inner.nc"
        _write_nc(inner)
        with zipfile.ZipFile(path, "w") as zf:
            zf.write(inner, "data_stream-oper_stepType-instant.nc")
        inner.unlink()

    dataset, req = build_request("swvl1", 2000, 2)
    target = era5_land_file(tmp_path, "swvl1", 2000, 2)
    retrieve(FakeClient(writer=writer), dataset, req, target, sleep=lambda s: None)
    assert not zipfile.is_zipfile(target)
    assert open_era5_land(tmp_path, ["swvl1"]).sizes["time"] == 2
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_wrong_variable_refused(tmp_path):
    client = FakeClient(writer=lambda p: _write_nc(p, var="swvl2"))
    dataset, req = build_request("swvl1", 2000, 2)
    target = era5_land_file(tmp_path, "swvl1", 2000, 2)
    with pytest.raises(CdsRequestError, match="lacks variable 'swvl1'"):
        retrieve(client, dataset, req, target, sleep=lambda s: None)
    assert len(client.calls) == 1
    assert list(target.parent.iterdir()) == []


@pytest.mark.parametrize(
    "err",
    [
        Exception(
            "400 Client Error: Bad Request for url: https://cds/api?key="
            + FAKE_KEY
            + "\nRequest too large. Cost 64512 over 60000 limit. Please, reduce your selection."
        ),
        HttpError(403, "403 Client Error: Forbidden\nrequired licences not accepted; key " + FAKE_KEY),
        RuntimeError("cost limits exceeded (key " + FAKE_KEY + ")"),
    ],
)
def test_permanent_error_at_once_key_redacted(tmp_path, err):
    client = FakeClient(failures=[err])
    slept = []
    dataset, req = build_request("swvl1", 2000, 2)
    target = era5_land_file(tmp_path, "swvl1", 2000, 2)
    with pytest.raises(CdsRequestError) as info:
        retrieve(client, dataset, req, target, sleep=slept.append)
    text = str(info.value)
    assert FAKE_KEY not in text and "\n" not in text
    assert "too large" in text.lower() or "licence" in text or "cost limits" in text
    assert slept == [] and len(client.calls) == 1
    assert list(target.parent.iterdir()) == []


def test_is_transient_classification():
    assert dl.is_transient(HttpError(429, "x"))
    assert dl.is_transient(HttpError(502, "x"))
    assert dl.is_transient(TimeoutError("read timed out"))
    assert not dl.is_transient(HttpError(401, "Unauthorized"))
    assert not dl.is_transient(HttpError(400, "Bad Request"))
    assert not dl.is_transient(ValueError("Request too large"))


def test_redact():
    assert redact(f"url?key={FAKE_KEY}", FAKE_KEY) == "url?key=***"
    assert "secretpart" not in redact("auth 12345:secretpart and secretpart", "12345:secretpart")
    assert redact("nothing", None) == "nothing"


def test_missing_credentials(tmp_path, monkeypatch):
    monkeypatch.delenv("CDSAPI_URL", raising=False)
    monkeypatch.delenv("CDSAPI_KEY", raising=False)
    monkeypatch.setenv("CDSAPI_RC", str(tmp_path / "nope.cdsapirc"))
    with pytest.raises(CdsRequestError) as info:
        make_client()
    text = str(info.value)
    assert "nope.cdsapirc" in text and "CDSAPI_URL" in text and "CDSAPI_KEY" in text
    assert "\n" not in text


class RecordingClient:
    """Stands in for cdsapi.Client, whose constructor already contacts the CDS."""

    def __init__(self, url=None, key=None, **kwargs):
        self.url, self.key, self.kwargs = url, key, kwargs
        # what cdsapi does on construction: a debug line that includes the key
        kwargs["debug_callback"]("CDSAPI %s", {"url": url, "key": key})
        kwargs["info_callback"]("Request %s queued, key=%s", "abc", key)


def test_make_client_from_env_never_logs_key(tmp_path, monkeypatch, caplog):
    import cdsapi

    monkeypatch.setattr(cdsapi, "Client", RecordingClient)
    monkeypatch.setenv("CDSAPI_RC", str(tmp_path / "nope.cdsapirc"))
    monkeypatch.setenv("CDSAPI_URL", "https://cds.example.invalid/api")
    monkeypatch.setenv("CDSAPI_KEY", FAKE_KEY)
    with caplog.at_level("DEBUG", logger="hydroprobe.sources.download.era5_land"):
        client = make_client(quiet=True)
    assert client.url == "https://cds.example.invalid/api" and client.key == FAKE_KEY
    assert client.kwargs["quiet"] is True and client.kwargs["retry_max"] == 5
    assert "CDSAPI" in caplog.text and "queued" in caplog.text
    assert FAKE_KEY not in caplog.text


def test_make_client_from_rc(tmp_path, monkeypatch):
    import cdsapi

    monkeypatch.setattr(cdsapi, "Client", RecordingClient)
    rc = tmp_path / "rc"
    rc.write_text(f"url: https://cds.example.invalid/api\nkey: {FAKE_KEY}\n")
    monkeypatch.delenv("CDSAPI_URL", raising=False)
    monkeypatch.delenv("CDSAPI_KEY", raising=False)
    monkeypatch.setenv("CDSAPI_RC", str(rc))
    assert make_client().key == FAKE_KEY


def test_make_client_error_redacted(tmp_path, monkeypatch):
    import cdsapi

    def broken(**kwargs):
        raise ValueError(f"bad token {kwargs['key']}\nsecond line")

    monkeypatch.setattr(cdsapi, "Client", broken)
    monkeypatch.setenv("CDSAPI_URL", "https://cds.example.invalid/api")
    monkeypatch.setenv("CDSAPI_KEY", FAKE_KEY)
    with pytest.raises(CdsRequestError) as info:
        make_client()
    assert FAKE_KEY not in str(info.value) and "bad token ***" in str(info.value)
    assert "\n" not in str(info.value)


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


def test_hourly_download_to_daily_files_reads_back_as_daily_means(tmp_path):
    """The hourly path of the workflow: one month per request, daily means, then the reader."""
    hourly_dir, daily_dir = tmp_path / "hourly", tmp_path / "daily"
    written = {}

    def writer(target):
        written["ds"] = _write_nc(target, days=29, start="2000-02-01")

    dataset, request = build_request("swvl1", 2000, 2, mode="hourly")
    hourly = retrieve(
        FakeClient(writer=writer),
        dataset,
        request,
        era5_land_file(hourly_dir, "swvl1", 2000, 2),
        variable="swvl1",
    )
    hourly_to_daily(hourly, era5_land_file(daily_dir, "swvl1", 2000, 2))
    daily = open_era5_land(daily_dir, ["swvl1"]).load()
    assert daily.sizes["time"] == 29
    expected = written["ds"]["swvl1"].resample(valid_time="1D").mean()
    np.testing.assert_allclose(
        daily["swvl1"].isel(latitude=slice(None, None, -1)).values, expected.values, rtol=1e-6
    )
