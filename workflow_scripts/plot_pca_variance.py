"""Rule plot_pca_variance: explained variance ratio per principal component of the states, and
its cumulative sum, trained vs untrained, of the first seed and features, from pca_summary.csv."""

import pandas as pd

from hydroprobe.report.pca_variance import plot_pca_variance
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    seed, features = snakemake.params.seed, snakemake.params.features
    pca = pd.read_csv(snakemake.input[0])
    pca = pca[(pca["seed"] == int(seed)) & (pca["features"] == features)]
    plot_pca_variance(
        pca,
        snakemake.output.png,
        title=f"PCA of the {features} states (seed {seed})",
        extra_paths=snakemake.output.extra,
    )
