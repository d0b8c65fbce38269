"""Config validation: defaults filled, unknown keys and bad values named in one line."""

import copy
from pathlib import Path

import pytest
import yaml

from hydroprobe.config import ConfigError, load_schema, split_hidden_sizes, validate_config
from hydroprobe.model.training import learning_rate_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "schemas" / "config.schema.yaml")


@pytest.fixture()
def default_config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.mark.parametrize(
    "preset", sorted((ROOT / "configs").glob("*.yaml")) + [ROOT / "config.yaml"], ids=lambda p: p.name
)
def test_every_shipped_config_is_valid(preset, schema):
    # a preset may be an overlay (configs/epochs.yaml): Snakemake merges --configfile onto the
    # Snakefile's config.yaml, mapping by mapping
    config = _merged(yaml.safe_load((ROOT / "config.yaml").read_text()), yaml.safe_load(preset.read_text()))
    validate_config(config, schema)


@pytest.mark.parametrize("preset", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_a_presets_learning_rates_survive_the_merge_with_config_yaml(preset):
    """Snakemake merges the schedule mapping key by key: a key of config.yaml's schedule that a
    preset leaves out would set that epoch's rate behind the preset's back."""
    own = yaml.safe_load(preset.read_text())
    if "learning_rate" not in own.get("training", {}):
        return
    merged = _merged(yaml.safe_load((ROOT / "config.yaml").read_text()), own)["training"]
    for epoch in range(1, merged["epochs"] + 1):
        effective = learning_rate_for(merged["learning_rate"], epoch)
        assert effective == learning_rate_for(own["training"]["learning_rate"], epoch), (preset.name, epoch)


def _merged(base: dict, overlay: dict) -> dict:
    merged = dict(base)
    for key, value in overlay.items():
        both_mappings = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if both_mappings else value
    return merged


def test_defaults_are_filled_in(default_config, schema):
    del default_config["training"]["nse_eps"]
    del default_config["states"]
    del default_config["training"]["learning_rate"]
    config = validate_config(default_config, schema)
    assert config["training"]["nse_eps"] == 0.1
    assert config["states"]["batch_windows"] == 1024
    assert config["training"]["learning_rate"] == {0: 1e-3, 10: 5e-4, 20: 1e-4}


def test_model_and_training_defaults_come_from_the_schema(default_config, schema):
    """The library has no second default: what the schema fills in is what the model gets."""
    for key in ("output_dropout", "initial_forget_bias", "predict_last_n"):
        del default_config["model"][key]
    for key in ("clip_grad_norm", "samples_per_epoch", "clip_target_at_zero", "device", "precision"):
        del default_config["training"][key]
    config = validate_config(default_config, schema)
    model, training = config["model"], config["training"]
    assert (model["output_dropout"], model["initial_forget_bias"], model["predict_last_n"]) == (0.4, 3.0, 1)
    assert (training["clip_grad_norm"], training["samples_per_epoch"]) == (1.0, None)
    assert (training["clip_target_at_zero"], training["device"], training["precision"]) == (
        False,
        "auto",
        "fp32",
    )


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["training"].update(epoch=3), "'training': unknown key(s) ['epoch']"),
        (lambda c: c.update(sorce="local"), "'(top level)': unknown key(s) ['sorce']"),
        (lambda c: c["training"].update(epochs=0), "'training.epochs'"),
        (lambda c: c["aggregation"].update(method="mean"), "'aggregation.method'"),
        (lambda c: c["training"].update(epochs="two"), "'training.epochs': 'two' is not of type 'integer'"),
        (
            lambda c: c["periods"].update(test=["2008-12-31", "1998-01-01"]),
            "'periods.test': start 2008-12-31 is after end 1998-01-01",
        ),
        (lambda c: c["periods"].update(train=["1993-02-30", "1997-12-31"]), "'periods.train': day is out"),
        (lambda c: c["probes"].update(targets=["swvl5"]), "'probes.targets.0'"),
        (
            lambda c: c["era5_land"].update(variables=["swvl1", "swvl2", "swvl3", "swvl4"]),
            "'probes.targets': ['sd'] not in era5_land.variables",
        ),
        (lambda c: c.update(basins=[]), "'basins': [] should be non-empty"),
        (lambda c: c.update(seeds=[]), "'seeds': [] should be non-empty"),
        (lambda c: c["training"].update(device="gpu"), "'training.device'"),
        (lambda c: c.update(source="local"), "'camels_gb.path'"),
        (lambda c: c["model"].update(hidden_size=[]), "'model.hidden_size': [] should be non-empty"),
        (lambda c: c["model"].update(hidden_size=[8, 4, 8]), "'model.hidden_size': [8, 4, 8] has non-unique"),
        (
            lambda c: c["model"].update(hidden_size=[8, 0]),
            "'model.hidden_size.1': 0 is less than the minimum",
        ),
    ],
)
def test_bad_config_names_the_key(default_config, schema, edit, key):
    config = copy.deepcopy(default_config)
    edit(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config, schema)
    message = str(err.value)
    assert message.startswith(f"config key {key}")
    assert message.count("config key") == 1 and "\n" not in message


def test_key_order_does_not_matter(default_config, schema):
    """Snakemake compares params by value and key order; the validated config is canonical."""
    reordered = {key: default_config[key] for key in reversed(list(default_config))}
    reordered["synthetic"] = dict(reversed(list(default_config["synthetic"].items())))
    a, b = validate_config(default_config, schema), validate_config(reordered, schema)
    assert repr(a) == repr(b)


