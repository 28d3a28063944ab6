"""Drift benchmark: Driftgate's `drift compare` against the floor and the peers.

    .venv/bin/python bench/drift_vs_peers.py --setup-peers          # once: peer venvs
    .venv/bin/python bench/drift_vs_peers.py [--rows 100000,1000000,5000000] [--repeat 3]
        [--methods floor,driftgate,scipy,evidently,nannyml] [--all] [--timeout 1200]
    .venv/bin/python bench/drift_vs_peers.py --rss-check 10000000   # driftgate only, peak RSS

Generates seeded baseline/current Parquet files (20 numeric + 10 categorical features, drift
planted in a known subset, ground truth in truth.json next to the data) under bench/data/, then
times each method as a separate process with `/usr/bin/time -v` (wall time, peak RSS), one process
at a time, and prints the median of --repeat runs per method and size, the accuracy of each
method's flagged features against the planted set, and the ratios the drift issue targets.

The peers never become project dependencies: Evidently and NannyML run from their own venvs under
bench/.venvs/ (created by --setup-peers from bench/requirements-peers-*.txt); the floor and the
scipy peer use the project venv. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = BENCH / "data"
VENVS = BENCH / ".venvs"
PEERS = BENCH / "peers"
PROJECT_PY = REPO / ".venv" / "bin" / "python"
TIME_BIN = "/usr/bin/time"

ALL_METHODS = ["floor", "driftgate", "scipy", "evidently", "nannyml"]
VENV_PEERS = {"evidently": "evidently", "nannyml": "nannyml"}  # method -> venv name
SLOW_PEERS = {"evidently", "nannyml"}
DEFAULT_ROWS = [100_000, 1_000_000, 5_000_000]
RSS_TARGET_GIB = 1.5
NOISY_CORES = 0.2  # other processes' CPU during a run above which a cell is marked
GIB = 1024**3

GENERATOR_VERSION = 1
CHUNK_ROWS = 500_000  # rows generated and written per step (bounded memory at 10M)
ROW_GROUP_ROWS = 250_000

NUMERIC = [f"f{i:02d}" for i in range(20)]
CATEGORICAL = [f"c{i:02d}" for i in range(10)]
NULL_RATE = {"f19": 0.01, "c09": 0.01}  # same on both sides: not a change


# ---------------------------------------------------------------------------------------------
# Data: what is planted where
# ---------------------------------------------------------------------------------------------


def _zipf(k: int) -> list[float]:
    w = [1.0 / (i + 1) for i in range(k)]
    s = sum(w)
    return [x / s for x in w]


def _uniform(k: int) -> list[float]:
    return [1.0 / k] * k


@dataclass(frozen=True)
class NumericSpec:
    role: str  # drift | nuisance | iid
    change: str
    draw: Callable[[Any, int, bool], Any]  # (rng, n, is_current) -> float64 array


@dataclass(frozen=True)
class CategoricalSpec:
    role: str
    change: str
    baseline: list[float]  # shares of levels 0..k-1
    current: list[float]  # shares of levels 0..k-1, then of new levels unseen in the baseline

    def labels(self, name: str) -> list[str]:
        k = len(self.baseline)
        new = len(self.current) - k
        return [f"{name}_v{i:03d}" for i in range(k)] + [f"{name}_new{j}" for j in range(new)]


def _mixture(rng: Any, n: int, w_second: float) -> Any:
    second = rng.random(n) < w_second
    return rng.normal(0.0, 1.0, n) * 1.0 + second * 4.0


NUMERIC_SPEC: dict[str, NumericSpec] = {
    "f00": NumericSpec(
        "drift", "normal(0,1) -> mean +0.5 sd", lambda r, n, c: r.normal(0.5 if c else 0.0, 1.0, n)
    ),
    "f01": NumericSpec(
        "drift", "normal(10,2) -> sd x1.5", lambda r, n, c: r.normal(10.0, 3.0 if c else 2.0, n)
    ),
    "f02": NumericSpec(
        "drift",
        "lognormal(0,1) -> values x1.5 (heavy tail)",
        lambda r, n, c: r.lognormal(0.0, 1.0, n) * (1.5 if c else 1.0),
    ),
    "f03": NumericSpec(
        "drift",
        "exponential(scale 1) -> scale 1.6",
        lambda r, n, c: r.exponential(1.6 if c else 1.0, n),
    ),
    "f04": NumericSpec(
        "drift",
        "uniform(0,1) -> uniform(0.15,1.15)",
        lambda r, n, c: r.uniform(0.15, 1.15, n) if c else r.uniform(0.0, 1.0, n),
    ),
    "f05": NumericSpec(
        "drift",
        "mixture N(0,1)/N(4,1) 70/30 -> 45/55",
        lambda r, n, c: _mixture(r, n, 0.55 if c else 0.30),
    ),
    "f06": NumericSpec(
        "nuisance",
        "normal(0,1) -> mean +0.01 sd",
        lambda r, n, c: r.normal(0.01 if c else 0.0, 1.0, n),
    ),
    "f07": NumericSpec(
        "nuisance",
        "normal(100,15) -> sd x1.01",
        lambda r, n, c: r.normal(100.0, 15.15 if c else 15.0, n),
    ),
    "f08": NumericSpec("iid", "normal(0,1)", lambda r, n, c: r.normal(0.0, 1.0, n)),
    "f09": NumericSpec("iid", "normal(50,10)", lambda r, n, c: r.normal(50.0, 10.0, n)),
    "f10": NumericSpec("iid", "lognormal(0,1)", lambda r, n, c: r.lognormal(0.0, 1.0, n)),
    "f11": NumericSpec("iid", "exponential(scale 2)", lambda r, n, c: r.exponential(2.0, n)),
    "f12": NumericSpec("iid", "uniform(-1,1)", lambda r, n, c: r.uniform(-1.0, 1.0, n)),
    "f13": NumericSpec("iid", "student t(3), heavy tails", lambda r, n, c: r.standard_t(3.0, n)),
    "f14": NumericSpec(
        "iid",
        "normal(0,1) rounded to 0.1 (ties)",
        lambda r, n, c: (r.normal(0.0, 1.0, n) * 10).round() / 10,
    ),
    "f15": NumericSpec("iid", "gamma(2, scale 2)", lambda r, n, c: r.gamma(2.0, 2.0, n)),
    "f16": NumericSpec("iid", "beta(2,5)", lambda r, n, c: r.beta(2.0, 5.0, n)),
    "f17": NumericSpec("iid", "normal(0,1e6) (large scale)", lambda r, n, c: r.normal(0.0, 1e6, n)),
    "f18": NumericSpec(
        "iid", "lognormal(3,1.5) (very heavy tail)", lambda r, n, c: r.lognormal(3.0, 1.5, n)
    ),
    "f19": NumericSpec(
        "iid", "normal(0,1), 1% nulls on both sides", lambda r, n, c: r.normal(0.0, 1.0, n)
    ),
}

_C02 = _uniform(8)
_C03 = _uniform(10)
CATEGORICAL_SPEC: dict[str, CategoricalSpec] = {
    "c00": CategoricalSpec(
        "drift",
        "5 levels 40/25/15/12/8% -> 15/25/20/15/25%",
        [0.40, 0.25, 0.15, 0.12, 0.08],
        [0.15, 0.25, 0.20, 0.15, 0.25],
    ),
    "c01": CategoricalSpec(
        "drift", "20 levels Zipf -> Zipf in reverse order", _zipf(20), _zipf(20)[::-1]
    ),
    "c02": CategoricalSpec(
        "drift", "8 even levels -> 15% of rows a new level", _C02, [0.85 * p for p in _C02] + [0.15]
    ),
    "c03": CategoricalSpec(
        "nuisance",
        "10 even levels -> 0.05% of rows a new level",
        _C03,
        [0.9995 * p for p in _C03] + [0.0005],
    ),
    "c04": CategoricalSpec(
        "nuisance",
        "4 levels 50/30/15/5% -> 49.5/30/15.5/5%",
        [0.50, 0.30, 0.15, 0.05],
        [0.495, 0.30, 0.155, 0.05],
    ),
    "c05": CategoricalSpec("iid", "2 levels 70/30%", [0.7, 0.3], [0.7, 0.3]),
    "c06": CategoricalSpec("iid", "10 even levels", _uniform(10), _uniform(10)),
    "c07": CategoricalSpec("iid", "50 levels Zipf", _zipf(50), _zipf(50)),
    "c08": CategoricalSpec("iid", "200 levels Zipf (high cardinality)", _zipf(200), _zipf(200)),
    "c09": CategoricalSpec(
        "iid", "3 levels 50/30/20%, 1% nulls on both sides", [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]
    ),
}


def size_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def data_dir(rows: int, seed: int) -> Path:
    return DATA / f"rows{rows}_seed{seed}"


def ground_truth(rows: int, seed: int) -> dict[str, Any]:
    features: dict[str, dict[str, Any]] = {}
    for name, spec in NUMERIC_SPEC.items():
        features[name] = {"type": "numeric", "role": spec.role, "change": spec.change}
    for name, cspec in CATEGORICAL_SPEC.items():
        features[name] = {"type": "categorical", "role": cspec.role, "change": cspec.change}
    for name, rate in NULL_RATE.items():
        features[name]["null_rate"] = rate
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "rows_per_side": rows,
        "files": {"baseline": "baseline.parquet", "current": "current.parquet"},
        "numeric": NUMERIC,
        "categorical": CATEGORICAL,
        "drifted": [f for f, v in features.items() if v["role"] == "drift"],
        "nuisance": [f for f, v in features.items() if v["role"] == "nuisance"],
        "iid": [f for f, v in features.items() if v["role"] == "iid"],
        "features": features,
        "expected": "a correct drift check flags exactly `drifted`: nuisance changes are "
        "negligible "
        "effect sizes (a 0.01-sd shift, a 1% scale change, 0.05% unseen rows, a 0.5-point share "
        "change) that p-value rules flag at large n",
        "layout": {
            "chunk_rows": CHUNK_ROWS,
            "row_group_rows": ROW_GROUP_ROWS,
            "compression": "snappy",
        },
    }


def _write_side(path: Path, rows: int, seed: int, side: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = pa.schema(
        [(c, pa.float64()) for c in NUMERIC] + [(c, pa.string()) for c in CATEGORICAL]
    )
    current = side == 1
    labels = {name: pa.array(spec.labels(name)) for name, spec in CATEGORICAL_SPEC.items()}
    tmp = path.with_name(path.name + ".tmp")
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for chunk, start in enumerate(range(0, rows, CHUNK_ROWS)):
            n = min(CHUNK_ROWS, rows - start)
            rng = np.random.default_rng([seed, side, chunk])
            arrays: list[pa.Array] = []
            for name in NUMERIC:
                values = np.asarray(NUMERIC_SPEC[name].draw(rng, n, current), dtype=np.float64)
                mask = rng.random(n) < NULL_RATE[name] if name in NULL_RATE else None
                arrays.append(pa.array(values, mask=mask))
            for name in CATEGORICAL:
                spec = CATEGORICAL_SPEC[name]
                shares = np.asarray(spec.current if current else spec.baseline, dtype=np.float64)
                codes = rng.choice(len(shares), size=n, p=shares / shares.sum())
                mask = rng.random(n) < NULL_RATE[name] if name in NULL_RATE else None
                arrays.append(pc.take(labels[name], pa.array(codes, mask=mask)))
            writer.write_table(
                pa.Table.from_arrays(arrays, schema=schema), row_group_size=ROW_GROUP_ROWS
            )
            del arrays
    tmp.replace(path)


def ensure_data(rows: int, seed: int) -> tuple[Path, Path, dict[str, Any]]:
    """Baseline/current Parquet and truth.json for this size and seed; cached on disk."""
    folder = data_dir(rows, seed)
    base, cur, truth_path = (
        folder / "baseline.parquet",
        folder / "current.parquet",
        folder / "truth.json",
    )
    if truth_path.exists() and base.exists() and cur.exists():
        truth = json.loads(truth_path.read_text())
        if truth.get("generator_version") == GENERATOR_VERSION:
            return base, cur, truth
    self_ignoring(DATA)
    folder.mkdir(parents=True, exist_ok=True)
    truth_path.unlink(missing_ok=True)  # written last: marks a complete data set
    print(f"generating {size_label(rows)} rows per side (seed {seed}) in {folder} ...", flush=True)
    started = dt.datetime.now()
    _write_side(base, rows, seed, 0)
    _write_side(cur, rows, seed, 1)
    truth = ground_truth(rows, seed)
    truth_path.write_text(json.dumps(truth, indent=2) + "\n")
    secs = (dt.datetime.now() - started).total_seconds()
    mib = (base.stat().st_size + cur.stat().st_size) / 2**20
    print(f"  done in {secs:.1f} s, {mib:.0f} MiB on disk", flush=True)
    return base, cur, truth


def warm_cache(*paths: Path) -> None:
    """Read the files once (untimed) so every method starts from a warm page cache."""
    for p in paths:
        with p.open("rb") as fh:
            while fh.read(1 << 24):
                pass


# ---------------------------------------------------------------------------------------------
# Peer venvs
# ---------------------------------------------------------------------------------------------


def self_ignoring(folder: Path) -> None:
    """Create `folder` with a `.gitignore` of `*` (as venv/uv do): generated, never committed."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("# generated by bench/drift_vs_peers.py: never committed\n*\n")


