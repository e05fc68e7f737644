"""The benchmark protocols of the lethe module: each runs liblethe's
protocol (lethe/bench.h) from its library defaults, with keyword options
named as the fields of its config struct, and returns a Report of Table
objects (rows as dicts), read from the report's JSON writer so Python sees
exactly what `lethe bench ... --json` writes. Every protocol also takes
precision="fp32" or "bf16" (None: the process default, lethe.set_precision);
the report's settings record the precision and backend that ran."""
import ctypes
import json
import os
import sys
import tempfile

from . import _ffi
from ._ffi import LetheError, check, enc, lib


class Table:
    """One result table: `columns` (the JSON's: key, head, number, fmt,
    sci_below, json_only), `rows` (one
    dict per row: the text cells by key, each number column's mean by key
    and sample std as key + "_std", "seeds", "runs", "failed",
    "diverged", "message")."""

    def __init__(self, title, columns, rows):
        self.title, self.columns, self.rows = title, columns, rows

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    @property
    def keys(self):
        return [c["key"] for c in self.columns]

    def row(self, label, key="label"):
        """The first row whose text cell key equals label (KeyError if
        none)."""
        for r in self.rows:
            if r.get(key) == label:
                return r
        raise KeyError(label)

    def column(self, key):
        """The values of column key, one per row (None where missing)."""
        return [r.get(key) for r in self.rows]

    def __repr__(self):
        return "<lethe.Table %r: %d rows x %d columns>" % (
            self.title, len(self.rows), len(self.columns))


class Report:
    """What a protocol returns: title, settings (dict: command, commit,
    seeds, ...), seconds, tables (list of Table; `table` is the first),
    markdown (the text `lethe bench` prints) and json (the parsed file)."""

    def __init__(self, data, markdown):
        self.json = data
        self.markdown = markdown
        self.title = data.get("title", "")
        self.settings = data.get("settings", {})
        self.seconds = data.get("seconds")
        self.tables = [Table(t.get("title", ""), t.get("columns", []),
                             t.get("rows", []))
                       for t in data.get("tables", [])]

    @property
    def table(self):
        return self.tables[0]

    def __repr__(self):
        return "<lethe.Report %r: %d tables>" % (self.title, len(self.tables))


def _print_note(kind, text):
    if kind == 0:  # LT_BENCH_NOTE
        print(text, file=sys.stderr)


def _run(fn, cfg, progress, command, extra=()):
    """Run protocol fn on cfg; the Report, or LetheError."""
    if progress is True:
        progress = _print_note
    keep = None
    if progress:
        def on_event(_ud, ev):
            e = ev.contents
            progress(e.kind, (e.text or b"").decode("utf-8", "replace"))
        keep = cfg.progress = _ffi.BENCH_PROGRESS(on_event)
    cfg.command = enc(command)
    rep = _ffi.ReportStruct()
    try:
        check(fn(ctypes.byref(cfg), ctypes.byref(rep), *extra))
        return _report_of(rep)
    finally:
        lib.lt_report_free(ctypes.byref(rep))
        del keep


def _report_of(rep):
    """The Report of a filled lt_report (its JSON and Markdown writers;
    the JSON names each table's columns)."""
    with tempfile.TemporaryDirectory(prefix="lethe-py-") as d:
        jp, mp = os.path.join(d, "r.json"), os.path.join(d, "r.md")
        check(lib.lt_report_write_json(ctypes.byref(rep), enc(jp)))
        check(lib.lt_report_write_markdown(ctypes.byref(rep), enc(mp)))
        with open(jp, encoding="utf-8") as f:
            data = json.load(f)
        with open(mp, encoding="utf-8") as f:
            md = f.read()
    return Report(data, md)


def merge_reports(paths, columns=None):
    """One Report from the JSON reports (`lethe bench --json`) of one
    benchmark run once per seed, as `lethe report merge` makes it: rows
    matched by their text cells, every file's runs in each row (mean and
    sample std), differing settings joined by " | " (lt_report_merge).
    columns: a newer report of the same benchmark whose column heads and
    formats to use for files written before reports named them."""
    paths = list(paths)
    ins = (_ffi.ReportStruct * max(len(paths), 1))()
    out, like = _ffi.ReportStruct(), _ffi.ReportStruct()
    n = 0
    try:
        for p in paths:
            check(lib.lt_report_read_json(enc(p), ctypes.byref(ins[n])))
            n += 1
        check(lib.lt_report_merge(ins, len(paths), ctypes.byref(out)))
        if columns is not None:
            check(lib.lt_report_read_json(enc(columns), ctypes.byref(like)))
            check(lib.lt_report_use_columns(ctypes.byref(out),
                                            ctypes.byref(like)))
        return _report_of(out)
    finally:
        for i in range(n):
            lib.lt_report_free(ctypes.byref(ins[i]))
        lib.lt_report_free(ctypes.byref(out))
        lib.lt_report_free(ctypes.byref(like))


