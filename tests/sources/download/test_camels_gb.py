"""CAMELS-GB download over a local HTTP server, from a zip laid out as the EIDC publishes it.

The archive mirrors the published one: everything under the dataset's UUID folder (once or
twice nested), ``data/`` with the eight attribute tables, ``timeseries/`` and the catchment
boundaries as a zip of their own (shapefile set at its root), ``supporting-documents/`` beside
it. The time series and the climatic and landcover tables are the real CAMELS-GB files of
tests/data/camels_gb; the shapefile is synthetic, written by the synthetic world's writer.
"""

from __future__ import annotations

import hashlib
import io
import runpy
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from http_server import http_server_fixture  # noqa: F401  (provides the http_server fixture)
from shapely.geometry import box
from workflow_helpers import run_snakemake

from hydroprobe.errors import InputDataError
from hydroprobe.sources.camels_gb import ATTRIBUTE_GROUPS, list_gauge_ids, read_attributes, read_boundaries
from hydroprobe.sources.download.camels_gb import (
    CAMELS_GB_SHA256,
    CAMELS_GB_URL,
    fetch,
    normalise_layout,
)
from hydroprobe.sources.synthetic.camels import write_boundaries
from hydroprobe.sources.synthetic.catchments import Catchment, to_bng

ROOT = Path(__file__).resolve().parents[3]
REAL = ROOT / "tests" / "data" / "camels_gb"
UUID = "8344e4f3-d2ea-44f5-8afa-86d2987543a9"
GAUGES = [96004, 97002]
# lon/lat boxes near the two real gauges (Strathmore at Allnabad, Thurso at Halkirk)
POLYGONS = {96004: box(-4.75, 58.30, -4.55, 58.42), 97002: box(-3.70, 58.30, -3.40, 58.50)}
REAL_TABLES = ("climatic", "landcover")  # the attribute tables tests/data holds


def _boundary_files(tmp: Path) -> dict[str, bytes]:
    catchments = [Catchment(g, str(g), POLYGONS[g], POLYGONS[g].centroid.coords[0], "wet") for g in GAUGES]
    folder = write_boundaries(tmp / "shp", catchments)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def eidc_zip(
    tmp: Path, nesting: int = 2, boundaries: str = "zip", extra: dict[str, bytes] | None = None
) -> bytes:
    """The CAMELS-GB data package zip; ``boundaries`` ``zip`` (as published), ``folder`` or ``none``."""
    top = "/".join([UUID] * nesting)
    data = f"{top}/data"
    members = {f"{data}/timeseries/{p.name}": p.read_bytes() for p in sorted((REAL / "timeseries").iterdir())}
    for group in ATTRIBUTE_GROUPS:
        name = f"CAMELS_GB_{group}_attributes.csv"
        if group in REAL_TABLES:
            members[f"{data}/{name}"] = (REAL / name).read_bytes()
        else:
            members[f"{data}/{name}"] = f"gauge_id,{group}_value\n96004,1.5\n97002,2.5\n".encode()
    shapefile_set = _boundary_files(tmp)
    if boundaries == "zip":
        members[f"{data}/CAMELS_GB_catchment_boundaries.zip"] = _zip_bytes(shapefile_set)
    elif boundaries == "folder":
        members.update({f"{data}/CAMELS_GB_catchment_boundaries/{n}": b for n, b in shapefile_set.items()})
    members[f"{data}/__README.html"] = b"<html><body>CAMELS-GB data</body></html>"
    members[f"{top}/supporting-documents/CAMELSGB_EIDC_SupportingDocumentation.pdf"] = b"%PDF-1.4\n%fake\n"
    members[f"{top}/supporting-documents/readme.txt"] = b"CAMELS-GB supporting documentation\n"
    members.update(extra or {})
    return _zip_bytes(members)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> bytes:
    return eidc_zip(tmp_path_factory.mktemp("eidc"))


def _assert_complete(dest: Path) -> None:
    """``dest`` holds the reader's layout, with the real values and the synthetic polygons."""
    assert list_gauge_ids(dest) == GAUGES
    truth = pd.read_csv(REAL / "CAMELS_GB_climatic_attributes.csv", index_col="gauge_id")
    attrs = read_attributes(dest, ["p_mean", "frac_snow", "topographic_value"]).loc[GAUGES]
    assert list(attrs["p_mean"]) == list(truth.loc[GAUGES, "p_mean"]) == [6.92, 2.97]
    assert list(attrs["topographic_value"]) == [1.5, 2.5]
    shapes = read_boundaries(dest)
    assert sorted(shapes) == GAUGES
    for gauge, polygon in POLYGONS.items():
        assert shapes[gauge].area == pytest.approx(to_bng(polygon).area, rel=1e-6)
    assert not (dest / "CAMELS_GB_catchment_boundaries.zip").exists()
    assert sorted(p.name for p in (dest / "CAMELS_GB_catchment_boundaries").iterdir()) == [
        "CAMELS_GB_catchment_boundaries.dbf",
        "CAMELS_GB_catchment_boundaries.prj",
        "CAMELS_GB_catchment_boundaries.shp",
        "CAMELS_GB_catchment_boundaries.shx",
    ]