def _requirements(venv: str) -> Path:
    return BENCH / f"requirements-peers-{venv}.txt"


def _req_hash(venv: str) -> str:
    return hashlib.sha256(_requirements(venv).read_bytes()).hexdigest()


def _venv_python(venv: str) -> Path:
    return VENVS / venv / "bin" / "python"


PEER_IMPORT = {"evidently": "evidently", "nannyml": "nannyml"}
PEER_PACKAGES = {
    "evidently": ["evidently", "pandas", "numpy", "scipy", "pyarrow", "plotly"],
    "nannyml": ["nannyml", "pandas", "numpy", "scipy", "statsmodels", "pyarrow"],
}


def setup_peers() -> None:
    if not Path(TIME_BIN).exists():
        print(f"{TIME_BIN} missing: installing the Debian package `time` ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "time"], check=False)
    python311 = shutil.which("python3.11") or (
        sys.executable if sys.version_info[:2] == (3, 11) else None
    )
    if python311 is None:
        sys.exit("python3.11 not found: the peer venvs need a Python 3.11 interpreter")
    self_ignoring(VENVS)
    for venv in VENV_PEERS.values():
        ok_marker = VENVS / f"{venv}.ok"
        failed_marker = VENVS / f"{venv}.install-failed"
        if (
            ok_marker.exists()
            and ok_marker.read_text().strip() == _req_hash(venv)
            and _venv_python(venv).exists()
        ):
            print(f"peer venv {venv}: up to date")
            continue
        print(
            f"peer venv {venv}: installing {_requirements(venv).name} into {VENVS / venv} ...",
            flush=True,
        )
        ok_marker.unlink(missing_ok=True)
        failed_marker.unlink(missing_ok=True)
        log = VENVS / f"{venv}.install.log"
        with log.open("w") as fh:
            steps = [
                [python311, "-m", "venv", str(VENVS / venv)],
                [str(_venv_python(venv)), "-m", "pip", "install", "--upgrade", "pip"],
                [str(_venv_python(venv)), "-m", "pip", "install", "-r", str(_requirements(venv))],
                [str(_venv_python(venv)), "-c", f"import {PEER_IMPORT[venv]}"],
            ]
            env = {**os.environ, "NML_DISABLE_USER_ANALYTICS": "1"}
            failed = None
            for step in steps:
                fh.write(f"$ {' '.join(step)}\n")
                fh.flush()
                rc = subprocess.run(
                    step, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False
                ).returncode
                if rc != 0:
                    failed = f"`{' '.join(step[-3:])}` exited {rc}"
                    break
        if failed:
            tail = log.read_text().strip().splitlines()[-5:]
            failed_marker.write_text(failed + "\n" + "\n".join(tail) + "\n")
            print(f"peer venv {venv}: FAILED ({failed}); see {log}")
            continue
        versions = _peer_versions_probe(venv)
        (VENVS / f"{venv}.versions.json").write_text(json.dumps(versions, indent=2) + "\n")
        ok_marker.write_text(_req_hash(venv) + "\n")
        print(f"peer venv {venv}: ok {versions}")


def _peer_versions_probe(venv: str) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        f"pk = {PEER_PACKAGES[venv]!r}\n"
        "out = {}\n"
        "for p in pk:\n"
        "    try: out[p] = m.version(p)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run(
        [str(_venv_python(venv)), "-c", code], capture_output=True, text=True, check=False
    )
    return json.loads(res.stdout) if res.returncode == 0 else {"error": res.stderr.strip()[-200:]}


