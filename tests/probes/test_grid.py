"""The probe job grid: which score files the rules make, and what the selectivity compares."""

import re
from pathlib import Path

import yaml

from hydroprobe.probes import grid
from hydroprobe.probes.fit import PROBE_KINDS

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
TARGETS = ["swvl1", "sd"]


def test_default_grid_is_the_lstm_states_and_the_state_controls():
    files = grid.probe_score_files(
        seeds=[1], features=["cell"], kinds=["linear"], targets=TARGETS, controls=["shuffle", "shift"]
    )
    assert files == [
        f"results/probes/{model}/seed1/cell/linear/{control}/{target}.csv"
        for model, control in [
            ("trained", "none"),
            ("untrained", "none"),
            ("trained", "shuffle"),
            ("trained", "shift"),
        ]
        for target in TARGETS
    ]


def test_input_controls_are_probed_once_per_seed_on_raw_features():
    jobs = grid.probe_jobs(
        seeds=[1, 2],
        features=["cell", "hidden"],
        kinds=["linear", "mlp"],
        targets=TARGETS,
        controls=["shuffle", "shift", "inputs", "inputs_all"],
    )
    inputs = [j for j in jobs if j["model"] == grid.INPUT_MODEL]
    assert {(j["features"], j["control"]) for j in inputs} == {("raw", "inputs"), ("raw", "inputs_all")}
    assert len(inputs) == 2 * 2 * 2 * len(TARGETS)  # controls x seeds x kinds x targets
    # the LSTM's states: (trained, untrained) x features without control + shuffle, shift on trained x features
    assert len(jobs) - len(inputs) == (2 * 2 + 2 * 2) * 2 * 2 * len(TARGETS)
    assert len({grid.PROBE_SCORE_PATTERN.format(**j) for j in jobs}) == len(jobs)


def test_joint_control_probes_both_lstms_on_state_and_inputs_and_brings_its_baseline():
    files = grid.probe_score_files(
        seeds=[1], features=["cell"], kinds=["linear"], targets=TARGETS, controls=["shift", "joint"]
    )
    assert files == [
        f"results/probes/{model}/seed1/{features}/linear/{control}/{target}.csv"
        for model, features, control in [
            ("trained", "cell", "none"),
            ("untrained", "cell", "none"),
            ("trained", "cell", "shift"),
            ("trained", "cell+inputs_all", "none"),
            ("untrained", "cell+inputs_all", "none"),
            ("inputs", "raw", "inputs_all"),
        ]
        for target in TARGETS
    ]
    # the baseline once, whether or not inputs_all is configured beside joint
    both = grid.probe_settings(["cell", "hidden"], ["inputs_all", "joint"])
    assert both.count(("inputs", "raw", "inputs_all")) == 1
    assert ("untrained", "hidden+inputs_all", "none") in both
    assert grid.state_features("hidden+inputs_all") == "hidden" and grid.state_features("cell") == "cell"


def test_joint_features_pass_the_rules_wildcard_constraints():
    pattern = re.compile(grid.one_of([*grid.FEATURE_VARIABLES, grid.INPUT_FEATURES, *grid.JOINT_FEATURES]))
    for name in ("cell", "raw", "cell+inputs_all", "hidden+inputs_all"):
        assert pattern.fullmatch(name)
    for name in ("cellinputs_all", "celllinputs_all", "cell+inputs"):
        assert not pattern.fullmatch(name)  # the + is literal


def test_joint_probes_pair_with_the_untrained_joint_probe_and_the_inputs_all_baseline():
    assert list(grid.selectivity_pairs(["cell", "cell+inputs_all"], controls=["inputs_all", "joint"])) == [
        ("cell", "untrained", ("untrained", "cell", "none")),
        ("cell", "inputs_all", ("inputs", "raw", "inputs_all")),
        ("cell+inputs_all", "untrained", ("untrained", "cell+inputs_all", "none")),
    ]
    assert list(grid.joint_gain_pairs(["cell", "cell+inputs_all", "raw"])) == [
        ("cell+inputs_all", "trained", ("inputs", "raw", "inputs_all")),
        ("cell+inputs_all", "untrained", ("inputs", "raw", "inputs_all")),
    ]


def test_selectivity_pairs_each_control_with_the_trained_probe():
    pairs = list(grid.selectivity_pairs(["cell", "hidden"]))
    assert pairs[:5] == [
        ("cell", "untrained", ("untrained", "cell", "none")),
        ("cell", "shuffle", ("trained", "cell", "shuffle")),
        ("cell", "shift", ("trained", "cell", "shift")),
        ("cell", "inputs", ("inputs", "raw", "inputs")),
        ("cell", "inputs_all", ("inputs", "raw", "inputs_all")),
    ]
    assert [p[0] for p in pairs[5:]] == ["hidden"] * 5
    assert list(grid.selectivity_pairs(["cell"], controls=["shift"])) == [
        ("cell", "untrained", ("untrained", "cell", "none")),
        ("cell", "shift", ("trained", "cell", "shift")),
    ]


def test_analysis_stores_cover_every_lstm_seed_and_features():
    assert grid.analysis_stores([1, 2], ["cell"]) == [
        ["trained", 1, "cell"],
        ["trained", 2, "cell"],
        ["untrained", 1, "cell"],
        ["untrained", 2, "cell"],
    ]


def test_the_config_schema_offers_the_grid_s_choices():
    probes = yaml.safe_load(SCHEMA.read_text())["properties"]["probes"]["properties"]
    assert set(probes["features"]["items"]["enum"]) == set(grid.FEATURE_VARIABLES)
    assert set(probes["controls"]["items"]["enum"]) == set(grid.CONTROLS)
    assert set(probes["kinds"]["items"]["enum"]) == set(PROBE_KINDS)
