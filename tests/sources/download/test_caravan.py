"""Caravan from Zenodo, over a local HTTP server answering like Zenodo's REST API.

The record listing has the shape of ``GET /api/records/<id>`` (``files[]`` with ``key``,
``size``, ``checksum`` ``"md5:<hex>"`` and ``links.self``, the address of the bytes), and the
archives are laid out as Caravan publishes them: version 1.6's separate csv and netCDF records
(``Caravan-csv.tar.gz``, ``Caravan-nc.tar.gz`` beside ``Caravan-code.zip``), version 1.5's
``Caravan-nc.tar.xz`` and version 1.2's single ``Caravan.zip``. The files inside are the real
Caravan files of tests/data/caravan (attributes and one CAMELS-CH basin's series); the netCDF
series is that csv written as Caravan's netCDF files are (dimension ``date``).
"""

from __future__ import annotations

import hashlib
import io
import json
import runpy
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import xarray as xr
from http_server import http_server_fixture  # noqa: F401  (provides the http_server fixture)

from hydroprobe.errors import InputDataError
from hydroprobe.sources.caravan import list_basins, read_timeseries
from hydroprobe.sources.download import caravan as caravan_download
from hydroprobe.sources.download.caravan import (
    CARAVAN_RECORDS,
    choose_archive,
    fetch_caravan,
    record_files,
)

ROOT = Path(__file__).resolve().parents[3]
REAL = ROOT / "tests" / "data" / "caravan"
BASIN = "camelsch_4001"


def caravan_members(top: str, layouts: tuple[str, ...], tmp: Path) -> dict[str, bytes]:
    """The files of a Caravan archive under ``top/``: attributes, licences and the series of
    each layout (the netCDF one written from the real csv)."""
    members = {
        f"{top}/{p.relative_to(REAL)}": p.read_bytes()
        for p in sorted(REAL.rglob("*"))
        if p.is_file() and "timeseries" not in p.parts
    }
    csv = REAL / "timeseries" / "csv" / "camelsch" / f"{BASIN}.csv"
    if "csv" in layouts:
        members[f"{top}/timeseries/csv/camelsch/{BASIN}.csv"] = csv.read_bytes()
    if "netcdf" in layouts:
        frame = pd.read_csv(csv, parse_dates=["date"]).set_index("date")
        nc = tmp / f"{BASIN}.nc"
        xr.Dataset.from_dataframe(frame).to_netcdf(nc)
        members[f"{top}/timeseries/netcdf/camelsch/{BASIN}.nc"] = nc.read_bytes()
    return members


def archive_bytes(members: dict[str, bytes], kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    else:
        fast = {"preset": 1} if kind == "xz" else {"compresslevel": 1}  # small test archives, quickly
        with tarfile.open(fileobj=buffer, mode=f"w:{kind}", **fast) as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Zenodo:
    """Publishes records on the local server the way Zenodo's REST API lists them."""

    def __init__(self, server, monkeypatch):
        self.server = server
        monkeypatch.setattr(caravan_download, "ZENODO_API", server.url + "/api/records/{record}")

    def publish(self, record: str, files: dict[str, bytes], listed: dict[str, dict] | None = None) -> None:
        """Serve ``files`` of ``record`` and its listing; ``listed`` overrides fields of an entry."""
        entries = []
        for number, (name, data) in enumerate(files.items()):
            content = f"/api/records/{record}/files/{name}/content"
            self.server.serve(content, data)
            entry = {
                "id": f"00000000-0000-4000-8000-{number:012d}",
                "key": name,
                "size": len(data),
                "checksum": "md5:" + hashlib.md5(data).hexdigest(),
                "links": {"self": self.server.url + content},
            }
            entries.append({**entry, **(listed or {}).get(name, {})})
        listing = {
            "created": "2025-05-27T09:00:00.000000+00:00",
            "id": int(record),
            "recid": record,
            "doi": f"10.5281/zenodo.{record}",
            "metadata": {
                "title": "Caravan - A global community dataset for large-sample hydrology",
                "version": "1.6",
                "license": {"id": "cc-by-4.0"},
                "resource_type": {"title": "Dataset", "type": "dataset"},
            },
            "files": entries,
            "links": {"self": f"{self.server.url}/api/records/{record}"},
            "status": "published",
        }
        self.server.serve(
            f"/api/records/{record}", json.dumps(listing), headers={"Content-Type": "application/json"}
        )

    def url(self, record: str, name: str) -> str:
        return f"{self.server.url}/api/records/{record}/files/{name}/content"


@pytest.fixture
def zenodo(http_server, monkeypatch) -> Zenodo:
    return Zenodo(http_server, monkeypatch)


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, bytes]:
    """Caravan 1.6's two data archives, 1.5's netCDF archive and 1.2's zip."""
    tmp = tmp_path_factory.mktemp("caravan")
    return {
        "csv-1.6": archive_bytes(caravan_members("Caravan-csv", ("csv",), tmp), "gz"),
        "nc-1.6": archive_bytes(caravan_members("Caravan-nc", ("netcdf",), tmp), "gz"),
        "nc-1.5": archive_bytes(caravan_members("Caravan-Jan25-nc", ("netcdf",), tmp), "xz"),
        "zip-1.2": archive_bytes(caravan_members("Caravan", ("csv", "netcdf"), tmp), "zip"),
    }


