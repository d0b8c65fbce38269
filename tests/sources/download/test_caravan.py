"""Caravan from Zenodo, against a fake of the network: file list, checksum, safe unpacking."""

import hashlib
import io
import json
import tarfile
import zipfile

import pytest

from hydroprobe.errors import InputDataError
from hydroprobe.sources.caravan import list_basins
from hydroprobe.sources.download.caravan import choose_archive, fetch_caravan, record_files


def caravan_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "Caravan/attributes/camelsch/attributes_other_camelsch.csv", "gauge_id,area\ncamelsch_4001,69.8\n"
        )
        z.writestr("Caravan/timeseries/csv/camelsch/camelsch_4001.csv", "date,streamflow\n1990-01-01,1.0\n")
        z.writestr("Caravan/README.md", "Caravan\n")
    return buffer.getvalue()


class FakeZenodo:
    """`opener(url, timeout=)` serving a record's JSON and its files."""

    def __init__(self, files: dict[str, bytes], checksums: dict[str, str] | None = None):
        self.files = files
        self.checksums = checksums or {n: "md5:" + hashlib.md5(b).hexdigest() for n, b in files.items()}
        self.urls = []

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        if url == "https://zenodo.org/api/records/123":
            entries = [
                {
                    "key": n,
                    "size": len(b),
                    "checksum": self.checksums[n],
                    "links": {"self": f"https://zenodo.org/api/records/123/files/{n}/content"},
                }
                for n, b in self.files.items()
            ]
            return io.BytesIO(json.dumps({"files": entries}).encode())
        for name, data in self.files.items():
            if url.endswith(f"/files/{name}/content"):
                return io.BytesIO(data)
        raise OSError(f"404 {url}")


def test_fetch_unpacks_the_caravan_folder(tmp_path):
    fake = FakeZenodo({"Caravan.zip": caravan_zip(), "README.md": b"readme"})
    dest = fetch_caravan(tmp_path / "caravan", record="123", opener=fake)
    assert list_basins(dest, "camelsch") == ["camelsch_4001"]
    assert (dest / "README.md").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["caravan"]  # no temporary leftovers
    assert fake.urls[-1].endswith("/files/Caravan.zip/content")


def test_fetch_unpacks_a_tar_archive(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(caravan_zip())) as src, tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in src.namelist():
            data = src.read(name)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    fake = FakeZenodo({"Caravan-csv.tar.gz": buffer.getvalue()})
    dest = fetch_caravan(tmp_path / "caravan", record="123", opener=fake)
    assert list_basins(dest, "camelsch") == ["camelsch_4001"]
    assert [p.name for p in tmp_path.iterdir()] == ["caravan"]


def test_checksum_mismatch_leaves_nothing(tmp_path):
    fake = FakeZenodo({"Caravan.zip": caravan_zip()}, checksums={"Caravan.zip": "md5:" + "0" * 32})
    with pytest.raises(InputDataError, match="md5"):
        fetch_caravan(tmp_path / "caravan", record="123", opener=fake)
    assert list(tmp_path.iterdir()) == []


def test_archive_choice_by_layout_and_name():
    files = [{"name": n, "url": n} for n in ["Caravan-csv.tar.gz", "Caravan-nc.tar.gz", "README.md"]]
    assert choose_archive(files, "csv")["name"] == "Caravan-csv.tar.gz"
    assert choose_archive(files, "netcdf")["name"] == "Caravan-nc.tar.gz"
    assert choose_archive(files, filename="README.md")["name"] == "README.md"
    with pytest.raises(InputDataError, match="no file 'x.zip'"):
        choose_archive(files, filename="x.zip")


def test_unreadable_record_is_one_line(tmp_path):
    def offline(url, timeout=None):
        raise OSError("network unreachable")

    with pytest.raises(InputDataError, match="cannot read the Zenodo record") as err:
        record_files("123", opener=offline)
    assert "\n" not in str(err.value)
