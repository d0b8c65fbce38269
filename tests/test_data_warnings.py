import xarray as xr

from hydroprobe import data_warnings


def test_warnings_travel_with_the_dataset_and_merge_without_duplicates(caplog):
    found = []
    data_warnings.warn(found, "aggregate_era5_land", "swvl1", "year 1990 missing: NaN")
    ds = data_warnings.attach(xr.Dataset(), found)
    assert "swvl1: year 1990 missing" in caplog.text

    later = []
    data_warnings.warn(later, "build_basin_dataset", "basin 39001", "no discharge in training")
    ds2 = data_warnings.attach(ds, found, later)

    table = data_warnings.table(ds2)
    assert list(table.columns) == ["stage", "subject", "message"]
    assert table["subject"].tolist() == ["swvl1", "basin 39001"]
    assert data_warnings.read(ds) == found  # the input dataset is left as it was
    assert data_warnings.table(xr.Dataset()).empty
