"""The ctypes layer of the lethe module: finds and loads liblethe, mirrors
the public C structs the module passes by pointer, declares the prototypes
of the functions it calls, and turns Lethe's error values into LetheError.

Every struct below copies its C declaration (include/lethe/*.h) field by
field; at load time each one's ctypes size is compared with the library's
own sizeof (lt_abi_sizeof, src/bench/abi.c), so a header that changed
without this file is an ImportError naming the struct, never a silent
memory corruption.

The library is looked for, in order, at: $LETHE_LIB (a path to the .so);
the path `make install` recorded beside the package (_install.py); the
build folder of the source tree the package sits in (build/liblethe.so);
the system's library path (liblethe.so.0).
"""
import ctypes
import ctypes.util
import os

from ctypes import (POINTER, Structure, c_bool, c_char, c_char_p, c_double,
                    c_float, c_int, c_int32, c_int64, c_size_t, c_uint32,
                    c_uint64, c_void_p)

LT_MAX_DIMS = 6
LT_TABLE_MAX_COLS = 16
LT_TABLE_MAX_SEEDS = 16
LT_TABLE_TEXT = 48
LT_REPORT_MAX_TABLES = 6

# lt_precision (core.h): 0 = the process default.
PRECISIONS = {"default": 0, "fp32": 1, "bf16": 2}

# lt_status (core.h), in enum order.
STATUS_NAMES = ["ok", "arg", "shape", "arena", "nomem", "grad", "nan", "io",
                "format", "state"]


class LetheError(Exception):
    """An error reported by liblethe: its message (lt_last_error(), which
    names the file or argument at fault) and its status (lt_status: 1 =
    bad argument, 7 = I/O, 8 = bad file format, ...; `.status_name` is
    "arg", "io", "format", ...)."""

    def __init__(self, message, status=0):
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_name = (STATUS_NAMES[status]
                            if 0 <= status < len(STATUS_NAMES) else "?")


LetheError.__module__ = "lethe"  # shown as lethe.LetheError


# ---- the structs --------------------------------------------------------

class Tensor(Structure):          # lt_tensor (core.h)
    _fields_ = [("ndim", c_int), ("shape", c_int64 * LT_MAX_DIMS),
                ("numel", c_int64), ("data", POINTER(c_float)),
                ("grad", POINTER(c_float)), ("flags", c_uint32),
                ("node", c_void_p)]


class OptimConfig(Structure):     # lt_optim_config (optim.h)
    _fields_ = [("kind", c_int), ("lr", c_float), ("weight_decay", c_float),
                ("momentum", c_float), ("nesterov", c_bool),
                ("beta1", c_float), ("beta2", c_float), ("eps", c_float),
                ("rho", c_float), ("sophia_bs", c_float),
                ("hessian_interval", c_int), ("hessian_mode", c_int)]


class Schedule(Structure):        # lt_schedule (optim.h)
    _fields_ = [("kind", c_int), ("base_lr", c_float), ("warmup", c_int64),
                ("total", c_int64), ("min_lr", c_float),
                ("milestones", c_int64 * 8), ("n_milestones", c_int),
                ("gamma", c_float)]


class Augment(Structure):         # lt_augment (data.h)
    _fields_ = [("crop_pad", c_int), ("hflip", c_bool)]


class Param(Structure):           # lt_param (nn.h)
    _fields_ = [("name", c_char * 96), ("trainable", c_bool),
                ("offset", c_int64), ("t", Tensor)]


class Params(Structure):          # lt_params (nn.h)
    _fields_ = [("p", POINTER(Param)), ("count", c_int), ("cap", c_int),
                ("n_train", c_int64), ("n_total", c_int64),
                ("theta", POINTER(c_float)), ("grad", POINTER(c_float)),
                ("final", c_bool)]


class InputSpec(Structure):       # lt_input_spec (models.h)
    _fields_ = [("channels", c_int), ("height", c_int), ("width", c_int),
                ("classes", c_int)]


class ModelStruct(Structure):     # lt_model (models.h)
    _fields_ = [("arch", c_char * 128), ("in_", InputSpec),
                ("params", Params), ("forward", c_void_p),
                ("features", c_void_p), ("head", c_char * 32),
                ("widths", c_int * 8), ("n_widths", c_int)]


class DatasetStruct(Structure):   # lt_dataset (data.h)
    _fields_ = [("name", c_char * 32), ("n", c_int64), ("c", c_int),
                ("h", c_int), ("w", c_int), ("classes", c_int),
                ("x", POINTER(c_float)), ("y", POINTER(c_int32)),
                ("mean", c_float * 3), ("std", c_float * 3)]


