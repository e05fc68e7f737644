"""lethe - Python bindings of Lethe, the machine-unlearning engine.

A pure-Python package over the shared library liblethe (ctypes; NumPy for
arrays). It trains image classifiers, unlearns forget sets from them with
any method x mask x optimizer, measures UA / RA / TA / MIA-efficacy, and
runs the benchmark protocols, whose tables come back as Python objects:

    import lethe
    lethe.set_threads(1)
    r = lethe.bench_classify(quick=True, cache="out/py-cache")
    for row in r.table:
        print(row["label"], row["UA"], row["TA"])

Errors raise lethe.LetheError with Lethe's message (naming the file or
option at fault). See docs/python.md.
"""
from ._ffi import LIB_PATH, LetheError, lib as _lib
from .bench import (Report, Table, bench_classify, bench_dm_eval,
                    bench_dm_text_eval, bench_muse, bench_tofu,
                    bench_worst_case, merge_reports)
from .data import Dataset, ForgetSet
from .model import Model, avg_gap, checkpoint_metadata

__version__ = "0.1.0"

#: The classification unlearning methods, as Model.unlearn names them.
METHODS = tuple(_lib.lt_method_names().decode().split(","))
#: The classifier architectures Model.create accepts.
ARCHS = _lib.lt_model_names().decode()


def set_threads(n):
    """Threads of liblethe's OpenMP loops (process-wide; results do not
    depend on it)."""
    _lib.lt_set_num_threads(int(n))


def threads():
    return _lib.lt_num_threads()


def set_precision(name):
    """The process default precision of the matrix products: "fp32" (the
    start) or "bf16" (bf16 operands, fp32 accumulation; docs/performance.md).
    Runs whose precision= is None use it; like `--precision` on the
    command line."""
    from ._ffi import precision_value
    v = precision_value(name, "set_precision")
    _lib.lt_set_default_precision(v)


def precision():
    """The process default precision: "fp32" or "bf16"."""
    return _lib.lt_precision_name(_lib.lt_default_precision()).decode()


def backend():
    """The matrix-product backend liblethe was built with: "onednn" or
    "openblas"."""
    return _lib.lt_backend_name().decode()


def commit():
    """The commit liblethe was built from."""
    return _lib.lt_bench_commit().decode()


__all__ = ["LetheError", "Dataset", "ForgetSet", "Model", "Report", "Table",
           "bench_classify", "bench_worst_case", "bench_tofu", "bench_muse",
           "bench_dm_eval", "bench_dm_text_eval",
           "checkpoint_metadata", "avg_gap", "set_threads", "threads",
           "commit", "set_precision", "precision", "backend", "METHODS",
           "ARCHS", "LIB_PATH"]