def _configure(cfg, options, what):
    """Set the fields of cfg named by options; a dict value sets the
    fields of a nested struct (sample={"steps": 10})."""
    names = {f[0] for f in cfg._fields_} - {"progress", "ud", "command"}
    for k, v in options.items():
        if k not in names:
            raise LetheError("%s: unknown option %r (known: %s)"
                             % (what, k, ", ".join(sorted(names))), 1)
        if isinstance(v, dict):
            _configure(getattr(cfg, k), v, "%s: %s" % (what, k))
        elif k == "precision":  # "fp32" / "bf16" / None: lt_precision
            cfg.precision = _ffi.precision_value(v, what)
        else:
            setattr(cfg, k, enc(v) if isinstance(v, str) else v)


def _command(name, quick, options):
    parts = ["python: lethe.%s(" % name]
    args = (["quick=True"] if quick else []) + \
        ["%s=%r" % kv for kv in sorted(options.items())]
    return parts[0] + ", ".join(args) + ")"


def bench_classify(quick=False, progress=None, **options):
    """Classification unlearning (`lethe bench classify`): train or reuse
    (options["cache"]) the original and Retrain models, run each method,
    and report UA, RA, TA, MIA, Avg. Gap and RTE per method. Options are
    the fields of lt_bench_classify_cfg: data, model, forget, methods, lr,
    lr_grid, optim, mask, cache, seeds, train_epochs, train_lr,
    be_drop_shadow. quick=True starts from the small setting of
    `--quick`. progress: True prints the protocol's notes to stderr; a
    callable gets (kind, text)."""
    return _classify(lib.lt_bench_classify, "bench_classify", quick,
                     progress, options)


def bench_worst_case(quick=False, progress=None, **options):
    """`lethe bench worst-case`: the classify table for a random forget set
    and for the worst-case set of the same size; options as
    bench_classify (forget must be random:...)."""
    return _classify(lib.lt_bench_worst_case, "bench_worst_case", quick,
                     progress, options)


def _classify(fn, name, quick, progress, options):
    cfg = lib.lt_bench_classify_defaults()
    if quick:
        lib.lt_bench_classify_quick(ctypes.byref(cfg))
    _configure(cfg, options, name)
    check(lib.lt_bench_classify_check(ctypes.byref(cfg)))
    return _run(fn, cfg, progress, _command(name, quick, options))


def bench_tofu(quick=False, progress=None, **options):
    """LLM unlearning on synthetic TOFU (`lethe bench tofu`): forget
    quality, model utility, ROUGE-L, probability, truth ratio per method x
    mask x optimizer. Options are the fields of lt_bench_tofu_cfg (cache,
    config, authors, forget_pct, methods, masks, optims, lr, epochs, ...);
    quick=True is `--quick` (CI's micro setting)."""
    cfg = lib.lt_bench_tofu_defaults()
    if quick:
        lib.lt_bench_tofu_quick(ctypes.byref(cfg))
    _configure(cfg, options, "bench_tofu")
    check(lib.lt_bench_tofu_check(ctypes.byref(cfg)))
    return _run(lib.lt_bench_tofu, cfg, progress,
                _command("bench_tofu", quick, options))


def bench_muse(quick=False, progress=None, **options):
    """MUSE-style LLM unlearning on fortunes (`lethe bench muse`): VerbMem,
    KnowMem, PrivLeak and MIA AUCs per method. Options are the fields of
    lt_bench_muse_cfg; quick=True is `--quick`."""
    cfg = lib.lt_bench_muse_defaults()
    if quick:
        lib.lt_bench_muse_quick(ctypes.byref(cfg))
    _configure(cfg, options, "bench_muse")
    check(lib.lt_bench_muse_check(ctypes.byref(cfg)))
    return _run(lib.lt_bench_muse, cfg, progress,
                _command("bench_muse", quick, options))


def bench_dm_eval(progress=None, **options):
    """The acceptance report of a class-conditional diffusion model
    (`lethe dm eval`): per-class evaluator accuracy on samples against real
    images, FD with its floor, precision/recall, the copying check, and
    the setting "accepted". Options are the fields of lt_bench_dm_cfg
    (model is required; per_class, classifier, data, seed, grid) and
    sample={steps, eta, guidance (0 salun, 1 sd), w, seed, batch}."""
    cfg = lib.lt_bench_dm_defaults()
    _configure(cfg, options, "bench_dm_eval")
    check(lib.lt_bench_dm_check(ctypes.byref(cfg)))
    return _run(lib.lt_bench_dm_eval, cfg, progress,
                _command("bench_dm_eval", False, options), (None,))


def bench_dm_text_eval(progress=None, **options):
    """The acceptance report of a text-conditioned diffusion model on a
    FashionCanvas folder (`lethe dm eval` on a text model). Options are
    the fields of lt_bench_dm_text_cfg (model and canvas are required;
    encoder, style_classifier, object_classifier, per_pair, seed,
    prompt_check, prompt_only, grid)
    and sample={...} as bench_dm_eval."""
    cfg = lib.lt_bench_dm_text_defaults()
    _configure(cfg, options, "bench_dm_text_eval")
    check(lib.lt_bench_dm_text_check(ctypes.byref(cfg)))
    return _run(lib.lt_bench_dm_text_eval, cfg, progress,
                _command("bench_dm_text_eval", False, options), (None,))