class TrainEvent(Structure):      # lt_train_event (train.h)
    _fields_ = [("epoch", c_int), ("epochs", c_int), ("step", c_int64),
                ("steps", c_int64), ("loss", c_double),
                ("test_acc", c_double), ("epoch_end", c_bool)]


TRAIN_PROGRESS = ctypes.CFUNCTYPE(None, c_void_p, POINTER(TrainEvent))


class TrainCfg(Structure):        # lt_train_cfg (train.h)
    _fields_ = [("optim", OptimConfig), ("sched", Schedule),
                ("epochs", c_int), ("batch", c_int), ("clip", c_float),
                ("seed", c_uint64), ("aug", Augment),
                ("arena_bytes", c_size_t), ("dist", c_int),
                ("shards", c_int), ("dp_overlap", c_bool),
                ("precision", c_int),
                ("progress", TRAIN_PROGRESS),
                ("ud", c_void_p)]


class TrainReport(Structure):     # lt_train_report (train.h)
    _fields_ = [("train_loss", c_double), ("test_loss", c_double),
                ("test_acc", c_double), ("seconds", c_double),
                ("arena_peak", c_size_t)]


class ForgetSetStruct(Structure): # lt_forget_set (unlearn.h)
    _fields_ = [("kind", c_int), ("cls", c_int), ("spec", c_char * 512),
                ("n", c_int64), ("n_forget", c_int64), ("n_retain", c_int64),
                ("forget", POINTER(c_int64)), ("retain", POINTER(c_int64))]


class MaskSpec(Structure):        # lt_mask_spec (unlearn.h)
    _fields_ = [("kind", c_int), ("ratio", c_double)]


class UnlearnEvent(Structure):    # lt_unlearn_event (methods.h)
    _fields_ = [("epoch", c_int), ("epochs", c_int), ("phase", c_char_p),
                ("loss", c_double), ("step", c_int64), ("steps", c_int64),
                ("pass_end", c_bool)]


UNLEARN_PROGRESS = ctypes.CFUNCTYPE(None, c_void_p, POINTER(UnlearnEvent))


class UnlearnCfg(Structure):      # lt_unlearn_cfg (methods.h)
    _fields_ = [("method", c_int), ("optim", OptimConfig),
                ("mask", MaskSpec), ("epochs", c_int), ("batch", c_int),
                ("seed", c_uint64), ("alpha", c_float), ("smooth", c_float),
                ("retain_weight", c_float), ("fgsm_eps", c_float),
                ("iu_samples", c_int), ("prox_ratio", c_double),
                ("be_drop_shadow", c_bool), ("arena_bytes", c_size_t),
                ("retrain_aug", Augment), ("dist", c_int),
                ("shards", c_int), ("precision", c_int),
                ("progress", UNLEARN_PROGRESS),
                ("ud", c_void_p)]


class UnlearnReport(Structure):   # lt_unlearn_report (methods.h)
    _fields_ = [("forget_loss", c_double), ("retain_loss", c_double),
                ("steps", c_int64), ("mask_ones", c_int64),
                ("seconds", c_double), ("be_model", POINTER(ModelStruct))]


class UnlearnMetrics(Structure):  # lt_unlearn_metrics (metrics.h)
    _fields_ = [("ua", c_double), ("ra", c_double), ("ta", c_double),
                ("mia", c_double)]


class BenchEvent(Structure):      # lt_bench_event (bench.h)
    _fields_ = [("kind", c_int), ("text", c_char_p), ("train", c_void_p),
                ("lm", c_void_p), ("llm", c_void_p), ("unlearn", c_void_p)]


BENCH_PROGRESS = ctypes.CFUNCTYPE(None, c_void_p, POINTER(BenchEvent))


class BenchClassifyCfg(Structure):  # lt_bench_classify_cfg (bench.h)
    _fields_ = [("data", c_char_p), ("model", c_char_p),
                ("forget", c_char_p), ("methods", c_char_p),
                ("lr", c_char_p), ("lr_grid", c_char_p), ("optim", c_char_p),
                ("mask", c_char_p), ("cache", c_char_p), ("seeds", c_int),
                ("train_epochs", c_int), ("train_lr", c_float),
                ("be_drop_shadow", c_bool), ("resume", c_bool),
                ("precision", c_int), ("command", c_char_p),
                ("progress", BENCH_PROGRESS), ("ud", c_void_p)]


