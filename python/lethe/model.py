"""Image classifiers of the lethe module: create or load a checkpoint,
save it, read its weights and metadata, train it, take its logits,
unlearn a forget set from it with any method x mask x optimizer, and
measure UA / RA / TA / MIA-efficacy. Every call goes to liblethe; errors
come back as LetheError carrying Lethe's message."""
import ctypes

import numpy as np

from . import _ffi
from ._ffi import LetheError, check, enc, lib
from .data import Dataset, ForgetSet


def checkpoint_metadata(path):
    """The string metadata of a safetensors checkpoint, as a dict."""
    f = ctypes.c_void_p()
    check(lib.lt_st_load(enc(path), ctypes.byref(f)))
    try:
        return {lib.lt_st_meta_key(f, i).decode():
                lib.lt_st_meta_value(f, i).decode()
                for i in range(lib.lt_st_meta_count(f))}
    finally:
        lib.lt_st_free(f)


def _fits(m, d, what):
    spec = m._p.contents.in_
    want = (spec.channels, spec.height, spec.width)
    if d.shape != want or d.classes > spec.classes:
        raise LetheError("%s: dataset %s (%s, %d classes) does not fit model "
                         "%s (%s, %d classes)" % (
                             what, d.name, "x".join(map(str, d.shape)),
                             d.classes, m.arch, "x".join(map(str, want)),
                             spec.classes), 3)


def _set_fields(struct, options, what):
    """Copy options onto the struct's fields of the same names."""
    names = {f[0] for f in struct._fields_}
    for k, v in options.items():
        if k not in names or k in ("progress", "ud"):
            raise LetheError("%s: unknown option %r" % (what, k), 1)
        setattr(struct, k, enc(v) if isinstance(v, str) else v)


