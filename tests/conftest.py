"""Settings every test process shares, set before anything imports torch.

Threads that wait for work sleep instead of spinning (GNU OpenMP, which torch's CPU build uses):
the suite runs on two workers and each starts snakemake jobs with torch threads of their own, more
threads than cores; spinning ones then burn the cores the others need (a small LSTM step loop ran
3-15x slower beside other work). It changes no result, only how idle threads wait; the snakemake
runs of the workflow tests inherit it.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