class BenchTofuCfg(Structure):    # lt_bench_tofu_cfg (bench.h)
    _fields_ = [("cache", c_char_p), ("config", c_char_p),
                ("authors", c_int), ("forget_pct", c_int),
                ("world_facts", c_int), ("real_authors", c_int),
                ("train_epochs", c_int), ("train_batch", c_int),
                ("vocab", c_int), ("train_lr", c_float), ("seed", c_uint64),
                ("methods", c_char_p), ("masks", c_char_p),
                ("optims", c_char_p), ("baseline", c_char_p),
                ("lr", c_char_p), ("lr_grid", c_char_p), ("epochs", c_int),
                ("batch", c_int), ("max_items", c_int),
                ("sophia_scale", c_float), ("npo_mean", c_bool),
                ("resume", c_bool), ("precision", c_int),
                ("command", c_char_p), ("progress", BENCH_PROGRESS),
                ("ud", c_void_p)]


class BenchMuseCfg(Structure):    # lt_bench_muse_cfg (bench.h)
    _fields_ = [("cache", c_char_p), ("config", c_char_p),
                ("forget", c_char_p), ("retain", c_char_p),
                ("fortune_dir", c_char_p), ("max_texts", c_int),
                ("holdout", c_float), ("qa_max", c_int), ("seed", c_uint64),
                ("train_epochs", c_int), ("train_batch", c_int),
                ("vocab", c_int), ("window", c_int), ("train_lr", c_float),
                ("methods", c_char_p), ("lr", c_char_p), ("epochs", c_int),
                ("batch", c_int), ("scal", c_char_p), ("seq", c_int),
                ("scal_methods", c_char_p), ("prefix", c_int),
                ("max_new", c_int), ("precision", c_int),
                ("command", c_char_p),
                ("progress", BENCH_PROGRESS), ("ud", c_void_p)]


class DmSampleConfig(Structure):  # lt_dm_sample_config (diffusion.h)
    _fields_ = [("steps", c_int), ("eta", c_float), ("guidance", c_int),
                ("w", c_float), ("seed", c_uint64), ("batch", c_int)]


class BenchDmCfg(Structure):      # lt_bench_dm_cfg (bench.h)
    _fields_ = [("model", c_char_p), ("classifier", c_char_p),
                ("data", c_char_p), ("per_class", c_int),
                ("sample", DmSampleConfig), ("seed", c_uint64),
                ("grid", c_char_p), ("precision", c_int),
                ("command", c_char_p),
                ("progress", BENCH_PROGRESS), ("ud", c_void_p)]


class BenchDmTextCfg(Structure):  # lt_bench_dm_text_cfg (bench.h)
    _fields_ = [("model", c_char_p), ("encoder", c_char_p),
                ("canvas", c_char_p), ("style_classifier", c_char_p),
                ("object_classifier", c_char_p), ("per_pair", c_int),
                ("sample", DmSampleConfig), ("seed", c_uint64),
                ("prompt_check", c_int), ("prompt_only", c_bool),
                ("grid", c_char_p), ("precision", c_int),
                ("command", c_char_p),
                ("progress", BENCH_PROGRESS), ("ud", c_void_p)]


class TableCol(Structure):        # lt_table_col (bench.h)
    _fields_ = [("key", c_char_p), ("head", c_char_p), ("fmt", c_char_p),
                ("sci_below", c_double), ("json_only", c_bool)]


class TableStruct(Structure):     # lt_table (bench.h); rows stay opaque
    _fields_ = [("title", c_char * 512), ("n_cols", c_int),
                ("cols", TableCol * LT_TABLE_MAX_COLS), ("rows", c_void_p),
                ("n_rows", c_int), ("cap_rows", c_int)]


class ReportStruct(Structure):    # lt_report (bench.h)
    _fields_ = [("title", c_char * 512),
                ("tables", TableStruct * LT_REPORT_MAX_TABLES),
                ("n_tables", c_int), ("settings", c_void_p),
                ("n_settings", c_int), ("seconds", c_double),
                ("owned", c_void_p)]


# The C name of every mirrored struct, checked against lt_abi_sizeof.
ABI = {
    "lt_tensor": Tensor, "lt_optim_config": OptimConfig,
    "lt_schedule": Schedule, "lt_augment": Augment, "lt_param": Param,
    "lt_params": Params, "lt_input_spec": InputSpec, "lt_model": ModelStruct,
    "lt_dataset": DatasetStruct, "lt_train_event": TrainEvent,
    "lt_train_cfg": TrainCfg, "lt_train_report": TrainReport,
    "lt_forget_set": ForgetSetStruct, "lt_mask_spec": MaskSpec,
    "lt_unlearn_event": UnlearnEvent, "lt_unlearn_cfg": UnlearnCfg,
    "lt_unlearn_report": UnlearnReport, "lt_unlearn_metrics": UnlearnMetrics,
    "lt_bench_event": BenchEvent, "lt_bench_classify_cfg": BenchClassifyCfg,
    "lt_bench_tofu_cfg": BenchTofuCfg, "lt_bench_muse_cfg": BenchMuseCfg,
    "lt_report": ReportStruct, "lt_dm_sample_config": DmSampleConfig,
    "lt_bench_dm_cfg": BenchDmCfg, "lt_bench_dm_text_cfg": BenchDmTextCfg,
}

