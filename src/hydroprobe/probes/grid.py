"""Which probes the workflow fits, where their scores go, and which probe each control is
compared with.

A probe job is one (model, seed, features, probe kind, control, target):

- models `trained` and `untrained` (the same LSTM before training), control `none`: the probe on
  the LSTM's `cell` or `hidden` state;
- model `trained`, control `shuffle` or `shift` (`STATE_CONTROLS`): the trained states with the
  basin labels permuted or moved in time;
- model `inputs`, features `raw`, control `inputs` or `inputs_all` (`INPUT_CONTROLS`): the same
  probe on the last days of raw inputs, no LSTM involved (per seed: the mlp and sgd_elasticnet
  probes are seeded, and the selectivity pairs the baseline with each seed's trained probe);
- config control `joint` (`JOINT_CONTROL`): models `trained` and `untrained`, features
  `cell+inputs_all` (`joint_features`), control `none`: the probe on the state together with the
  `inputs_all` lags, compared with the `inputs_all` baseline (which `joint` therefore implies):
  what the state adds to the inputs it has seen.

The rules build their file lists, path patterns and wildcard constraints from this module, and
the selectivity table (`hydroprobe.report.tables`) its pairs, so the two cannot disagree.
Plain Python on purpose: the Snakefile imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# feature name (config probes.features) -> variable of the states store
FEATURE_VARIABLES = {"cell": "c", "hidden": "h"}

TRAINED = "trained"
UNTRAINED = "untrained"
LSTM_MODELS = (TRAINED, UNTRAINED)
INPUT_MODEL = "inputs"  # the raw-input baselines
INPUT_FEATURES = "raw"

NO_CONTROL = "none"
STATE_CONTROLS = ("shuffle", "shift")  # on the trained LSTM's states
INPUT_CONTROLS = ("inputs", "inputs_all")  # raw precipitation / every dynamic input
JOINT_CONTROL = "joint"  # the state together with the JOINT_INPUTS lags, both LSTMs
JOINT_INPUTS = "inputs_all"  # the raw-input baseline the joint probe extends and is compared with
CONTROLS = STATE_CONTROLS + INPUT_CONTROLS + (JOINT_CONTROL,)  # the choices of config probes.controls


def joint_features(features: str) -> str:
    """The features name of the joint probe on the state `features` (`cell` -> `cell+inputs_all`)."""
    return f"{features}+{JOINT_INPUTS}"


def state_features(features: str) -> str:
    """The state features a features name reads (`cell+inputs_all` -> `cell`, `cell` -> `cell`)."""
    return features.split("+", 1)[0]


JOINT_FEATURES = tuple(joint_features(f) for f in FEATURE_VARIABLES)

PROBE_SCORE_PATTERN = "results/probes/{model}/seed{seed}/{features}/{probe}/{control}/{target}.csv"
# the per-dimension analysis of one states store (hydroprobe.probes.analysis)
ANALYSIS_DIR = "results/analysis/{model}/seed{seed}/{features}"


def figure_probe_kind(kinds: Iterable[str]) -> str:
    """The probe kind the figures of single probes show: the paper's pooled `linear` when it was
    fitted, else the first configured kind."""
    kinds = list(kinds)
    return "linear" if "linear" in kinds else kinds[0]


def one_of(names: Iterable[str]) -> str:
    """A wildcard constraint (regular expression) matching exactly one of `names` (escaped: the
    joint features hold a `+`)."""
    return "|".join(re.escape(str(name)) for name in names)


def probe_settings(features: Iterable[str], controls: Iterable[str]) -> list[tuple[str, str, str]]:
    """Every (model, features, control) probed, for the configured state `features` and
    `controls`: the trained and untrained states without control, the state controls on the
    trained states, the joint probes of both LSTMs (control `joint`), then the raw-input controls
    (features `raw`; `joint` brings its `inputs_all` baseline). Unknown controls are ignored."""
    features, controls = list(features), list(controls)
    joint = JOINT_CONTROL in controls
    settings = [(model, f, NO_CONTROL) for model in LSTM_MODELS for f in features]
    settings += [(TRAINED, f, c) for f in features for c in controls if c in STATE_CONTROLS]
    if joint:
        settings += [(model, joint_features(f), NO_CONTROL) for model in LSTM_MODELS for f in features]
    settings += [
        (INPUT_MODEL, INPUT_FEATURES, c)
        for c in INPUT_CONTROLS
        if c in controls or (joint and c == JOINT_INPUTS)
    ]
    return settings


def probe_jobs(
    seeds: Iterable[int],
    features: Iterable[str],
    kinds: Iterable[str],
    targets: Iterable[str],
    controls: Iterable[str],
) -> list[dict]:
    """The wildcards of every probe job: each of `probe_settings` for every seed, probe kind and
    target (in that order, target innermost)."""
    seeds, kinds, targets = list(seeds), list(kinds), list(targets)
    return [
        dict(model=model, seed=seed, features=feats, probe=probe, control=control, target=target)
        for model, feats, control in probe_settings(features, controls)
        for seed in seeds
        for probe in kinds
        for target in targets
    ]


def probe_score_files(**grid) -> list[str]:
    """The score file (`PROBE_SCORE_PATTERN`) of every job of `probe_jobs(**grid)`."""
    return [PROBE_SCORE_PATTERN.format(**job) for job in probe_jobs(**grid)]


def selectivity_pairs(
    features: Iterable[str], controls: Iterable[str] = CONTROLS
) -> Iterator[tuple[str, str, tuple[str, str, str]]]:
    """What each trained probe is compared with: (its features, control label, the (model,
    features, control) of the control probe) per features setting of the trained probe.

    The label is the control, or `untrained` for the untrained LSTM on the same features; the
    state controls use the same features, the raw-input controls serve every state features
    setting. A joint probe (`cell+inputs_all`) is compared with the untrained joint probe only:
    its gain over the inputs is the joint-gain table's (`hydroprobe.report.tables`)."""
    controls = [c for c in controls if c != JOINT_CONTROL]
    for feats in features:
        own = controls if feats in FEATURE_VARIABLES else []
        for model, control_feats, control in probe_settings([feats], own):
            if (model, control) != (TRAINED, NO_CONTROL):
                yield feats, model if control == NO_CONTROL else control, (model, control_feats, control)


def joint_gain_pairs(features: Iterable[str]) -> Iterator[tuple[str, str, tuple[str, str, str]]]:
    """What the joint-gain table compares, per joint features setting among `features` (names as
    in the scores): (joint features, LSTM model, the (model, features, control) of the raw-input
    baseline the joint probe extends)."""
    for feats in features:
        if feats in JOINT_FEATURES:
            for model in LSTM_MODELS:
                yield feats, model, (INPUT_MODEL, INPUT_FEATURES, JOINT_INPUTS)


def analysis_stores(seeds: Iterable[int], features: Iterable[str]) -> list[list]:
    """[model, seed, features] of every states store analysed per dimension (`ANALYSIS_DIR`):
    each LSTM model, seed and state features, in that order."""
    features = list(features)
    return [[model, seed, f] for model in LSTM_MODELS for seed in seeds for f in features]
