"""The pooled linear probe for every target at once, in one streaming pass over a zarr store.

Per target k the pass accumulates, in float64 and over the rows where the states and target k
are complete: the count n, Σx, Σy, Σy², XᵀX and Xᵀy (shifted by reference values taken from the
first block, to keep the centred moments accurate). The standardised ridge problem of
`hydroprobe.probes.fit.fit_linear_probe` is then solved from these moments alone, so the weights
are the same (to rounding) while memory is bounded by a few blocks of the store, never the store.
Each row is cast to float64 once, a cache-sized piece at a time, and enters one BLAS Gram
AᵀA of A = [x, y, 1] that serves every target present on it (`block_grams`). Blocks are read
and reduced by a few threads at once and added in store order (`fit_linear_probes_streaming`).
Why float64: the standardised Gram of trained cell states is ill-conditioned (condition number
4e4 on the default run); there a float32 Gram (about twice as fast) moved single weights by up
to 1e-3 relative and the predictions by 1e-5 of their spread (measured on the default run's
states), where float64 agrees with the closed form to 1e-8.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from hydroprobe.errors import InputDataError
from hydroprobe.probes.fit import LinearProbe


@dataclass
class Moments:
    """Shifted sufficient statistics of one target's least-squares problem."""

    x_shift: np.ndarray
    y_shift: float
    n: int = 0
    sx: np.ndarray = None
    sy: float = 0.0
    syy: float = 0.0
    xtx: np.ndarray = None
    xty: np.ndarray = None

    def __post_init__(self):
        d = self.x_shift.size
        self.sx = np.zeros(d) if self.sx is None else self.sx
        self.xtx = np.zeros((d, d)) if self.xtx is None else self.xtx
        self.xty = np.zeros(d) if self.xty is None else self.xty

    def solve(self, ridge: float = 0.0) -> LinearProbe:
        """The standardised ridge solution (as `fit_linear_probe`) from the moments."""
        d = self.x_shift.size
        if self.n <= d:
            raise InputDataError(f"linear probe: only {self.n} complete training rows for {d} features")
        mx, my = self.sx / self.n, self.sy / self.n
        cov = self.xtx / self.n - np.outer(mx, mx)
        cxy = self.xty / self.n - mx * my
        var_y = self.syy / self.n - my * my
        std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        std = np.where(std > 0, std, 1.0)
        y_std = float(np.sqrt(max(var_y, 0.0)))
        if y_std == 0:
            raise InputDataError("linear probe: the target has no variance in the training period")
        gram = self.n * cov / np.outer(std, std) + ridge * self.n * np.eye(d)
        weights = np.linalg.solve(gram, self.n * cxy / (std * y_std))
        return LinearProbe(self.x_shift + mx, std, float(self.y_shift + my), y_std, weights, 0.0)


