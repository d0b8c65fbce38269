"""Validate a hydroprobe config against its JSON schema, fill defaults, and explain errors.

Errors are one line naming the key at fault, e.g.
``config key 'training.epochs': -1 is less than the minimum of 1``.
"""

from __future__ import annotations

import contextlib
import copy
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from hydroprobe.errors import InputDataError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(InputDataError):
    """The configuration has an unknown key or a bad value."""


def _with_defaults(validator_class):
    """A validator that also writes each property's `default` into the instance."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"config key '{key}': unknown key(s) {extra}; allowed: {allowed}"
    return f"config key '{key}': {error.message}"


@contextlib.contextmanager
def exit_on_bad_input():
    """Stop with the one-line message of bad input on stderr and exit status 1, no traceback.

    For the Snakefile: snakemake reports an exception raised while parsing it with a traceback,
    on stdout, which buries the line that names the key at fault.
    """
    try:
        yield
    except InputDataError as err:
        sys.exit(f"ERROR {type(err).__name__}: {err}")


def check_basins_in_data(basins: Iterable | None, available: Iterable, data: str) -> None:
    """Stop when a gauge id of config ``basins`` is not among the ``available`` ones of ``data``
    (e.g. ``"CAMELS-GB time series in resources/camels_gb"``). ``None`` (every basin) passes."""
    if basins is None:
        return
    available = set(available)
    missing = [basin for basin in basins if basin not in available]
    if missing:
        raise ConfigError(
            f"config key 'basins': basin(s) {', '.join(map(str, missing))} not in the {data} "
            f"({len(available)} basins there)"
        )


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


_TYPES = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
}
_PLAIN_INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")  # "007" stays a string (a Caravan id)


def _from_command_line(value, schema: dict, root: dict):
    """`value` with the strings Snakemake's ``--config`` leaves inside lists and mappings (it
    reads ``seeds=[1,2,3]`` as ``['1', '2', '3']``) read as YAML where the schema wants a number,
    boolean or null there; anything that does not then fit is left for validation to report."""
    if "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if isinstance(value, str) and (
        "string" not in types or ("integer" in types and _PLAIN_INTEGER.match(value))
    ):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        return parsed if any(_TYPES[t](parsed) for t in types if t != "string") else value
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        other = schema.get("additionalProperties")
        other = other if isinstance(other, dict) else {}
        return {
            key: _from_command_line(item, properties.get(key, other), root) for key, item in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_from_command_line(item, schema["items"], root) for item in value]
    return value


def validate_config(config: dict, schema: dict | None = None) -> dict:
    """Return a validated copy of `config` with defaults filled in; raise ConfigError otherwise."""
    schema = schema or load_schema()
    config = _from_command_line(copy.deepcopy(dict(config)), schema, schema)
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(_describe(errors[0]))
    _check_consistency(config)
    config["training"]["learning_rate"] = {
        int(epoch): float(rate) for epoch, rate in config["training"]["learning_rate"].items()
    }
    return _with_sorted_keys(config)


def split_hidden_sizes(config: dict) -> tuple[dict, list[int]]:
    """A validated config with ``model.hidden_size`` the headline model's, and the sizes of the
    hidden-size sweep. A list of sizes names the headline model first and sweeps them all; one
    integer is the headline model alone and no sweep ([]). The rules see only the headline size,
    so the headline run's params, and its files, do not change when sizes are added."""
    sizes = config["model"]["hidden_size"]
    if not isinstance(sizes, list):
        return config, []
    return {**config, "model": {**config["model"], "hidden_size": sizes[0]}}, list(sizes)


def _with_sorted_keys(value):
    """The same nested structure with every mapping's keys in sorted order.

    Snakemake compares a rule's params with those of the last run, key order included: without
    this, reordering keys in config.yaml (or a tool that rewrites it sorted) would re-run jobs
    whose settings did not change.
    """
    if isinstance(value, dict):
        return {key: _with_sorted_keys(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [_with_sorted_keys(item) for item in value]
    return value


def _check_consistency(config: dict) -> None:
    """Rules the schema cannot express."""
    from_caravan = config["probe_target_source"] == "caravan"
    if from_caravan and config["source"] not in ("local", "download"):
        raise ConfigError(
            "config key 'probe_target_source': caravan serves a CAMELS-GB run (source local or "
            f"download), not source '{config['source']}'"
        )
    if from_caravan and config["caravan"]["subdataset"] not in (None, "camelsgb"):
        raise ConfigError("config key 'caravan.subdataset': probe targets of CAMELS-GB come from camelsgb")
    if config["source"] == "local":
        for section in ("camels_gb",) if from_caravan else ("camels_gb", "era5_land"):
            if not config[section]["path"]:
                raise ConfigError(f"config key '{section}.path': required when source is 'local'")
    if config["source"] == "caravan":
        for key in ("subdataset",):  # a null caravan.path means: download from Zenodo
            if not config["caravan"][key]:
                raise ConfigError(f"config key 'caravan.{key}': required when source is 'caravan'")
    elif any(isinstance(b, str) for b in config["basins"] or []):
        raise ConfigError("config key 'basins': gauge ids must be integers unless source is 'caravan'")
    if config["basins"] is not None and config["basins_file"]:
        raise ConfigError("config key 'basins_file': give either basins or basins_file, not both")
    first, last = config["era5_land"]["download"]["years"]
    if first > last:
        raise ConfigError(f"config key 'era5_land.download.years': first year {first} is after last {last}")
    north, west, south, east = config["era5_land"]["download"]["area"]
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 360):
        raise ConfigError(
            "config key 'era5_land.download.area': expected [North, West, South, East] "
            f"with South < North and West < East, got {config['era5_land']['download']['area']}"
        )
    for name, (start, end) in config["periods"].items():
        try:
            start_day, end_day = pd.Timestamp(start), pd.Timestamp(end)
        except ValueError as err:  # the schema's pattern lets through days like 1993-02-30
            raise ConfigError(f"config key 'periods.{name}': {err}") from None
        if start_day > end_day:
            raise ConfigError(f"config key 'periods.{name}': start {start} is after end {end}")
    missing = set(config["probes"]["targets"]) - set(config["era5_land"]["variables"])
    if missing:
        raise ConfigError(f"config key 'probes.targets': {sorted(missing)} not in era5_land.variables")
    if "0" not in config["training"]["learning_rate"] and 0 not in config["training"]["learning_rate"]:
        raise ConfigError("config key 'training.learning_rate': needs a rate for epoch 0")


def read_basins_file(name: str, workflow_dir: str | Path, numeric_ids: bool = True) -> list:
    """Gauge ids from a text file, one a line; '#' starts a comment. A relative path is looked
    up in the working directory, then in the workflow directory. ``numeric_ids``: ids made of
    digits become ints (CAMELS-GB); otherwise they stay strings (Caravan's ``camelsgb_1001``)."""
    path = Path(name)
    if not path.is_absolute() and not path.exists():
        path = Path(workflow_dir) / name
    if not path.is_file():
        raise ConfigError(f"config key 'basins_file': {name} not found")
    ids = []
    for line in path.read_text().splitlines():
        token = line.split("#", 1)[0].strip()
        if token:
            ids.append(int(token) if numeric_ids and token.isdigit() else token)
    if not ids or len(set(ids)) != len(ids):
        raise ConfigError(f"config key 'basins_file': {path} is empty or has duplicate ids")
    return ids
