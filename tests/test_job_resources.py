from pathlib import Path

import pytest
import yaml

from hydroprobe import job_resources
from hydroprobe.config import read_basins_file, validate_config

ROOT = Path(__file__).resolve().parents[1]


def _config(name: str) -> dict:
    config = validate_config(yaml.safe_load((ROOT / "configs" / name).read_text()))
    if config.get("basins_file"):
        config["basins"] = read_basins_file(config["basins_file"], ROOT)
    return config


@pytest.fixture(scope="module")
def paper():
    return _config("lees2022.yaml")


def test_paper_preset_sizes(paper):
    assert job_resources.basin_count(paper) == 669
    # 1975-10-01...2008-12-31 plus one 365-day sequence of warm-up
    assert job_resources.period_days(paper) == 12_146 + 365
    assert job_resources.record_days(paper) == 16_436


def test_memory_grows_with_basins_and_days(paper):
    # 669 basins x 16436 days x 100 bytes = 1049 MiB, + 500 fixed, x 1.5 margin = 2323 -> 3000
    assert job_resources.mem_mb(paper, fixed_mb=500, bytes_per_basin_day=100) == 3000
    few = {**paper, "basins": paper["basins"][:10]}
    assert job_resources.mem_mb(few, fixed_mb=500, bytes_per_basin_day=100) == 1000
    # per="periods": 669 x 12511 period days x 100 bytes = 798 MiB, + 500, x 1.5 = 1947 -> 2000
    assert job_resources.mem_mb(paper, 500, 100, per="periods") == 2000


def test_null_basins_means_every_camels_gb_basin(paper):
    assert job_resources.basin_count({**paper, "basins": None}) == 671


def test_caravan_record_is_longer():
    config = _config("caravan.yaml")
    assert job_resources.record_days(config) == 26_663


def test_training_time_scales_with_windows_and_epochs(paper):
    # (669 x 6301 train days / 5000 per s + 669 x 1827 validation days / 20000) x 30 epochs
    # = 27 126 s, x 2 margin = 905 min, + 10
    assert job_resources.training_runtime_min(paper) == 915
    capped = {**paper, "training": {**paper["training"], "samples_per_epoch": 4096, "epochs": 20}}
    # (4096 / 5000 + 61.1 validation) s x 20 epochs x 2 = 41.3 min, + 10: validation dominates
    assert job_resources.training_runtime_min(capped) == 52
    # extraction: 669 x 12511 windows / 20000 per s x 2 = 14 min, + 10, below the floor
    assert job_resources.extraction_runtime_min(paper) == 30


def test_row_probes_ask_for_their_training_values(paper):
    sgd = {**paper, "probes": {**paper["probes"], "kinds": ["linear", "sgd_elasticnet"]}}
    # 400 MB + 64,000,000 values (the default) x 20 bytes = 1621 MB -> 2000
    assert sgd["probes"]["max_train_values"] == 64_000_000
    assert job_resources.probe_job_mb(sgd) == 2000
    big = {**sgd, "probes": {**sgd["probes"], "max_train_values": 256_000_000}}
    assert job_resources.probe_job_mb(big) == 6000  # 400 + 4883 MB
    linear_only = {**big, "probes": {**big["probes"], "kinds": ["linear"]}}
    assert job_resources.probe_job_mb(linear_only) == job_resources.STREAMED_JOB_MB
