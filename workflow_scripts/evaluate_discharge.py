"""Rule evaluate_discharge: NSE and KGE of the trained LSTM per basin on the test period."""
import pandas as pd

from hydroprobe.inference import predict_discharge
from hydroprobe.io import write_csv_atomic, open_zarr
from hydroprobe.metrics import kge, nse
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    dataset = open_zarr(snakemake.input.dataset).load()
    start, end = snakemake.params.test_period
    predicted = predict_discharge(
        snakemake.input.checkpoint, dataset, (start, end),
        batch_windows=snakemake.params.batch_windows, threads=snakemake.threads,
    )
    observed = dataset["discharge_spec"].sel(basin=predicted["basin"], time=predicted["time"])
    rows = [
        {"seed": int(snakemake.wildcards.seed), "basin": int(b),
         "nse": nse(observed.sel(basin=b).values, predicted.sel(basin=b).values),
         "kge": kge(observed.sel(basin=b).values, predicted.sel(basin=b).values)}
        for b in predicted["basin"].values
    ]
    scores = pd.DataFrame(rows)
    log.info("median test NSE %.3f, KGE %.3f", scores["nse"].median(), scores["kge"].median())
    write_csv_atomic(scores, snakemake.output[0])
