"""Rule analyse_cell_states: the pooled linear probe's standardised weights per target (train
period), each state dimension's Pearson r with each target (test period) and a PCA of the
standardised states (fitted on train, components correlated with the targets on test).
Reads the states store block by block, the train period once and the test period once (memory: a
few blocks, not the store); see hydroprobe.probes.analysis."""

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.probes.analysis import analyse_states, top_dimensions
from hydroprobe.probes.fit import select_features
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    wc, p = snakemake.wildcards, snakemake.params
    dataset = open_zarr(snakemake.input.dataset)
    states = select_features(open_zarr(snakemake.input.states), wc.features)
    tables = analyse_states(states, dataset, **p)
    log.info(
        "%s seed %s %s: dimension of largest |r| per target (test period)\n%s",
        wc.model,
        wc.seed,
        wc.features,
        top_dimensions(tables["dimension_correlations"]).to_string(index=False),
    )
    log.info(
        "PCA (train period), first components\n%s", tables["pca"].head(p.n_components).to_string(index=False)
    )
    write_csv_atomic(tables["probe_weights"], snakemake.output.weights)
    write_csv_atomic(tables["dimension_correlations"], snakemake.output.correlations)
    write_csv_atomic(tables["pca"], snakemake.output.pca)