# ---- prototypes ---------------------------------------------------------

_P = POINTER
_MP = POINTER(ModelStruct)
_DP = POINTER(DatasetStruct)
_FP = POINTER(ForgetSetStruct)
PROTOTYPES = {
    "lt_abi_sizeof": (c_size_t, [c_char_p]),
    "lt_last_error": (c_char_p, []),
    "lt_last_status": (c_int, []),
    "lt_clear_error": (None, []),
    "lt_set_num_threads": (None, [c_int]),
    "lt_num_threads": (c_int, []),
    "lt_bench_commit": (c_char_p, []),
    "lt_set_default_precision": (None, [c_int]),
    "lt_default_precision": (c_int, []),
    "lt_precision_name": (c_char_p, [c_int]),
    "lt_backend_name": (c_char_p, []),
    # data
    "lt_dataset_load": (c_int, [c_char_p, c_char_p, _DP]),
    "lt_dataset_free": (None, [_DP]),
    "lt_dataset_subset": (c_int, [_DP, _P(c_int64), c_int64, _DP]),
    "lt_dataset_class_name": (c_char_p, [_DP, c_int]),
    "lt_augment_parse": (c_int, [c_char_p, _DP, _P(Augment)]),
    # models and checkpoints
    "lt_model_create": (c_int, [c_char_p, InputSpec, _P(_MP)]),
    "lt_model_init": (None, [_MP, c_uint64]),
    "lt_model_free": (None, [_MP]),
    "lt_model_save": (c_int, [_MP, c_char_p, _P(c_char_p), c_int]),
    "lt_model_load": (c_int, [c_char_p, _P(_MP)]),
    "lt_model_load_weights": (c_int, [_MP, c_char_p]),
    "lt_model_names": (c_char_p, []),
    "lt_st_load": (c_int, [c_char_p, _P(c_void_p)]),
    "lt_st_free": (None, [c_void_p]),
    "lt_st_meta_count": (c_int, [c_void_p]),
    "lt_st_meta_key": (c_char_p, [c_void_p, c_int]),
    "lt_st_meta_value": (c_char_p, [c_void_p, c_int]),
    # training and evaluation
    "lt_optim_parse": (c_int, [c_char_p, _P(OptimConfig)]),
    "lt_schedule_parse": (c_int, [c_char_p, c_float, c_int64, _P(Schedule)]),
    "lt_train_classifier": (c_int, [_MP, _DP, _DP, _P(TrainCfg),
                                    _P(TrainReport)]),
    "lt_evaluate": (c_int, [_MP, _DP, c_int, _P(c_double), _P(c_double),
                            _P(c_float)]),
    # unlearning
    "lt_forget_select": (c_int, [c_char_p, _DP, c_uint64, _FP]),
    "lt_forget_from_list": (c_int, [_P(c_int64), c_int64, c_int64, c_int,
                                    c_char_p, _FP]),
    "lt_forget_set_free": (None, [_FP]),
    "lt_forget_save": (c_int, [_FP, c_char_p]),
    "lt_method_parse": (c_int, [c_char_p, _P(c_int)]),
    "lt_method_name": (c_char_p, [c_int]),
    "lt_method_names": (c_char_p, []),
    "lt_unlearn_defaults": (UnlearnCfg, [c_int]),
    "lt_unlearn_set_optim": (c_int, [_P(UnlearnCfg), c_char_p]),
    "lt_mask_parse": (c_int, [c_char_p, _P(MaskSpec)]),
    "lt_mask_format": (None, [_P(MaskSpec), c_char_p, c_size_t]),
    "lt_unlearn_run": (c_int, [_MP, _DP, _FP, _P(UnlearnCfg),
                               _P(UnlearnReport)]),
    "lt_unlearn_metrics_of": (c_int, [_MP, _DP, _DP, _FP,
                                      _P(UnlearnMetrics)]),
    "lt_avg_gap": (c_double, [_P(UnlearnMetrics), _P(UnlearnMetrics)]),
    # benchmark protocols and their reports
    "lt_bench_classify_defaults": (BenchClassifyCfg, []),
    "lt_bench_classify_quick": (None, [_P(BenchClassifyCfg)]),
    "lt_bench_classify_check": (c_int, [_P(BenchClassifyCfg)]),
    "lt_bench_classify": (c_int, [_P(BenchClassifyCfg), _P(ReportStruct)]),
    "lt_bench_worst_case": (c_int, [_P(BenchClassifyCfg), _P(ReportStruct)]),
    "lt_bench_tofu_defaults": (BenchTofuCfg, []),
    "lt_bench_tofu_quick": (None, [_P(BenchTofuCfg)]),
    "lt_bench_tofu_check": (c_int, [_P(BenchTofuCfg)]),
    "lt_bench_tofu": (c_int, [_P(BenchTofuCfg), _P(ReportStruct)]),
    "lt_bench_muse_defaults": (BenchMuseCfg, []),
    "lt_bench_muse_quick": (None, [_P(BenchMuseCfg)]),
    "lt_bench_muse_check": (c_int, [_P(BenchMuseCfg)]),
    "lt_bench_muse": (c_int, [_P(BenchMuseCfg), _P(ReportStruct)]),
    "lt_bench_dm_defaults": (BenchDmCfg, []),
    "lt_bench_dm_check": (c_int, [_P(BenchDmCfg)]),
    "lt_bench_dm_eval": (c_int, [_P(BenchDmCfg), _P(ReportStruct),
                                 _P(_P(c_float))]),
    "lt_bench_dm_text_defaults": (BenchDmTextCfg, []),
    "lt_bench_dm_text_check": (c_int, [_P(BenchDmTextCfg)]),
    "lt_bench_dm_text_eval": (c_int, [_P(BenchDmTextCfg), _P(ReportStruct),
                                      _P(_P(c_float))]),
    "lt_report_free": (None, [_P(ReportStruct)]),
    "lt_report_read_json": (c_int, [c_char_p, _P(ReportStruct)]),
    "lt_report_merge": (c_int, [_P(ReportStruct), c_int, _P(ReportStruct)]),
    "lt_report_use_columns": (c_int, [_P(ReportStruct), _P(ReportStruct)]),
    "lt_report_write_json": (c_int, [_P(ReportStruct), c_char_p]),
    "lt_report_write_markdown": (c_int, [_P(ReportStruct), c_char_p]),
}