def test_lees2022_preset_is_the_papers_configuration(schema):
    """Every row of the paper's LSTM table (shared docs/paper.md) in configs/lees2022.yaml."""
    # as Snakemake sees it: the preset merged onto the Snakefile's config.yaml
    preset = yaml.safe_load((ROOT / "configs" / "lees2022.yaml").read_text())
    config = validate_config(_merged(yaml.safe_load((ROOT / "config.yaml").read_text()), preset), schema)
    model, training = config["model"], config["training"]
    assert model["hidden_size"] == 64
    assert model["dynamic_inputs"] == ["precipitation", "peti", "temperature"]
    assert model["static_inputs"] == [
        "area",
        "elev_mean",
        "dpsbar",
        "sand_perc",
        "silt_perc",
        "clay_perc",
        "porosity_hypres",
        "conductivity_hypres",
        "soil_depth_pelletier",
        "dwood_perc",
        "ewood_perc",
        "crop_perc",
        "urban_perc",
        "reservoir_cap",
        "p_mean",
        "pet_mean",
        "p_seasonality",
        "frac_snow",
        "high_prec_freq",
        "low_prec_freq",
        "high_prec_dur",
        "low_prec_dur",
    ]
    assert model["target"] == "discharge_spec"
    assert (model["seq_length"], model["predict_last_n"]) == (365, 1)
    assert (model["output_dropout"], model["initial_forget_bias"]) == (0.4, 3.0)
    assert training["nse_eps"] == 0.1
    rates = [learning_rate_for(training["learning_rate"], epoch) for epoch in range(1, 31)]
    assert rates == [1e-3] * 9 + [5e-4] * 10 + [1e-4] * 11  # from epoch 10 and from epoch 20
    assert (training["epochs"], training["batch_size"], training["clip_grad_norm"]) == (30, 256, 1.0)
    assert training["samples_per_epoch"] is None  # every valid window, every epoch
    assert config["periods"] == {
        "train": ["1980-10-01", "1997-12-31"],
        "validation": ["1975-10-01", "1980-09-30"],
        "test": ["1998-01-01", "2008-12-31"],
    }
    assert config["seeds"] == [1]
    assert config["aggregation"]["method"] == "all_touched"
    assert config["probes"]["targets"] == ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]
    assert config["probes"]["snow_threshold"] == 0.05


def test_basins_file_ids_comments_and_errors(tmp_path):
    from hydroprobe.config import read_basins_file

    (tmp_path / "basins.txt").write_text("# the paper's list\n1001\n  2002  # a comment\n\ncamelsgb_3\n")
    assert read_basins_file("basins.txt", tmp_path) == [1001, 2002, "camelsgb_3"]  # relative: workflow dir
    assert read_basins_file(str(tmp_path / "basins.txt"), "/nowhere", numeric_ids=False) == [
        "1001",
        "2002",
        "camelsgb_3",
    ]
    with pytest.raises(ConfigError, match="config key 'basins_file': missing.txt not found"):
        read_basins_file("missing.txt", tmp_path)
    (tmp_path / "dup.txt").write_text("1001\n1001\n")
    with pytest.raises(ConfigError, match="empty or has duplicate ids"):
        read_basins_file("dup.txt", tmp_path)


def test_bad_input_exits_with_its_one_line():
    from hydroprobe.config import exit_on_bad_input

    with pytest.raises(SystemExit) as exit_info:
        with exit_on_bad_input():
            raise ConfigError("config key 'seeds': [] should be non-empty")
    # sys.exit with a message: Python prints it alone on stderr and exits with status 1
    assert exit_info.value.code == "ERROR ConfigError: config key 'seeds': [] should be non-empty"
    with exit_on_bad_input():
        pass  # good input: nothing happens


def test_basins_not_in_the_data_are_named_with_the_data():
    from hydroprobe.config import check_basins_in_data

    check_basins_in_data(None, [1001], "CAMELS-GB time series in /data")  # every basin
    check_basins_in_data([1001], [1001, 2002], "CAMELS-GB time series in /data")
    with pytest.raises(ConfigError) as err:
        check_basins_in_data([1001, 99999, 5], [1001, 2002], "CAMELS-GB time series in /data")
    assert str(err.value) == (
        "config key 'basins': basin(s) 99999, 5 not in the CAMELS-GB time series in /data (2 basins there)"
    )


def test_command_line_lists_of_numbers_are_read_as_numbers(default_config, schema):
    # snakemake --config 'seeds=[1,2,3]' hands the list over as strings
    config = validate_config({**default_config, "seeds": ["1", "2", "3"], "basins": ["39001"]}, schema)
    assert config["seeds"] == [1, 2, 3]
    assert config["basins"] == [39001]
    assert validate_config({**default_config, "training": {"epochs": "3"}}, schema)["training"]["epochs"] == 3
    caravan = {
        **default_config,
        "source": "caravan",
        "caravan": {"subdataset": "camels"},
        "basins": ["01013500"],
    }
    assert validate_config(caravan, schema)["basins"] == ["01013500"]  # a leading zero keeps an id a string
    with pytest.raises(ConfigError, match=r"config key 'seeds.1'"):
        validate_config({**default_config, "seeds": ["1", "two"]}, schema)


def test_hidden_size_list_is_a_sweep_headed_by_its_first_size(default_config, schema):
    # the rules see the headline size only, so adding sizes leaves the headline run's params alone
    headline, no_sweep = split_hidden_sizes(validate_config(default_config, schema))
    default_config["model"]["hidden_size"] = ["64", "4", "256"]  # as snakemake --config hands it over
    swept, sweep = split_hidden_sizes(validate_config(default_config, schema))
    assert no_sweep == [] and sweep == [64, 4, 256]
    assert swept == headline and swept["model"]["hidden_size"] == 64