def _assert_caravan(dest: Path, layout: str) -> None:
    truth = pd.read_csv(REAL / "timeseries" / "csv" / "camelsch" / f"{BASIN}.csv")
    assert list_basins(dest, "camelsch", layout) == [BASIN]
    series = read_timeseries(dest, BASIN, layout, ["streamflow", "total_precipitation_sum"])
    assert len(series) == len(truth) == 14610
    assert series["streamflow"].to_numpy() == pytest.approx(truth["streamflow"].to_numpy(), nan_ok=True)
    assert (dest / "attributes" / "camelsgb" / "attributes_caravan_camelsgb.csv").read_bytes() == (
        REAL / "attributes" / "camelsgb" / "attributes_caravan_camelsgb.csv"
    ).read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # no archive or temporary left


def test_default_records_are_the_current_release():
    assert CARAVAN_RECORDS == {"csv": "15530022", "netcdf": "15529786"}


@pytest.mark.parametrize("layout", ["csv", "netcdf"])
def test_current_release_by_layout(zenodo, archives, tmp_path, layout):
    """Default record per layout; the netCDF record also holds the code zip, which is skipped."""
    code = archive_bytes({"Caravan-code/README.md": b"code"}, "zip")
    zenodo.publish("15530022", {"Caravan-csv.tar.gz": archives["csv-1.6"]})
    zenodo.publish("15529786", {"Caravan-code.zip": code, "Caravan-nc.tar.gz": archives["nc-1.6"]})
    dest = fetch_caravan(tmp_path / "caravan", layout=layout)
    _assert_caravan(dest, layout)
    name = "Caravan-csv.tar.gz" if layout == "csv" else "Caravan-nc.tar.gz"
    assert zenodo.server.requests[-1] == f"/api/records/{CARAVAN_RECORDS[layout]}/files/{name}/content"


def test_tar_xz_record(zenodo, archives, tmp_path):
    zenodo.publish("14673536", {"Caravan-nc.tar.xz": archives["nc-1.5"]})
    _assert_caravan(fetch_caravan(tmp_path / "caravan", record="14673536", layout="netcdf"), "netcdf")


@pytest.mark.parametrize("layout", ["csv", "netcdf"])
def test_one_zip_holding_both_layouts(zenodo, archives, tmp_path, layout):
    zenodo.publish("7944025", {"Caravan.zip": archives["zip-1.2"], "README.md": b"readme"})
    _assert_caravan(fetch_caravan(tmp_path / "caravan", record="7944025", layout=layout), layout)


def test_record_of_the_other_layout(zenodo, archives, tmp_path):
    zenodo.publish("15529786", {"Caravan-nc.tar.gz": archives["nc-1.6"]})
    with pytest.raises(
        InputDataError, match=r"record 15529786 holds the netcdf Caravan archive .*set caravan.layout: netcdf"
    ):
        fetch_caravan(tmp_path / "caravan", record="15529786", layout="csv")
    assert list(tmp_path.iterdir()) == []
    assert zenodo.server.requests == ["/api/records/15529786"]  # nothing downloaded


