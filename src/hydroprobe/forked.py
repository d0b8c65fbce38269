"""Run a task over parts of a job in forked worker processes, one part each, all at once.

For CPU work whose single operations use several cores badly (the LSTM's small matrix products:
two threads run a window batch 1.4x as fast as one), a process per core on its own share of the
work scales with the cores. Forked workers inherit the parent's memory (the model, the loaded
dataset) without copying it; the task and its parts are never pickled. Fork only before the
parent has started thread pools it relies on in the children (OpenMP, CUDA): the caller keeps
torch single-threaded and on the CPU when it forks.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import TypeVar

Part = TypeVar("Part")


class WorkerDiedError(RuntimeError):
    """A worker process ended without saying how its part went (killed, out of memory)."""


def run_forked(task: Callable[[Part], None], parts: Sequence[Part]) -> None:
    """``task(part)`` for every part, each in its own forked process, all started at once.

    Returns when every part is done. The first failure is raised here — the worker's own
    exception where it can be sent back, else a RuntimeError with its type and message, or
    WorkerDiedError naming the part — once the other workers have been stopped. A single part
    runs in this process.
    """
    if len(parts) <= 1:
        for part in parts:
            task(part)
        return
    context = multiprocessing.get_context("fork")
    running = {}
    try:
        for part in parts:
            receive, send = context.Pipe(duplex=False)
            worker = context.Process(target=_work, args=(task, part, send), daemon=True)
            worker.start()
            send.close()  # the child holds the sending end: its exit closes the pipe
            running[receive] = (worker, part)
        while running:
            for receive in wait(list(running)):
                worker, part = running.pop(receive)
                try:
                    failure = receive.recv()
                except EOFError:
                    failure = WorkerDiedError(f"the worker for part {part!r} ended without a result")
                worker.join()
                if failure is None and worker.exitcode != 0:
                    failure = WorkerDiedError(
                        f"the worker for part {part!r} exited with code {worker.exitcode}"
                    )
                if failure is not None:
                    raise failure
    finally:
        for worker, _ in running.values():
            worker.terminate()
        for worker, _ in running.values():
            worker.join()


def _work(task: Callable, part, send) -> None:
    """In the child: run the part, send back None or the failure."""
    try:
        task(part)
    except BaseException as failure:  # everything goes back to the parent, which raises it
        try:
            send.send(failure)
        except Exception:  # an exception that does not pickle: its type and message do
            send.send(RuntimeError(f"{type(failure).__name__}: {failure}"))
    else:
        send.send(None)
    finally:
        send.close()