def test_constants():
    assert CAMELS_GB_URL.endswith(f"{UUID}.zip")
    assert CAMELS_GB_SHA256 is None


@pytest.mark.parametrize("nesting", [1, 2])
@pytest.mark.parametrize("boundaries", ["zip", "folder"])
def test_published_layout_over_http(http_server, tmp_path, nesting, boundaries):
    url = http_server.serve("/camels.zip", eidc_zip(tmp_path, nesting, boundaries))
    dest = fetch(tmp_path / "out" / "camels_gb", url=url)
    _assert_complete(dest)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["camels_gb"]  # zip removed after success


def test_sha256_checked_where_configured(http_server, tmp_path, published):
    url = http_server.serve("/camels.zip", published)
    with pytest.raises(
        InputDataError, match=rf"^{url}: SHA-256 [0-9a-f]{{64}} does not match expected 0{{64}}$"
    ):
        fetch(tmp_path / "out" / "camels_gb", url=url, sha256="0" * 64)
    assert list((tmp_path / "out").iterdir()) == []
    dest = fetch(
        tmp_path / "out" / "camels_gb", url=url, sha256=hashlib.sha256(published).hexdigest().upper()
    )
    _assert_complete(dest)


def _fails_then_recovers(http_server, tmp_path, published, match, **bad_route):
    """A broken answer fails with one line and leaves nothing; once fixed, a rerun succeeds."""
    url = http_server.serve("/camels.zip", **bad_route)
    out = tmp_path / "out"
    with pytest.raises(InputDataError, match=match.format(url=url)) as err:
        fetch(out / "camels_gb", url=url)
    assert "\n" not in str(err.value)
    assert list(out.iterdir()) == []  # neither the folder nor a zip the next run would trust
    http_server.serve("/camels.zip", published)
    _assert_complete(fetch(out / "camels_gb", url=url))


def test_licence_page_with_status_200(http_server, tmp_path, published):
    page = "<!DOCTYPE html>\n<html><body>Please accept the licence</body></html>"
    match = r"^{url}: the server sent a web page, not a zip archive .*set camels_gb.path"
    _fails_then_recovers(
        http_server, tmp_path, published, match, body=page, headers={"Content-Type": "text/html"}
    )


def test_truncated_transfer(http_server, tmp_path, published):
    match = r"^{url}: incomplete download \(5000 of \d+ bytes\)$"
    _fails_then_recovers(http_server, tmp_path, published, match, body=published, truncate_after=5000)


@pytest.mark.parametrize("status", [404, 500])
def test_http_error(http_server, tmp_path, published, status):
    match = rf"^{{url}}: download failed \(HTTP Error {status}"
    _fails_then_recovers(http_server, tmp_path, published, match, body="error", status=status)


def test_zip_slip_in_the_archive(http_server, tmp_path, published):
    evil = eidc_zip(tmp_path, extra={f"{UUID}/../../evil.txt": b"owned"})
    match = (
        r"camels_gb.zip: refusing entry '.*evil.txt' \(path escapes the destination\) \(removed camels_gb.zip"
    )
    _fails_then_recovers(http_server, tmp_path, published, match, body=evil)
    assert not (tmp_path / "evil.txt").exists()


def test_zip_slip_in_the_boundaries_zip(http_server, tmp_path, published):
    inner = _zip_bytes({**_boundary_files(tmp_path), "../../../evil.shp": b"owned"})
    evil = eidc_zip(
        tmp_path, boundaries="none", extra={f"{UUID}/{UUID}/data/CAMELS_GB_catchment_boundaries.zip": inner}
    )
    match = r"CAMELS_GB_catchment_boundaries.zip: refusing entry '../../../evil.shp'"
    _fails_then_recovers(http_server, tmp_path, published, match, body=evil)
    assert not list(tmp_path.rglob("evil.shp"))