def test_archive_without_the_layout_folder(zenodo, archives, tmp_path):
    zenodo.publish("1", {"Caravan.zip": archives["zip-1.2"]})
    only_nc = archive_bytes(caravan_members("Caravan", ("netcdf",), tmp_path), "zip")
    zenodo.publish("2", {"Caravan.zip": only_nc})
    with pytest.raises(
        InputDataError,
        match=r"Caravan.zip/content: the archive has timeseries/\{netcdf\}/, not timeseries/csv/",
    ):
        fetch_caravan(tmp_path / "out" / "caravan", record="2", layout="csv")
    assert list((tmp_path / "out").iterdir()) == []


def _fails_then_recovers(zenodo, archives, tmp_path, match, files, listed=None, fixed=None):
    """A broken record fails with one line naming the URL and leaves nothing; once Zenodo
    serves the record right, a rerun succeeds."""
    zenodo.publish("15530022", files, listed)
    out = tmp_path / "out"
    with pytest.raises(InputDataError, match=match) as err:
        fetch_caravan(out / "caravan")
    assert "\n" not in str(err.value)
    assert list(out.iterdir()) == []
    zenodo.publish("15530022", fixed or {"Caravan-csv.tar.gz": archives["csv-1.6"]})
    _assert_caravan(fetch_caravan(out / "caravan"), "csv")


def test_md5_mismatch(zenodo, archives, tmp_path):
    listed = {"Caravan-csv.tar.gz": {"checksum": "md5:" + "0" * 32}}
    url = zenodo.url("15530022", "Caravan-csv.tar.gz")
    match = rf"^{url}: md5 [0-9a-f]{{32}} does not match expected 0{{32}}$"
    _fails_then_recovers(
        zenodo, archives, tmp_path, match, {"Caravan-csv.tar.gz": archives["csv-1.6"]}, listed
    )


def test_listed_size_mismatch(zenodo, archives, tmp_path):
    data = archives["csv-1.6"]
    listed = {"Caravan-csv.tar.gz": {"size": len(data) + 1}}
    url = zenodo.url("15530022", "Caravan-csv.tar.gz")
    match = rf"^{url}: size {len(data)} bytes, expected {len(data) + 1}$"
    _fails_then_recovers(zenodo, archives, tmp_path, match, {"Caravan-csv.tar.gz": data}, listed)


def test_web_page_instead_of_the_archive(zenodo, archives, tmp_path):
    page = b"<!DOCTYPE html><html><body>Too many requests, try later</body></html>"
    url = zenodo.url("15530022", "Caravan-csv.tar.gz")
    match = rf"^{url}: the server sent a web page, not a zip or tar archive"
    _fails_then_recovers(zenodo, archives, tmp_path, match, {"Caravan-csv.tar.gz": page})


def test_unsafe_entry(zenodo, archives, tmp_path):
    members = {**caravan_members("Caravan-csv", ("csv",), tmp_path), "Caravan-csv/../../evil.txt": b"x"}
    match = (
        r"Caravan-csv.tar.gz: refusing entry 'Caravan-csv/../../evil.txt' \(path escapes the destination\) "
        r"\(removed Caravan-csv.tar.gz: the next run downloads it again\)$"
    )
    _fails_then_recovers(
        zenodo, archives, tmp_path, match, {"Caravan-csv.tar.gz": archive_bytes(members, "gz")}
    )
    assert not list(tmp_path.rglob("evil.txt"))