def _blas_single_thread():
    """Context limiting BLAS to one thread: the per-block Gram matrices are small (dim × dim
    output), and a multi-threaded OpenBLAS on a busy or small machine can be ~10× slower than one
    thread (measured: 1M × 64 XᵀX 0.27 s on one thread, 3 s on two with other jobs running).
    The workers run concurrently, one BLAS thread each."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


PIECE_ROWS = 4096  # rows cast and multiplied at a time: the float64 piece (~2 MB) stays in cache


def _piece_gram(buf, x, y, code, k_n):
    """AᵀA of A = [x, y, 1] for rows that all have target code `code`: x (rows, dim) float32
    and y (rows, targets) are cast into the cache-sized scratch `buf`; the columns of targets
    absent from `code` are zeroed (they are NaN there)."""
    m, n_d = x.shape
    a = buf[:m]
    np.copyto(a[:, :n_d], x)
    np.copyto(a[:, n_d : n_d + k_n], y)
    for k in range(k_n):
        if not code >> k & 1:
            a[:, n_d + k] = 0.0
    return a.T @ a


def block_grams(x: np.ndarray, y: np.ndarray, work: dict | None = None):
    """Raw sufficient statistics of one block, for every target at once.

    `x` (time, basin, dim) states, `y` (time, basin, targets) targets (NaN: missing); or
    (rows, dim) and (rows, targets). Returns (counts per target, [G_k or None]) where G_k is the
    float64 Gram AᵀA of A = [x, y, 1] over the rows where the states and target k are complete
    (the other targets' columns zeroed where missing): its blocks are XᵀX, XᵀY, Σx, Σy, Σy², n.

    Each row carries a code, the bit set of its targets that are present. Rows are taken about
    PIECE_ROWS at a time (whole time steps in store order when the block has one code, else
    basin by basin), cast into a small float64 scratch that stays in cache and multiplied there
    by BLAS (one pass over the block, no block-sized float64 copy), the Gram added to its code's
    sum; a piece mixing codes (scattered gaps) is split by code first. A
    NaN/inf state shows on the diagonal of its piece's Gram: that piece is redone without such
    rows. Each target's G is the sum over the codes that contain it. No shift is applied here
    (see `add_block`), so blocks are independent."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 2:
        x, y = x[:, None, :], y[:, None, :]
    n_t, n_b, n_d = x.shape
    k_n = y.shape[-1]
    codes = np.zeros((n_t, n_b), dtype=np.int64)
    for k in range(k_n):
        codes |= np.isfinite(y[..., k]).astype(np.int64) << k
    key = ("piece", n_d + k_n + 1)
    buf = None if work is None else work.get(key)
    if buf is None or len(buf) < n_b:  # a piece holds at least one time step of the block
        buf = np.empty((max(PIECE_ROWS, n_b), n_d + k_n + 1))
        buf[:, -1] = 1.0
        if work is not None:
            work[key] = buf
    sums: dict[int, np.ndarray] = {}

    def add_piece(xp, yp, cp):
        c = int(cp[0]) if cp.size else 0
        if cp.size and not (cp == c).all():  # scattered gaps: one Gram per code present
            for code in np.unique(cp):
                if code:
                    sel = cp == code
                    add_piece(xp[sel], yp[sel], cp[sel])
            return
        if not c:
            return
        g = _piece_gram(buf, xp, yp, c, k_n)
        if not np.isfinite(np.diagonal(g)[:n_d]).all():  # NaN/inf states: redo without their rows
            ok = np.isfinite(xp).all(axis=1)
            add_piece(xp[ok], yp[ok], cp[ok])
        else:
            sums[c] = sums[c] + g if c in sums else g

    if codes.size == 0:
        return np.zeros(k_n, dtype=np.int64), [None] * k_n
    if (codes == codes.flat[0]).all():  # one code (typically every target complete): contiguous
        step = max(1, PIECE_ROWS // n_b)  # pieces of whole time steps, rows as stored
        pieces = [(slice(s, s + step), slice(None)) for s in range(0, n_t, step)]
    else:  # gaps: pieces basin by basin, where gaps by basin or season come as long runs
        pieces = [
            (slice(s, s + PIECE_ROWS), slice(j, j + 1)) for j in range(n_b) for s in range(0, n_t, PIECE_ROWS)
        ]
    with np.errstate(invalid="ignore", over="ignore"):
        for ts, bs in pieces:
            add_piece(x[ts, bs].reshape(-1, n_d), y[ts, bs].reshape(-1, k_n), codes[ts, bs].reshape(-1))
    counts = np.array(
        [sum(round(g[-1, -1]) for c, g in sums.items() if c >> k & 1) for k in range(k_n)], dtype=np.int64
    )
    grams = [sum(g for c, g in sums.items() if c >> k & 1) if counts[k] else None for k in range(k_n)]
    return counts, grams


def add_block(moments: dict, counts, grams, names: list[str]) -> None:
    """Add one block's `block_grams` to the per-target `moments` (in place).

    The shifts that keep the centred moments accurate are taken from the first block that has
    rows: the states' mean there (shared by all targets) and each target's mean on its first
    block. They are applied to each block's small Gram, not to its rows: the raw float64 block
    sums lose nothing that matters unless |mean| / std is beyond ~1e4."""
    for k, name in enumerate(names):
        if not counts[k]:
            continue
        g = grams[k]
        n_d = g.shape[0] - len(names) - 1
        j = n_d + k
        n_k, sx, sy = float(g[-1, -1]), g[:n_d, -1], float(g[j, -1])
        m = moments.get(name)
        if m is None:
            ref = next(iter(moments.values())).x_shift if moments else sx / n_k
            m = moments[name] = Moments(ref, sy / n_k)
        r, s = m.x_shift, m.y_shift
        m.n += int(counts[k])
        # Σ(x-r)(x-r)ᵀ = Σxxᵀ - r Σxᵀ - Σx rᵀ + n r rᵀ;  Σ(x-r) = Σx - n r
        m.xtx += g[:n_d, :n_d] - np.outer(r, sx) - np.outer(sx, r) + n_k * np.outer(r, r)
        m.sx += sx - n_k * r
        # Σ(x-r)(y-s) = Σxy - r Σy - s Σx + n r s;  Σ(y-s) = Σy - n s;  Σ(y-s)² = Σy² - 2 s Σy + n s²
        m.xty += g[:n_d, j] - r * sy - s * sx + n_k * r * s
        m.sy += sy - n_k * s
        m.syy += float(g[j, j]) - 2 * s * sy + n_k * s * s


def _block_plan(arr, time_index, max_block_mb):
    n_t, n_b, n_d = arr.shape
    ct, cb = arr.chunks[0], arr.chunks[1]
    t0, t1 = (0, n_t) if time_index is None else time_index
    per_basin_chunk = ct * cb * n_d * arr.dtype.itemsize / 2**20
    group = max(1, int(max_block_mb // max(per_basin_chunk, 1e-9)))
    for ts in range(t0 - t0 % ct, t1, ct):
        tsl = slice(max(ts, t0), min(ts + ct, t1))
        for bs in range(0, n_b, cb * group):
            yield tsl, slice(bs, min(bs + cb * group, n_b))


def iter_blocks(store: str | Path, variable: str = "c", time_index=None, max_block_mb: float = 32.0):
    """Yield (time slice, basin slice, block (time, basin, dim) float32) over the store,
    reading whole zarr chunks and grouping basin chunks up to `max_block_mb`."""
    arr = zarr.open_group(str(store), mode="r")[variable]
    for tsl, bsl in _block_plan(arr, time_index, max_block_mb):
        yield tsl, bsl, arr[tsl, bsl, :]


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this job may use (SLURM, taskset)
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def fit_linear_probes_streaming(
    store: str | Path,
    targets: xr.Dataset,
    target_names,
    train_period,
    variable: str = "c",
    ridge: float = 0.0,
    max_block_mb: float = 32.0,
    workers: int | None = None,
) -> dict[str, LinearProbe]:
    """Fit the pooled linear probe of every target in `target_names` in ONE pass over the
    states `variable` (time, basin, dim) of the zarr `store`, train period only.

    `targets` holds the targets on (basin, time) (may be lazy, e.g. the basin dataset; only the
    block matching each states block is loaded). Returns {target: LinearProbe}, equal to
    `fit_linear_probe` on the same rows.

    `workers` threads (default: the available cores + 1, at most 4) each read a block and reduce it
    to its Grams (`block_grams`); zarr's decompression and BLAS release the GIL, so reading and
    arithmetic of different blocks share all cores instead of taking turns. The blocks' Grams are
    added in store order, so the result does not depend on which thread finished first. Memory:
    about `workers` blocks as read (float32, with zarr's decoding buffers), plus a cache-sized
    float64 piece per worker."""
    target_names = list(target_names)
    k_n = len(target_names)
    # lazy, no dask (chunks=None): only the coordinates are read
    coords = xr.open_zarr(str(store), consolidated=False, chunks=None)
    times = pd.DatetimeIndex(coords["time"].values)
    basins = coords["basin"].values
    missing = np.setdiff1d(basins, targets["basin"].values)
    if missing.size:
        raise InputDataError(f"probe targets have no series for basin {int(missing[0])}")
    in_train = (times >= pd.Timestamp(train_period[0])) & (times <= pd.Timestamp(train_period[1]))
    idx = np.flatnonzero(in_train)
    if idx.size == 0:
        raise InputDataError(f"no state lies in the train period {train_period}")
    t0, t1 = int(idx[0]), int(idx[-1]) + 1  # times are sorted: the period is one index range
    b_pos = targets.get_index("basin").get_indexer(basins)
    t_pos = targets.get_index("time").get_indexer(times)
    arrays = [targets[name].transpose("basin", "time") for name in target_names]

    def block_targets(tsl, bsl) -> np.ndarray:
        """The targets of one states block, (time, basin, target) float64, NaN where absent.
        Read in the calling thread: xarray objects are not shared with the workers."""
        tp, bp = t_pos[tsl], b_pos[bsl]
        ok = tp >= 0
        y = np.full((k_n, len(bp), len(tp)), np.nan)
        if ok.any():
            tsel = tp[ok]
            if ok.all() and (np.diff(tsel) == 1).all():
                tsel = slice(int(tsel[0]), int(tsel[-1]) + 1)
            bsel = slice(int(bp[0]), int(bp[-1]) + 1) if (np.diff(bp) == 1).all() else bp
            for k, da in enumerate(arrays):
                y[k][:, ok] = np.asarray(da.isel(basin=bsel, time=tsel).values)  # (basin, time)
        return y.transpose(2, 1, 0)

    arr = zarr.open_group(str(store), mode="r")[variable]
    scratch = threading.local()  # each worker reuses its own float64 piece

    def reduce_block(tsl, bsl, y):
        work = scratch.__dict__.setdefault("work", {})
        return block_grams(arr[tsl, bsl, :], y, work)

    # one more worker than cores: while one waits on zarr's decompression threads, the others compute
    workers = max(1, workers or min(4, _available_cores() + 1))
    moments: dict[str, Moments] = {}
    pending: deque = deque()
    with _blas_single_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        for tsl, bsl in _block_plan(arr, (t0, t1), max_block_mb):
            pending.append(pool.submit(reduce_block, tsl, bsl, block_targets(tsl, bsl)))
            while len(pending) > workers:  # bounded: blocks in flight, not the store
                add_block(moments, *pending.popleft().result(), target_names)
        while pending:
            add_block(moments, *pending.popleft().result(), target_names)
    out = {}
    for name in target_names:
        if name not in moments:
            raise InputDataError(f"linear probe: no complete training rows for target '{name}'")
        out[name] = moments[name].solve(ridge)
    return out
