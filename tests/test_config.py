"""Config validation: defaults filled, unknown keys and bad values named in one line."""
import copy
from pathlib import Path

import pytest
import yaml

from hydroprobe.config import ConfigError, load_schema, validate_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "schemas" / "config.schema.yaml")


@pytest.fixture()
def default_config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.mark.parametrize("preset", sorted((ROOT / "configs").glob("*.yaml")) + [ROOT / "config.yaml"],
                         ids=lambda p: p.name)
def test_every_shipped_config_is_valid(preset, schema):
    validate_config(yaml.safe_load(preset.read_text()), schema)


def test_defaults_are_filled_in(default_config, schema):
    del default_config["training"]["nse_eps"]
    del default_config["states"]
    del default_config["training"]["learning_rate"]
    config = validate_config(default_config, schema)
    assert config["training"]["nse_eps"] == 0.1
    assert config["states"]["batch_windows"] == 1024
    assert config["training"]["learning_rate"] == {0: 1e-3, 10: 5e-4, 20: 1e-4}


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["training"].update(epoch=3), "'training': unknown key(s) ['epoch']"),
        (lambda c: c.update(sorce="local"), "'(top level)': unknown key(s) ['sorce']"),
        (lambda c: c["training"].update(epochs=0), "'training.epochs'"),
        (lambda c: c["aggregation"].update(method="mean"), "'aggregation.method'"),
        (lambda c: c["periods"].update(test=["2008-12-31", "1998-01-01"]), "'periods.test'"),
        (lambda c: c["probes"].update(targets=["swvl5"]), "'probes.targets.0'"),
        (lambda c: c["training"].update(device="gpu"), "'training.device'"),
        (lambda c: c.update(source="local"), "'camels_gb.path'"),
    ],
)
def test_bad_config_names_the_key(default_config, schema, edit, key):
    config = copy.deepcopy(default_config)
    edit(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config, schema)
    message = str(err.value)
    assert key in message
    assert "\n" not in message


def test_key_order_does_not_matter(default_config, schema):
    """Snakemake compares params by value and key order; the validated config is canonical."""
    reordered = {key: default_config[key] for key in reversed(list(default_config))}
    reordered["synthetic"] = dict(reversed(list(default_config["synthetic"].items())))
    a, b = validate_config(default_config, schema), validate_config(reordered, schema)
    assert repr(a) == repr(b)
