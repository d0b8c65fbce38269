"""Settings every test process shares, set before anything imports torch.

Threads that wait for work sleep instead of spinning (GNU OpenMP, which torch's CPU build uses):
the suite runs on two workers and each starts snakemake jobs with torch threads of their own, more
threads than cores; spinning ones then burn the cores the others need (a small LSTM step loop ran
3-15x slower beside other work). It changes no result, only how idle threads wait; the snakemake
runs of the workflow tests inherit it.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# Files handed to the workers first: the SLURM run waits on status polls most of its ~4 minutes
# and the workflow files are the longest; started first, they overlap the many short unit tests.
FIRST = ("tests/workflow/test_slurm.py", "tests/workflow/")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return next((i for i, prefix in enumerate(FIRST) if path.startswith(prefix)), len(FIRST))

    items.sort(key=rank)  # stable: each file keeps its own order