# ---- loading --------------------------------------------------------------

def _candidates():
    env = os.environ.get("LETHE_LIB")
    if env:
        return [env]  # an explicit choice is the only one tried
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    try:
        from . import _install  # written by `make install`
        out.append(_install.LIBRARY)
    except ImportError:
        pass
    out.append(os.path.join(here, "..", "..", "build", "liblethe.so"))
    out.append(ctypes.util.find_library("lethe") or "liblethe.so.0")
    return out


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (no such file)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("lethe: cannot load liblethe; tried: " +
                      "; ".join(tried) +
                      ". Build it (make) or set LETHE_LIB to its path.")


def _declare(lib, path):
    for name, (res, args) in PROTOTYPES.items():
        try:
            f = getattr(lib, name)
        except AttributeError:
            raise ImportError("lethe: %s does not export %s (an older "
                              "liblethe?)" % (path, name)) from None
        f.restype, f.argtypes = res, args
    for cname, cls in ABI.items():
        size = lib.lt_abi_sizeof(cname.encode())
        if size != ctypes.sizeof(cls):
            raise ImportError("lethe: struct %s is %d bytes in %s but %d in "
                              "python/lethe/_ffi.py: the header changed; "
                              "update the mirror" %
                              (cname, size, path, ctypes.sizeof(cls)))


lib, LIB_PATH = _load()
_declare(lib, LIB_PATH)


def last_error():
    msg = lib.lt_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def fail(status=None):
    """A LetheError from the thread's last error."""
    if status is None:
        status = lib.lt_last_status()
    return LetheError(last_error() or "lethe: error %d" % status, status)


def check(status):
    """Raise LetheError (Lethe's message) unless status is LT_OK."""
    if status != 0:
        raise fail(status)


def precision_value(name, what="precision"):
    """The lt_precision of "fp32", "bf16", or None / "default" (0: the
    process default); LetheError (status 1) for anything else."""
    if name is None:
        return 0
    if name not in PRECISIONS:
        raise LetheError("%s: unknown precision %r (use fp32 or bf16)"
                         % (what, name), 1)
    return PRECISIONS[name]


def enc(s):
    """A Python string (or None) as the bytes C gets."""
    if s is None:
        return None
    return os.fsencode(s) if isinstance(s, os.PathLike) else str(s).encode()
