"""Forked worker processes: every part done, a worker's failure raised in the parent."""

import os
import threading

import pytest

from hydroprobe.forked import WorkerDiedError, run_forked


def test_every_part_runs_in_its_own_process(tmp_path):
    def task(part):
        (tmp_path / f"part{part}").write_text(str(os.getpid()))

    run_forked(task, [0, 1, 2])
    pids = {(tmp_path / f"part{k}").read_text() for k in range(3)}
    assert len(pids) == 3 and str(os.getpid()) not in pids


def test_a_single_part_runs_here():
    done = []
    run_forked(done.append, ["only"])
    assert done == ["only"]


def test_a_workers_exception_is_raised_in_the_parent():
    def task(part):
        if part == 2:
            raise ValueError(f"basin group {part}: bad input")

    with pytest.raises(ValueError, match="basin group 2: bad input"):
        run_forked(task, [0, 1, 2, 3])


class Unpicklable(Exception):
    def __init__(self):
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def test_an_exception_that_does_not_pickle_comes_back_as_its_type_and_message():
    def task(part):
        raise Unpicklable()

    with pytest.raises(RuntimeError, match="Unpicklable: holds a lock"):
        run_forked(task, [0, 1])


def test_a_worker_that_dies_is_named():
    def task(part):
        if part == 1:
            os._exit(3)  # as the kernel's out-of-memory killer would leave it: no word back

    with pytest.raises(WorkerDiedError, match="part 1"):
        run_forked(task, [0, 1])