class Model:
    """An image classifier (lt_model): "mlp:784-512-10", "cnn", "resnet8",
    "resnet18". Weights are float32 in one flat buffer (`theta`, a NumPy
    view) with PyTorch's parameter names (`state_dict()`)."""

    def __init__(self, ptr):
        self._p = ptr   # POINTER(ModelStruct), owned

    # ---- making, loading, saving ----------------------------------------

    @classmethod
    def create(cls, arch, data=None, shape=None, classes=None, seed=1):
        """A new model of arch for the input shape of data (or shape =
        (c, h, w) and classes), PyTorch-default initialised with seed."""
        if data is not None:
            shape, classes = data.shape, data.classes
        if shape is None or classes is None:
            raise LetheError("Model.create: give data, or shape and classes",
                             1)
        p = ctypes.POINTER(_ffi.ModelStruct)()
        spec = _ffi.InputSpec(*[int(v) for v in shape], int(classes))
        check(lib.lt_model_create(enc(arch), spec, ctypes.byref(p)))
        lib.lt_model_init(p, int(seed))
        return cls(p)

    @classmethod
    def load(cls, path):
        """A checkpoint written by lethe (its architecture is in it)."""
        p = ctypes.POINTER(_ffi.ModelStruct)()
        check(lib.lt_model_load(enc(path), ctypes.byref(p)))
        return cls(p)

    def save(self, path, meta=None):
        """Write the checkpoint (F32 safetensors, PyTorch names) atomically;
        meta: extra string metadata {key: value}."""
        pairs = [enc(s) for kv in (meta or {}).items() for s in kv]
        arr = (ctypes.c_char_p * max(1, len(pairs)))(*pairs)
        check(lib.lt_model_save(self._p, enc(path), arr, len(pairs) // 2))

    def load_weights(self, path):
        """Copy weights of the same names and shapes from a safetensors
        file (e.g. a PyTorch export) into this model."""
        check(lib.lt_model_load_weights(self._p, enc(path)))

    def copy(self):
        """An independent model with the same architecture and weights."""
        s = self._p.contents
        m = Model.create(s.arch.decode(), shape=self.input_shape,
                         classes=self.classes)
        m.theta[:] = self.theta
        return m

    # ---- what it is -------------------------------------------------------

    @property
    def arch(self):
        return self._p.contents.arch.decode()

    @property
    def input_shape(self):
        i = self._p.contents.in_
        return (i.channels, i.height, i.width)

    @property
    def classes(self):
        return self._p.contents.in_.classes

    @property
    def n_params(self):
        """Trainable weights (BatchNorm statistics not counted)."""
        return int(self._p.contents.params.n_train)

    @property
    def theta(self):
        """Every weight and buffer as one float32 NumPy view (writable)."""
        ps = self._p.contents.params
        return np.ctypeslib.as_array(ps.theta, shape=(ps.n_total,))

    def state_dict(self):
        """{PyTorch name: NumPy copy} of every parameter and buffer."""
        ps = self._p.contents.params
        out = {}
        for i in range(ps.count):
            p = ps.p[i]
            shape = tuple(p.t.shape[:p.t.ndim])
            out[p.name.decode()] = np.ctypeslib.as_array(
                p.t.data, shape=(max(1, p.t.numel),))[:p.t.numel] \
                .reshape(shape).copy()
        return out

    def __repr__(self):
        return "<lethe.Model %s: %d weights, input %s, %d classes>" % (
            self.arch, self.n_params, "x".join(map(str, self.input_shape)),
            self.classes)

    def __del__(self):
        if getattr(self, "_p", None) and lib is not None:
            lib.lt_model_free(self._p)
            self._p = None

    # ---- training and evaluation -----------------------------------------

    def train(self, train, test=None, epochs=10, batch=128, lr=0.1,
              optim="sgd", momentum=0.9, wd=5e-4, schedule="cosine",
              warmup=0, clip=0.0, augment="auto", seed=1, progress=None,
              precision=None):
        """Train on train (evaluating on test after every epoch when
        given), with the options and defaults of `lethe train`. precision:
        "fp32" or "bf16" (None: the process default, lethe.set_precision;
        docs/performance.md). progress,
        when given, is called with a dict per step and per epoch end.
        Returns {train_loss, test_loss, test_acc, seconds}."""
        _fits(self, train, "train")
        if test is not None:
            _fits(self, test, "train: test")
        cfg = _ffi.TrainCfg()
        check(lib.lt_optim_parse(enc(optim), ctypes.byref(cfg.optim)))
        cfg.optim.lr = lr
        cfg.optim.weight_decay = wd
        if cfg.optim.kind == 0:  # LT_OPT_SGD
            cfg.optim.momentum = momentum
        cfg.epochs, cfg.batch, cfg.clip, cfg.seed = epochs, batch, clip, seed
        cfg.precision = _ffi.precision_value(precision, "train")
        check(lib.lt_schedule_parse(enc(schedule), lr, warmup,
                                    ctypes.byref(cfg.sched)))
        check(lib.lt_augment_parse(enc(augment), ctypes.byref(train._s),
                                   ctypes.byref(cfg.aug)))
        if progress is not None:
            def on_event(_ud, ev):
                e = ev.contents
                progress({k: getattr(e, k) for k, _ in e._fields_})
            cfg.progress = _ffi.TRAIN_PROGRESS(on_event)
        rep = _ffi.TrainReport()
        te = ctypes.byref(test._s) if test is not None else None
        rc = lib.lt_train_classifier(self._p, ctypes.byref(train._s), te,
                                     ctypes.byref(cfg), ctypes.byref(rep))
        if rc:
            raise _ffi.fail()
        return {k: getattr(rep, k) for k in
                ("train_loss", "test_loss", "test_acc", "seconds")}

    def logits(self, data, batch=256):
        """The logits [len(data), classes] (eval mode) as a NumPy array."""
        return self._evaluate(data, batch, True)[2]

    def evaluate(self, data, batch=256):
        """(mean cross-entropy, accuracy %) on data."""
        return self._evaluate(data, batch, False)[:2]

    def _evaluate(self, data, batch, want_logits):
        _fits(self, data, "evaluate")
        loss, acc = ctypes.c_double(), ctypes.c_double()
        out = (np.empty((len(data), self.classes), dtype=np.float32)
               if want_logits else None)
        ptr = (out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
               if want_logits else None)
        check(lib.lt_evaluate(self._p, ctypes.byref(data._s), int(batch),
                              ctypes.byref(loss), ctypes.byref(acc), ptr))
        return loss.value, acc.value, out

    # ---- unlearning --------------------------------------------------------

    def unlearn(self, train, forget, method="salun", mask=None, optim=None,
                lr=None, epochs=None, batch=None, seed=None, progress=None,
                precision=None, **options):
        """Unlearn the ForgetSet forget (made on train) in place with
        method (lethe.METHODS) under mask ("none", "saliency:R",
        "random:R", "soft:R") and optimizer ("sgd", "adam", "adamw",
        "sophia", "sophia-soul"). Anything left None takes the method's
        library default (lt_unlearn_defaults); precision "fp32" or "bf16"
        (None: the process default). Other options set fields of
        lt_unlearn_cfg by name: alpha, smooth, retain_weight, fgsm_eps,
        iu_samples, prox_ratio, be_drop_shadow. Returns {forget_loss,
        retain_loss, steps, mask_ones, seconds, method, mask, lr, epochs}
        and, for be (unless be_drop_shadow), "be_model": the K+1-way
        Model as trained."""
        _fits(self, train, "unlearn")
        k = ctypes.c_int()
        check(lib.lt_method_parse(enc(method), ctypes.byref(k)))
        cfg = lib.lt_unlearn_defaults(k.value)
        if optim is not None:
            check(lib.lt_unlearn_set_optim(ctypes.byref(cfg), enc(optim)))
        if mask is not None:
            check(lib.lt_mask_parse(enc(mask), ctypes.byref(cfg.mask)))
        if lr is not None:
            cfg.optim.lr = lr
        for name, v in (("epochs", epochs), ("batch", batch), ("seed", seed)):
            if v is not None:
                setattr(cfg, name, v)
        _set_fields(cfg, options, "unlearn")
        cfg.precision = _ffi.precision_value(precision, "unlearn")
        if progress is not None:
            def on_event(_ud, ev):
                e = ev.contents
                progress({"epoch": e.epoch, "epochs": e.epochs,
                          "phase": (e.phase or b"").decode(),
                          "loss": e.loss, "step": e.step, "steps": e.steps,
                          "pass_end": e.pass_end})
            cfg.progress = _ffi.UNLEARN_PROGRESS(on_event)
        rep = _ffi.UnlearnReport()
        check(lib.lt_unlearn_run(self._p, ctypes.byref(train._s),
                                 ctypes.byref(forget._s), ctypes.byref(cfg),
                                 ctypes.byref(rep)))
        buf = ctypes.create_string_buffer(64)
        lib.lt_mask_format(ctypes.byref(cfg.mask), buf, 64)
        out = {k: getattr(rep, k) for k in ("forget_loss", "retain_loss",
                                            "steps", "mask_ones", "seconds")}
        out.update(method=lib.lt_method_name(cfg.method).decode(),
                   mask=buf.value.decode(), lr=cfg.optim.lr,
                   epochs=cfg.epochs)
        if rep.be_model:
            out["be_model"] = Model(rep.be_model)
        return out

    def metrics(self, train, test, forget):
        """UA, RA, TA and MIA-efficacy (%) of this model for the forget set
        (class-wise forgetting leaves the class out of TA and the MIA)."""
        _fits(self, train, "metrics")
        _fits(self, test, "metrics: test")
        m = _ffi.UnlearnMetrics()
        check(lib.lt_unlearn_metrics_of(self._p, ctypes.byref(train._s),
                                        ctypes.byref(test._s),
                                        ctypes.byref(forget._s),
                                        ctypes.byref(m)))
        return {"UA": m.ua, "RA": m.ra, "TA": m.ta, "MIA": m.mia}


def avg_gap(metrics, retrain):
    """Mean |metrics - retrain| over UA, RA, TA and MIA (two dicts as
    Model.metrics returns)."""
    a = _ffi.UnlearnMetrics(*(metrics[k] for k in ("UA", "RA", "TA", "MIA")))
    b = _ffi.UnlearnMetrics(*(retrain[k] for k in ("UA", "RA", "TA", "MIA")))
    return lib.lt_avg_gap(ctypes.byref(a), ctypes.byref(b))


__all__ = ["Model", "Dataset", "ForgetSet", "checkpoint_metadata", "avg_gap"]