def test_truncated_transfer(zenodo, archives, tmp_path):
    data = archives["csv-1.6"]
    zenodo.publish("15530022", {"Caravan-csv.tar.gz": data})
    content = "/api/records/15530022/files/Caravan-csv.tar.gz/content"
    url = zenodo.server.serve(content, data, truncate_after=len(data) // 2)
    with pytest.raises(
        InputDataError, match=rf"^{url}: incomplete download \({len(data) // 2} of {len(data)} bytes\)$"
    ):
        fetch_caravan(tmp_path / "out" / "caravan")
    assert list((tmp_path / "out").iterdir()) == []
    zenodo.server.serve(content, data)
    _assert_caravan(fetch_caravan(tmp_path / "out" / "caravan"), "csv")


def test_a_kept_archive_matching_the_listing_is_reused(zenodo, archives, tmp_path):
    """An archive left by a run stopped after its download is unpacked without fetching it again."""
    zenodo.publish("15530022", {"Caravan-csv.tar.gz": archives["csv-1.6"]})
    (tmp_path / "Caravan-csv.tar.gz").write_bytes(archives["csv-1.6"])
    _assert_caravan(fetch_caravan(tmp_path / "caravan"), "csv")
    assert zenodo.server.requests == ["/api/records/15530022"]


def test_a_kept_archive_not_matching_the_listing_is_downloaded_again(zenodo, archives, tmp_path):
    data = archives["csv-1.6"]
    zenodo.publish("15530022", {"Caravan-csv.tar.gz": data})
    (tmp_path / "Caravan-csv.tar.gz").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, md5 differs
    _assert_caravan(fetch_caravan(tmp_path / "caravan"), "csv")
    assert zenodo.server.requests[-1] == "/api/records/15530022/files/Caravan-csv.tar.gz/content"


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors(zenodo, archives, tmp_path, status):
    url = zenodo.server.serve("/api/records/15530022", "error", status=status)
    with pytest.raises(InputDataError, match=rf"^{url}: cannot read the Zenodo record \(HTTP Error {status}"):
        fetch_caravan(tmp_path / "out" / "caravan")
    zenodo.publish("15530022", {"Caravan-csv.tar.gz": archives["csv-1.6"]})
    content = zenodo.server.serve(
        "/api/records/15530022/files/Caravan-csv.tar.gz/content", "gone", status=status
    )
    with pytest.raises(InputDataError, match=rf"^{content}: download failed \(HTTP Error {status}"):
        fetch_caravan(tmp_path / "out" / "caravan")
    assert list((tmp_path / "out").iterdir()) == []


def test_files_endpoint_form():
    """``/api/records/<id>/files`` answers ``{"entries": [...]}``, its ``links.self`` being the
    entry's metadata and ``links.content`` the bytes."""
    listing = {
        "entries": [
            {
                "key": "Caravan-nc.tar.gz",
                "size": 10,
                "checksum": "md5:" + "a" * 32,
                "links": {
                    "self": "https://zenodo.org/api/records/1/files/Caravan-nc.tar.gz",
                    "content": "https://zenodo.org/api/records/1/files/Caravan-nc.tar.gz/content",
                },
            }
        ]
    }

    def opener(url, timeout=None):
        return io.BytesIO(json.dumps({"files": listing}).encode())

    [entry] = record_files("1", opener)
    assert entry == {
        "name": "Caravan-nc.tar.gz",
        "url": "https://zenodo.org/api/records/1/files/Caravan-nc.tar.gz/content",
        "size": 10,
        "checksum": "md5:" + "a" * 32,
    }


def test_archive_choice():
    names = ["Caravan-csv.tar.gz", "Caravan-nc.tar.gz", "Caravan-code.zip", "README.md"]
    files = [{"name": n, "url": n} for n in names]
    assert choose_archive(files, "csv")["name"] == "Caravan-csv.tar.gz"
    assert choose_archive(files, "netcdf")["name"] == "Caravan-nc.tar.gz"
    assert choose_archive(files, filename="README.md")["name"] == "README.md"
    with pytest.raises(InputDataError, match=r"record 9 has no file 'x.zip'"):
        choose_archive(files, filename="x.zip", record="9")
    two = [{"name": n, "url": n} for n in ["Caravan-a.zip", "Caravan-b.zip"]]
    with pytest.raises(InputDataError, match="cannot tell which Caravan archive.*set caravan.archive"):
        choose_archive(two, "csv")


def test_refuses_a_non_empty_destination(tmp_path):
    (tmp_path / "caravan").mkdir()
    (tmp_path / "caravan" / "mine.txt").write_text("keep")
    with pytest.raises(InputDataError, match="not empty"):
        fetch_caravan(tmp_path / "caravan")


def test_rule_script(zenodo, archives, tmp_path):
    zenodo.publish("15529786", {"Caravan-nc.tar.gz": archives["nc-1.6"]})
    snakemake = SimpleNamespace(
        output=[str(tmp_path / "resources" / "caravan")],
        log=[str(tmp_path / "logs" / "download_caravan.log")],
        params=SimpleNamespace(record=None, archive=None, layout="netcdf"),
    )
    runpy.run_path(str(ROOT / "workflow_scripts" / "download_caravan.py"), {"snakemake": snakemake})
    _assert_caravan(Path(snakemake.output[0]), "netcdf")
    log = (tmp_path / "logs" / "download_caravan.log").read_text()
    assert "Caravan 1.6, the netcdf record" in log and "Zenodo record 15529786" in log
