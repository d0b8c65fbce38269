"""The pooled linear probe for every target at once, in one streaming pass over a zarr store.

Per target k the pass accumulates, in float64 and over the rows where the states and target k
are complete: the count n, Σx, Σy, Σy², XᵀX and Xᵀy (data shifted by a reference value taken from
the first block, to keep the centred moments accurate). The standardised ridge problem of
`hydroprobe.probes.fit_linear_probe` is then solved from these moments alone, so the weights
are the same (to rounding) while memory is bounded by one block of the store, never the store.
Each block costs one float64 copy, one BLAS XᵀX shared by every target and one XᵀY for all
targets; a target missing on some rows gets a Gram correction for those rows only. The next block
is read in a background thread while the current one is accumulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from hydroprobe.errors import InputDataError
from hydroprobe.probes import LinearProbe


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
    The read runs concurrently in another thread, so one BLAS thread keeps both cores busy."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        from contextlib import nullcontext
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _code_grams(a, codes):
    """{code: AᵀA} over the runs of equal `codes` (rows in order), or None when the runs are too
    short for per-run BLAS calls to pay off. Code 0 (no target) is skipped."""
    cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    if cuts.size + 1 > max(1, codes.size // 512):  # runs of 512+ rows on average
        return None
    out: dict[int, np.ndarray] = {}
    for s, e in zip(np.r_[0, cuts], np.r_[cuts, codes.size]):
        c = int(codes[s])
        if c:
            part = a[s:e]
            out[c] = out[c] + part.T @ part if c in out else part.T @ part
    return out


def _buffer(work: dict | None, key: str, shape, dtype=np.float64) -> np.ndarray:
    """A scratch array of `shape`, reused across blocks through `work`: a fresh 64 MB array per
    block costs its page faults every time (measured ~5× the cost of the copy into it)."""
    size = int(np.prod(shape))
    if work is None:
        return np.empty(shape, dtype)
    buf = work.get(key)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = work[key] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def _target_grams(a, y_ok, feat_ok):
    """(counts per target, [AᵀA over each target's rows]) for the filled block matrix A.

    `y_ok` (rows, targets): where each target is finite; `feat_ok` (rows,): where the states are
    (None: all, not yet checked). Rows without the target contribute nothing to its moments; a
    row with no target at all to none, so it is never multiplied (the runs path skips it)."""
    k_n = y_ok.shape[1]
    have = y_ok if feat_ok is None else y_ok & feat_ok[:, None]
    counts = have.sum(axis=0)
    n_ok = y_ok.shape[0] if feat_ok is None else int(feat_ok.sum())
    if (counts == n_ok).all():
        gram = a.T @ a
        return counts, [gram] * k_n
    codes = np.zeros(y_ok.shape[0], dtype=np.int64)
    for k in range(k_n):
        codes |= have[:, k].astype(np.int64) << k
    grams = _code_grams(a, codes)
    if grams is not None:
        return counts, [sum(g for c, g in grams.items() if c >> k & 1) if counts[k] else None
                        for k in range(k_n)]
    ok = np.ones(y_ok.shape[0], dtype=bool) if feat_ok is None else feat_ok
    gram = a.T @ a
    per_target: list = [None] * k_n
    done: dict[bytes, np.ndarray] = {}
    for k in range(k_n):
        if not counts[k]:
            continue
        miss = ok & ~y_ok[:, k]  # complete states, no target: not in this target's moments
        if not miss.any():
            per_target[k] = gram
            continue
        key = np.packbits(miss).tobytes()
        if key not in done:
            if miss.sum() <= counts[k]:
                am = a[miss]
                done[key] = gram - am.T @ am
            else:
                ah = a[have[:, k]]
                done[key] = ah.T @ ah
        per_target[k] = done[key]
    return counts, per_target


def accumulate_block(moments: dict, x: np.ndarray, y: np.ndarray, names: list[str],
                     work: dict | None = None) -> None:
    """Add one block: x (rows, dim) states, y (rows, targets) to the per-target moments (x may
    also be (..., dim) with y (..., targets) of the same leading shape, e.g. a transposed view).

    The block is copied once into a reused C-contiguous float64 matrix A = [x, y - y_ref, 1]
    (missing target values zeroed; the shift x_ref of the first block, shared by all targets, is
    applied to the resulting Gram), and ONE
    BLAS call AᵀA gives XᵀX, XᵀY of every target, Σx, Σy, Σy² and n together. Where targets are
    missing on some rows with complete states, rows are grouped by which targets they have: if
    the groups come in long runs (gaps by basin or season; rows are basin-major) one AᵀA per run,
    so the block still costs one pass; else each target's AᵀA is the full one minus its missing
    rows' (or, if they are the majority, from its rows alone)."""
    k_n = len(names)
    x = np.asarray(x)
    n_d = x.shape[-1]
    y = np.asarray(y, dtype=np.float64).reshape(-1, k_n)  # may be a strided view
    n_rows = y.shape[0]
    if n_rows == 0:
        return
    ref = next(iter(moments.values())).x_shift if moments else None
    if ref is None:
        xf = x.reshape(-1, n_d)
        feat_ok = np.isfinite(xf).all(axis=1)
        if not (feat_ok.any() and np.isfinite(y[feat_ok]).any()):
            return
        ref = xf[feat_ok].mean(axis=0, dtype=np.float64)
    a = _buffer(work, "a", (n_rows, n_d + k_n + 1))
    xs = a[:, :n_d]
    # cast into the reused buffer; the states' shift is applied to the block's Gram below (a
    # 64 × 64 correction instead of a pass over every row: the block's raw float64 moments lose
    # nothing that matters unless |mean| / std of a dimension is beyond ~1e4)
    np.copyto(xs.reshape(*x.shape[:-1], n_d), x)
    y_ok = np.isfinite(y)
    for k, name in enumerate(names):  # a target's shift: its mean on its first complete rows
        if name not in moments and y_ok[:, k].any():
            sel = y_ok[:, k] & np.isfinite(xs).all(axis=1)
            if sel.any():
                moments[name] = Moments(ref, float(y[sel, k].mean()))
    y_shift = np.array([moments[nm].y_shift if nm in moments else 0.0 for nm in names])
    ys = a[:, n_d:n_d + k_n]
    np.subtract(y, y_shift, out=ys)
    if not y_ok.all():
        ys[~y_ok] = 0.0
    a[:, -1] = 1.0
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf states are handled just below
        counts, per_target = _target_grams(a, y_ok, None)
    if not all(np.isfinite(np.diagonal(g)[:n_d]).all() for g in per_target if g is not None):
        # a NaN/inf state shows on the diagonal of a Gram it entered: drop such rows everywhere
        feat_ok = np.isfinite(xs).all(axis=1)
        a[~feat_ok] = 0.0
        counts, per_target = _target_grams(a, y_ok, feat_ok)
    for k, name in enumerate(names):
        if not counts[k]:
            continue
        g, m, j = per_target[k], moments[name], n_d + k
        n_k, sx_raw, sy = float(g[-1, -1]), g[:n_d, -1], float(g[j, -1])
        m.n += int(counts[k])
        # Σ(x-r)(x-r)ᵀ = Σxxᵀ - r Σxᵀ - Σx rᵀ + n r rᵀ;  Σ(x-r) = Σx - n r;  Σ(x-r)y = Σxy - r Σy
        m.xtx += g[:n_d, :n_d] - np.outer(ref, sx_raw) - np.outer(sx_raw, ref) + n_k * np.outer(ref, ref)
        m.sx += sx_raw - n_k * ref
        m.xty += g[:n_d, j] - ref * sy
        m.sy += sy
        m.syy += float(g[j, j])


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


def iter_blocks(store: str | Path, variable: str = "c", time_index=None, max_block_mb: float = 32.0,
                prefetch: bool = False):
    """Yield (time slice, basin slice, block (time, basin, dim) float32) over the store,
    reading whole zarr chunks and grouping basin chunks up to `max_block_mb`.

    With `prefetch`, the next block is read in a background thread while the caller works on
    the current one (memory: two blocks)."""
    arr = zarr.open_group(str(store), mode="r")[variable]
    plan = _block_plan(arr, time_index, max_block_mb)
    if not prefetch:
        for tsl, bsl in plan:
            yield tsl, bsl, arr[tsl, bsl, :]
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        nxt = next(plan, None)
        fut = pool.submit(arr.__getitem__, (nxt[0], nxt[1], slice(None))) if nxt else None
        while fut is not None:
            block, cur = fut.result(), nxt
            nxt = next(plan, None)
            fut = pool.submit(arr.__getitem__, (nxt[0], nxt[1], slice(None))) if nxt else None
            yield cur[0], cur[1], block


def fit_linear_probes_streaming(store: str | Path, targets: xr.Dataset, target_names, train_period,
                                variable: str = "c", ridge: float = 0.0,
                                max_block_mb: float = 32.0) -> dict[str, LinearProbe]:
    """Fit the pooled linear probe of every target in `target_names` in ONE pass over the
    states `variable` (time, basin, dim) of the zarr `store`, train period only.

    `targets` holds the targets on (basin, time) (may be lazy, e.g. the basin dataset; only the
    block matching each states block is loaded). Returns {target: LinearProbe}, equal to
    `fit_linear_probe` on the same rows."""
    target_names = list(target_names)
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
    moments: dict[str, Moments] = {}
    work: dict[str, np.ndarray] = {}  # scratch arrays reused from block to block
    arrays = [targets[name].transpose("basin", "time") for name in target_names]
    with _blas_single_thread():
        for tsl, bsl, block in iter_blocks(store, variable, (t0, t1), max_block_mb, prefetch=True):
            tp, bp = t_pos[tsl], b_pos[bsl]
            ok = tp >= 0
            # rows basin-major (basin, time): the targets' own order, and gaps by basin become runs
            y = _buffer(work, "y", (len(target_names), len(bp), len(tp)))  # contiguous per target
            if not ok.all():
                y.fill(np.nan)
            if ok.any():
                tsel = tp[ok]
                if ok.all() and tsel.size and (np.diff(tsel) == 1).all():
                    tsel = slice(int(tsel[0]), int(tsel[-1]) + 1)
                bsel = slice(int(bp[0]), int(bp[-1]) + 1) if (np.diff(bp) == 1).all() else bp
                for k, da in enumerate(arrays):
                    vals = np.asarray(da.isel(basin=bsel, time=tsel).values)  # (basin, time)
                    if ok.all():
                        y[k] = vals
                    else:
                        y[k][:, ok] = vals
            accumulate_block(moments, block.transpose(1, 0, 2), y.reshape(len(target_names), -1).T,
                             target_names, work)
    out = {}
    for name in target_names:
        if name not in moments:
            raise InputDataError(f"linear probe: no complete training rows for target '{name}'")
        out[name] = moments[name].solve(ridge)
    return out
