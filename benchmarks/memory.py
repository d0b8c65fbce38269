"""Resident memory of the running process, for the benchmarks' subprocess phases (Linux)."""

from __future__ import annotations

import os
import resource


def peak_rss_mb() -> float:
    """Peak resident memory of this process image, MiB: VmHWM, the high-water mark of this
    process's own address space. (``ru_maxrss`` of a child can start at the parent's RSS at fork
    time, which would mask a smaller peak; it is the fallback where /proc is unavailable.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