def test_archive_without_boundaries(http_server, tmp_path, published):
    match = (
        r"data: CAMELS-GB folder lacks CAMELS_GB_catchment_boundaries/ and CAMELS_GB_catchment_boundaries.zip"
    )
    _fails_then_recovers(http_server, tmp_path, published, match, body=eidc_zip(tmp_path, boundaries="none"))


def test_a_kept_verified_zip_is_reused(http_server, tmp_path, published):
    """A zip left by a run stopped after the download is unpacked without asking the server."""
    url = http_server.serve("/camels.zip", "gone", status=404)
    (tmp_path / "camels_gb.zip").write_bytes(published)
    _assert_complete(fetch(tmp_path / "camels_gb", url=url))
    assert http_server.requests == []


def test_a_kept_damaged_zip_is_downloaded_again(http_server, tmp_path, published):
    url = http_server.serve("/camels.zip", published)
    damaged = bytearray(published)
    damaged[len(damaged) // 3] ^= 0xFF  # inside a compressed member: its CRC no longer matches
    (tmp_path / "camels_gb.zip").write_bytes(bytes(damaged))
    _assert_complete(fetch(tmp_path / "camels_gb", url=url))
    assert http_server.requests == ["/camels.zip"]


def test_normalise_names_missing(tmp_path):
    (tmp_path / "x" / "a" / "timeseries").mkdir(parents=True)
    with pytest.raises(InputDataError, match=r"CAMELS_GB_\*_attributes.csv"):
        normalise_layout(tmp_path / "x", tmp_path / "dest")
    (tmp_path / "x" / "a" / "CAMELS_GB_climatic_attributes.csv").write_text("gauge_id\n1\n")
    (
        tmp_path / "x" / "a" / "timeseries" / "CAMELS_GB_hydromet_timeseries_1_19701001-20150930.csv"
    ).write_text("date\n")
    with pytest.raises(InputDataError, match="CAMELS_GB_catchment_boundaries"):
        normalise_layout(tmp_path / "x", tmp_path / "dest")


def test_fetch_refuses_a_non_empty_destination(http_server, tmp_path, published):
    dest = tmp_path / "camels_gb"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep")
    with pytest.raises(InputDataError, match="not empty"):
        fetch(dest, url=http_server.serve("/camels.zip", published))
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]
    assert http_server.requests == []


def _run_rule_script(tmp_path, url, sha256=None) -> Path:
    snakemake = SimpleNamespace(
        output=[str(tmp_path / "resources" / "camels_gb")],
        log=[str(tmp_path / "logs" / "download_camels_gb.log")],
        config={"camels_gb": {"download": {"url": url, "sha256": sha256}}},
    )
    runpy.run_path(str(ROOT / "workflow_scripts" / "download_camels_gb.py"), {"snakemake": snakemake})
    return Path(snakemake.output[0])


def test_rule_script(http_server, tmp_path, published):
    url = http_server.serve("/camels.zip", "<html>maintenance</html>")
    with pytest.raises(SystemExit):  # rule_log: bad input ends the job with its one line in the log
        _run_rule_script(tmp_path, url)
    log = (tmp_path / "logs" / "download_camels_gb.log").read_text()
    assert f"ERROR InputDataError: {url}: the server sent a web page" in log
    assert sorted(p.name for p in (tmp_path / "resources").iterdir()) == []
    http_server.serve("/camels.zip", published)
    _assert_complete(_run_rule_script(tmp_path, url, hashlib.sha256(published).hexdigest()))
    assert "CAMELS-GB ready in" in (tmp_path / "logs" / "download_camels_gb.log").read_text()


@pytest.mark.workflow
def test_snakemake_rule_fails_cleanly_then_succeeds(http_server, tmp_path, published):
    """The rule download_camels_gb, run by snakemake with camels_gb.download.url at the server."""
    config = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())
    url = http_server.serve("/camels.zip", "<!DOCTYPE html><html>Please log in</html>")
    (tmp_path / "era5").mkdir()
    config.update(
        source="download",
        camels_gb={"path": None, "download": {"url": url, "sha256": None}},
        era5_land={**config.get("era5_land", {}), "path": str(tmp_path / "era5")},
    )
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    failed = run_snakemake(tmp_path, configfile, "--cores", "1", "resources/camels_gb", check=False)
    assert failed.returncode != 0
    assert f"ERROR InputDataError: {url}: the server sent a web page" in failed.stdout + failed.stderr
    assert not (tmp_path / "resources").exists() or list((tmp_path / "resources").iterdir()) == []
    http_server.serve("/camels.zip", published)
    run_snakemake(tmp_path, configfile, "--cores", "1", "resources/camels_gb")
    _assert_complete(tmp_path / "resources" / "camels_gb")