def peer_versions(venv: str) -> dict[str, str]:
    path = VENVS / f"{venv}.versions.json"
    return json.loads(path.read_text()) if path.exists() else {}


# ---------------------------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------------------------


def project_python() -> str:
    return str(PROJECT_PY) if PROJECT_PY.exists() else sys.executable


_driftgate_probe: str | bool | None = False  # False: not probed yet; None: available; str: why not


def unavailable(method: str) -> str | None:
    """None when the method can run here, else the reason it cannot."""
    global _driftgate_probe
    if method in VENV_PEERS:
        venv = VENV_PEERS[method]
        failed = VENVS / f"{venv}.install-failed"
        if failed.exists():
            return "does not install: " + failed.read_text().splitlines()[0]
        if not _venv_python(venv).exists() or not (VENVS / f"{venv}.ok").exists():
            return "peer venv missing: run with --setup-peers"
        return None
    if method == "driftgate":
        if _driftgate_probe is False:
            res = subprocess.run(
                [project_python(), "-m", "governance", "drift", "compare", "--help"],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            _driftgate_probe = (
                None
                if res.returncode == 0
                else "not available: `python -m governance drift compare` is not in this "
                "checkout yet"
            )
        return _driftgate_probe if isinstance(_driftgate_probe, str) else None
    return None


def command(method: str, base: Path, cur: Path, truth: dict[str, Any]) -> list[str]:
    cats = ",".join(truth["categorical"])
    if method == "floor":
        return [project_python(), str(PEERS / "floor.py"), str(base), str(cur)]
    if method == "driftgate":
        return [
            project_python(),
            "-m",
            "governance",
            "drift",
            "compare",
            str(base),
            str(cur),
            "--categorical",
            cats,
            "--format",
            "json",
        ]
    if method == "scipy":
        return [
            project_python(),
            str(PEERS / "scipy_pandas.py"),
            str(base),
            str(cur),
            "--categorical",
            cats,
        ]
    if method == "evidently":
        py = str(_venv_python("evidently"))
        return [py, str(PEERS / "evidently_run.py"), str(base), str(cur), "--categorical", cats]
    if method == "nannyml":
        py = str(_venv_python("nannyml"))
        return [py, str(PEERS / "nannyml_run.py"), str(base), str(cur), "--categorical", cats]
    raise ValueError(method)


# ---------------------------------------------------------------------------------------------
# One timed run
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    method: str
    rows: int
    rep: int
    status: str  # ok | failed | timeout
    wall_s: float | None = None
    rss_kib: int | None = None
    exit_code: int | None = None
    flagged: list[str] | None = None
    accuracy: str | None = None
    exact: bool | None = None  # flagged == planted
    cpu_s: float | None = None  # user + system time of the method's process
    other_cores: float | None = None  # cores other processes kept busy meanwhile (noise)
    notes: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""


def _parse_elapsed(text: str) -> float:
    parts = [float(p) for p in text.strip().split(":")]
    secs = 0.0
    for p in parts:
        secs = secs * 60 + p
    return secs


def _cpu_busy_seconds() -> float:
    """Machine-wide busy CPU time so far (all cores), from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait: float, threshold: float = NOISY_CORES) -> float:
    """Wait (at most max_wait s) until other processes use under `threshold` cores for 2 s.

    The harness itself is idle while it waits, so all busy time measured here is someone else's.
    Returns the cores busy in the last sample (the run starts anyway after max_wait).
    """
    import time

    deadline = time.monotonic() + max_wait
    while True:
        before = _cpu_busy_seconds()
        time.sleep(2.0)
        busy = (_cpu_busy_seconds() - before) / 2.0
        if busy < threshold or time.monotonic() >= deadline:
            return busy


def _parse_time_v(text: str) -> tuple[float | None, int | None, int | None, float | None]:
    wall = rss = code = None
    cpu = None
    user = re.search(r"User time \(seconds\): ([\d.]+)", text)
    system = re.search(r"System time \(seconds\): ([\d.]+)", text)
    if user and system:
        cpu = float(user.group(1)) + float(system.group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if m:
        wall = _parse_elapsed(m.group(1))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        rss = int(m.group(1))
    m = re.search(r"Exit status: (\d+)", text)
    if m:
        code = int(m.group(1))
    return wall, rss, code, cpu


def _parse_json(stdout: str) -> dict[str, Any] | None:
    text = stdout.strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, dict) else None
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                doc = json.loads(line)
                return doc if isinstance(doc, dict) else None
            except json.JSONDecodeError:
                return None
    return None


def accuracy_of(flagged: list[str], truth: dict[str, Any]) -> tuple[str, bool]:
    planted = set(truth["drifted"])
    got = set(flagged)
    fp = sorted(got - planted)
    missed = sorted(planted - got)
    text = f"{len(planted & got)}/{len(planted)}, fp {len(fp)}"
    extra = []
    if fp:
        extra.append("fp: " + " ".join(fp))
    if missed:
        extra.append("missed: " + " ".join(missed))
    if extra:
        text += " (" + "; ".join(extra) + ")"
    return text, got == planted


def check_driftgate(
    doc: dict[str, Any], truth: dict[str, Any]
) -> tuple[list[str] | None, list[str]]:
    """Flagged features from `drift compare --format json`, plus contract problems found."""
    problems: list[str] = []
    dataset = doc.get("dataset")
    if not isinstance(dataset, dict) or not isinstance(dataset.get("drifted_features"), list):
        return None, ["JSON has no dataset.drifted_features list"]
    for key in ("share", "verdict"):
        if key not in dataset:
            problems.append(f"dataset.{key} missing")
    features = doc.get("features")
    if not isinstance(features, list):
        problems.append("features list missing")
    else:
        names = {f.get("feature") for f in features if isinstance(f, dict)}
        expected = set(truth["numeric"]) | set(truth["categorical"])
        if names != expected:
            problems.append(f"features listed {len(names)} != {len(expected)} columns")
        required = {
            "feature",
            "type",
            "n_baseline",
            "n_current",
            "null_rate_baseline",
            "null_rate_current",
            "status",
            "score",
            "tests",
        }
        for f in features:
            if not isinstance(f, dict):
                continue
            missing = required - set(f)
            if missing:
                problems.append(f"{f.get('feature')}: missing {sorted(missing)}")
                break
        for f in features:
            if not isinstance(f, dict) or "type" not in f:
                continue
            want_num = f.get("feature") in truth["numeric"]
            is_num = "num" in str(f["type"]).lower()
            if want_num != is_num:
                problems.append(f"{f.get('feature')}: type {f['type']!r}")
    return [str(x) for x in dataset["drifted_features"]], problems


def timed_run(
    method: str, rows: int, rep: int, cmd: list[str], truth: dict[str, Any], timeout: float
) -> Run:
    env = {**os.environ, "NML_DISABLE_USER_ANALYTICS": "1"}
    run = Run(method=method, rows=rows, rep=rep, status="failed")
    with tempfile.TemporaryDirectory(prefix="driftbench-") as tmp:
        tfile, out, err = Path(tmp) / "time.txt", Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out.open("wb") as fo, err.open("wb") as fe:
            busy_before = _cpu_busy_seconds()
            proc = subprocess.Popen(
                [TIME_BIN, "-v", "-o", str(tfile), *cmd],
                stdout=fo,
                stderr=fe,
                cwd=REPO,
                env=env,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # our own process group: time + the method
                proc.wait()
                run.status = "timeout"
                run.wall_s = timeout
                run.notes.append(f"killed after {timeout:.0f} s")
                return run
        busy = _cpu_busy_seconds() - busy_before
        wall, rss, code, cpu = _parse_time_v(tfile.read_text() if tfile.exists() else "")
        run.wall_s, run.rss_kib, run.cpu_s = wall, rss, cpu
        if wall and cpu is not None:
            # Cores kept busy by OTHER processes while this one ran: the noise on a shared box.
            run.other_cores = round(max(0.0, busy - cpu) / wall, 2)
        run.exit_code = code if code is not None else proc.returncode
        stdout = out.read_text(errors="replace")
        run.stderr_tail = "\n".join(err.read_text(errors="replace").strip().splitlines()[-5:])

    if run.exit_code != 0:
        run.notes.append(f"exit {run.exit_code}")
        return run
    doc = _parse_json(stdout)
    if doc is None:
        run.notes.append("no JSON result on stdout")
        return run
    run.status = "ok"
    if method == "driftgate":
        flagged, problems = check_driftgate(doc, truth)
        run.notes.extend(problems)
        run.detail = {"verdict": doc.get("dataset", {}).get("verdict")}
    else:
        flagged = doc.get("flagged")
        run.detail = {
            k: doc[k] for k in ("versions", "rule", "flagged_p", "seconds_in_process") if k in doc
        }
    if flagged is not None:
        run.flagged = list(flagged)
        run.accuracy, run.exact = accuracy_of(run.flagged, truth)
    return run


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


@dataclass
class Cell:
    method: str
    rows: int
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None  # reason

    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.status == "ok" and r.wall_s is not None]

    @property
    def wall(self) -> float | None:
        ok = self.ok_runs()
        return statistics.median(r.wall_s for r in ok if r.wall_s is not None) if ok else None

    @property
    def rss_gib(self) -> float | None:
        ok = [r for r in self.ok_runs() if r.rss_kib is not None]
        return (
            statistics.median(r.rss_kib for r in ok if r.rss_kib is not None) * 1024 / GIB
            if ok
            else None
        )

    def timing_text(self, repeat: int) -> str:
        if self.skipped:
            return self.skipped
        if self.wall is None:
            bad = self.runs[-1] if self.runs else None
            if bad is None:
                return "not run"
            return f"{bad.status}: {'; '.join(bad.notes) or bad.stderr_tail[-120:]}"
        text = f"{self.wall:.1f} s / {self.rss_gib:.2f} GiB"
        n = len(self.ok_runs())
        if n != repeat:
            text += f" (n={n})"
        if self.noise is not None and self.noise > NOISY_CORES:
            text += f" ‡{self.noise:.1f}"
        return text

    @property
    def noise(self) -> float | None:
        """Median cores used by other processes during this cell's runs."""
        vals = [r.other_cores for r in self.ok_runs() if r.other_cores is not None]
        return statistics.median(vals) if vals else None

    def accuracy_text(self) -> str:
        if self.skipped or not self.ok_runs():
            return "–"
        accs = {r.accuracy for r in self.ok_runs()}
        acc = " | ".join(sorted(a for a in accs if a)) or "n/a"
        first = self.ok_runs()[0]
        if first.method == "driftgate":
            acc += " ✓ exact" if all(r.exact for r in self.ok_runs()) else " ✗ NOT the planted set"
            notes = sorted({n for r in self.ok_runs() for n in r.notes})
            if notes:
                acc += " [contract: " + "; ".join(notes[:4]) + "]"
        return acc


def markdown_tables(
    cells: dict[tuple[str, int], Cell], methods: list[str], rows: list[int], repeat: int
) -> str:
    head = "| method | " + " | ".join(size_label(n) for n in rows) + " |"
    sep = "|---|" + "---|" * len(rows)
    lines = [
        f"Wall time / peak RSS per whole process (median of {repeat}; n= where fewer ran; "
        "‡x: other processes kept x cores busy during the runs (median), shown above "
        f"{NOISY_CORES})",
        "",
        head,
        sep,
    ]
    for m in methods:
        lines.append(
            f"| {m} | " + " | ".join(cells[(m, n)].timing_text(repeat) for n in rows) + " |"
        )
    lines += ["", "Accuracy: planted drifted features flagged / false positives", "", head, sep]
    for m in methods:
        if m == "floor":
            continue
        lines.append(f"| {m} | " + " | ".join(cells[(m, n)].accuracy_text() for n in rows) + " |")
    return "\n".join(lines)


def ratio_lines(cells: dict[tuple[str, int], Cell], rows: list[int]) -> str:
    def wall(m: str, n: int) -> float | None:
        c = cells.get((m, n))
        return c.wall if c else None

    out = ["Ratios (median wall time):"]
    for n in rows:
        floor, dg, ev = wall("floor", n), wall("driftgate", n), wall("evidently", n)
        target = (
            " (target at 1M: <= 3x floor, Evidently >= 25x Driftgate)" if n == 1_000_000 else ""
        )
        parts = []
        parts.append(
            f"driftgate/floor = {dg / floor:.2f}x" if dg and floor else "driftgate/floor = pending"
        )
        parts.append(
            f"evidently/driftgate = {ev / dg:.1f}x"
            if ev and dg
            else "evidently/driftgate = pending"
        )
        for peer in ("scipy", "evidently", "nannyml"):
            pw = wall(peer, n)
            if pw and floor:
                parts.append(f"{peer}/floor = {pw / floor:.1f}x")
        if floor and n == 1_000_000:
            budget = 3 * floor
            if ev:
                budget = min(budget, ev / 25)
            parts.append(f"Driftgate budget to meet both targets: <= {budget:.1f} s")
        out.append(f"- {size_label(n)}: " + ", ".join(parts) + target)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    mem = ""
    cpu = platform.processor()
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))  # type: ignore[union-attr]
        mem = f"{kib / 2**20:.1f} GiB"
        cpuinfo = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", cpuinfo)
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    project = {}
    for pkg in ("duckdb", "numpy", "pandas", "pyarrow", "scipy"):
        try:
            project[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            project[pkg] = "missing"
    git = {}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "governance", "queries"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        git = {"commit": head.stdout.strip(), "governance_dirty": bool(dirty.stdout.strip())}
    except OSError:
        pass
    return {
        "git": git,
        "nproc": os.cpu_count(),
        "memory": mem,
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "project_venv": project,
        "peers": {v: peer_versions(v) for v in VENV_PEERS.values()},
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Time Driftgate's drift compare against the DuckDB floor, scipy, Evidently "
        "and NannyML.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--rows",
        default=",".join(str(n) for n in DEFAULT_ROWS),
        help="rows per side, comma-separated",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="timed runs per method and size (default 3; 1 for --rss-check)",
    )
    p.add_argument(
        "--methods",
        default=",".join(ALL_METHODS),
        help="comma-separated subset of " + ",".join(ALL_METHODS),
    )
    p.add_argument("--seed", type=int, default=20261126)
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="before each run wait up to this many seconds for other processes to go quiet "
        f"(< {NOISY_CORES} cores busy); 0 disables",
    )
    p.add_argument(
        "--timeout", type=float, default=1200.0, help="seconds per run before it is killed"
    )
    p.add_argument(
        "--slow-max-rows",
        type=int,
        default=1_000_000,
        help="Evidently/NannyML skipped above this size unless --all",
    )
    p.add_argument(
        "--all", action="store_true", help="also run Evidently and NannyML above --slow-max-rows"
    )
    p.add_argument(
        "--setup-peers",
        action="store_true",
        help="create/refresh the peer venvs under bench/.venvs (idempotent)",
    )
    p.add_argument(
        "--generate-only", action="store_true", help="only generate (or find cached) data"
    )
    p.add_argument(
        "--rss-check",
        type=int,
        metavar="ROWS",
        help="run only driftgate at ROWS per side; report peak RSS",
    )
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.setup_peers:
        setup_peers()
        if not any(
            a.startswith("--rows") or a.startswith("--methods") or a == "--rss-check"
            for a in sys.argv[1:]
        ):
            return 0
    if not Path(TIME_BIN).exists():
        sys.exit(f"{TIME_BIN} is missing: `apt-get install -y time` (or run with --setup-peers)")

    if args.rss_check:
        rows = [args.rss_check]
        methods = ["driftgate"]
        repeat = args.repeat or 1
    else:
        rows = [int(x) for x in args.rows.split(",") if x]
        methods = [m for m in args.methods.split(",") if m]
        repeat = args.repeat or 3
    unknown = sorted(set(methods) - set(ALL_METHODS))
    if unknown:
        sys.exit(f"unknown methods {unknown}; choose from {ALL_METHODS}")

    info = machine_info()
    print(
        f"machine: {info['nproc']} cores, {info['memory']}, {info['cpu']}, Python {info['python']}"
    )
    print(f"project venv: {info['project_venv']}; git {info['git']}")
    for venv, versions in info["peers"].items():
        print(f"peer venv {venv}: {versions or 'not set up'}")

    datasets = {n: ensure_data(n, args.seed) for n in rows}
    if args.generate_only:
        return 0

    cells: dict[tuple[str, int], Cell] = {}
    for n in rows:
        base, cur, truth = datasets[n]
        warm_cache(base, cur)
        for m in methods:
            cell = cells[(m, n)] = Cell(m, n)
            reason = unavailable(m)
            if m == "driftgate" and reason:
                reason = (
                    "pending: drift compare not yet merged"
                    if "not in this checkout" in reason
                    else reason
                )
            if reason is None and m in SLOW_PEERS and n > args.slow_max_rows and not args.all:
                reason = (
                    f"skipped above {size_label(args.slow_max_rows)} (Evidently ~985 s at 5M "
                    "in perf-notes); --all runs it"
                )
            if reason:
                cell.skipped = reason
                print(f"[{size_label(n)}] {m}: {reason}", flush=True)
                continue
            cmd = command(m, base, cur, truth)
            for rep in range(repeat):
                if args.quiet_wait > 0:
                    wait_for_quiet(args.quiet_wait)
                run = timed_run(m, n, rep, cmd, truth, args.timeout)
                cell.runs.append(run)
                rss = f"{run.rss_kib * 1024 / GIB:.2f} GiB" if run.rss_kib else "?"
                noisy = run.other_cores is not None and run.other_cores > NOISY_CORES
                noise = f" [other processes busy: {run.other_cores} cores]" if noisy else ""
                wall = f"{run.wall_s:.2f} s" if run.wall_s is not None else "?"
                print(
                    f"[{size_label(n)}] {m} run {rep + 1}/{repeat}: {run.status} {wall} {rss} "
                    f"{run.accuracy or ''} {'; '.join(run.notes)}{noise}",
                    flush=True,
                )
                if run.status != "ok" and run.stderr_tail:
                    print("    stderr: " + run.stderr_tail.replace("\n", "\n    "), flush=True)
                if run.status == "timeout":
                    break  # one timeout is enough: do not spend another --timeout on it

    print()
    tables = markdown_tables(cells, methods, rows, repeat)
    ratios = ratio_lines(cells, rows)
    print(tables)
    print()
    print(ratios)
    if args.rss_check:
        cell = cells[("driftgate", args.rss_check)]
        if cell.rss_gib is None:
            print(f"\nRSS check at {size_label(args.rss_check)}: {cell.timing_text(repeat)}")
        else:
            verdict = "PASS" if cell.rss_gib < RSS_TARGET_GIB else "FAIL"
            print(
                f"\nRSS check at {size_label(args.rss_check)} rows per side: "
                f"peak RSS {cell.rss_gib:.2f} GiB "
                f"(target < {RSS_TARGET_GIB} GiB): {verdict}; wall {cell.wall:.1f} s"
            )

    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    self_ignoring(DATA)
    out_dir = DATA / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "argv": sys.argv,
        "seed": args.seed,
        "repeat": repeat,
        "machine": info,
        "cells": [
            {
                "method": c.method,
                "rows": c.rows,
                "skipped": c.skipped,
                "wall_s": c.wall,
                "rss_gib": c.rss_gib,
                "runs": [asdict(r) for r in c.runs],
            }
            for c in cells.values()
        ],
    }
    (out_dir / f"{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    (out_dir / f"{stamp}.md").write_text(tables + "\n\n" + ratios + "\n")
    print(f"\nresults: {out_dir / stamp}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
