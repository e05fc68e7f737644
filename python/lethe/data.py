"""Datasets and forget sets of the lethe module: image datasets loaded by
liblethe (Fashion-MNIST, MNIST, CIFAR-10/100, FashionCanvas folders) or
made from NumPy arrays, their subsets, and the forget/retain splits the
unlearning methods take (random:P%, random:K, class:K, indices:FILE, or an
explicit index list)."""
import ctypes

import numpy as np

from . import _ffi
from ._ffi import LetheError, check, enc, lib


def _view(ptr, count, ctype, dtype, shape, owner):
    """A NumPy view of count C values at ptr that keeps owner alive."""
    if count == 0 or not ptr:
        return np.zeros(shape, dtype=dtype)
    buf = (ctype * count).from_address(ctypes.addressof(ptr.contents))
    buf._lethe_owner = owner  # the view's base keeps the owner alive
    return np.frombuffer(buf, dtype=dtype).reshape(shape)


class Dataset:
    """An image dataset: x [n, c, h, w] float32 (normalised), y [n] int32.

    Dataset.load("fashion-mnist", "train") reads a dataset the way the
    lethe command does (LETHE_DATA, "name:DIR" specs); Dataset.from_arrays
    wraps NumPy arrays. `x` and `y` are NumPy views of the dataset's memory
    (valid while the views live; writing to them changes the dataset)."""

    def __init__(self):
        self._s = _ffi.DatasetStruct()
        self._owned = False   # liblethe allocated x and y: free them
        self._keep = None     # NumPy arrays a from_arrays set points into

    @classmethod
    def load(cls, spec="fashion-mnist", split="train"):
        d = cls()
        check(lib.lt_dataset_load(enc(spec), enc(split), ctypes.byref(d._s)))
        d._owned = True
        return d

    @classmethod
    def from_arrays(cls, x, y, classes=None, name="arrays"):
        """A dataset over x [n, c, h, w] (float32, already normalised) and
        integer labels y [n] in [0, classes)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.int32)
        if x.ndim != 4 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
            raise LetheError("Dataset.from_arrays: x must be [n, c, h, w] "
                             "and y [n] with n >= 1 (got x %s, y %s)"
                             % (x.shape, y.shape), 1)
        k = int(classes if classes is not None else y.max() + 1)
        if y.min() < 0 or y.max() >= k:
            raise LetheError("Dataset.from_arrays: labels must be in "
                             "[0, %d)" % k, 1)
        d = cls()
        s = d._s
        s.name = name.encode()[:31]
        s.n = len(x)
        s.c, s.h, s.w = (int(v) for v in x.shape[1:])
        s.classes = k
        s.x = x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        s.y = y.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        for i in range(3):
            s.mean[i], s.std[i] = 0.0, 1.0
        d._keep = (x, y)
        return d

    def subset(self, indices):
        """A new dataset of the items at indices (copied)."""
        idx = np.ascontiguousarray(indices, dtype=np.int64)
        if idx.ndim != 1 or len(idx) == 0:
            raise LetheError("Dataset.subset: indices must be a non-empty "
                             "1-D list", 1)
        if idx.min() < 0 or idx.max() >= len(self):
            raise LetheError("Dataset.subset: index out of range [0, %d)"
                             % len(self), 1)
        d = Dataset()
        check(lib.lt_dataset_subset(
            ctypes.byref(self._s),
            idx.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), len(idx),
            ctypes.byref(d._s)))
        d._owned = True
        return d

    @property
    def name(self):
        return self._s.name.decode()

    @property
    def shape(self):
        """(channels, height, width) of one item."""
        return (self._s.c, self._s.h, self._s.w)

    @property
    def classes(self):
        return self._s.classes

    def __len__(self):
        return int(self._s.n)

    @property
    def x(self):
        n = len(self)
        return _view(self._s.x, n * self._s.c * self._s.h * self._s.w,
                     ctypes.c_float, np.float32, (n,) + self.shape, self)

    @property
    def y(self):
        return _view(self._s.y, len(self), ctypes.c_int32, np.int32,
                     (len(self),), self)

    def class_name(self, k):
        """A readable name of class k ("Ankle boot"), or None."""
        s = lib.lt_dataset_class_name(ctypes.byref(self._s), int(k))
        return s.decode() if s else None

    def __repr__(self):
        return "<lethe.Dataset %s: %d items %s, %d classes>" % (
            self.name, len(self), "x".join(map(str, self.shape)),
            self.classes)

    def __del__(self):
        if getattr(self, "_owned", False) and lib is not None:
            lib.lt_dataset_free(ctypes.byref(self._s))
            self._owned = False


class ForgetSet:
    """The items of a training set to forget and the retained rest.

    ForgetSet(train, "random:10%", seed=1) as `lethe unlearn --forget`
    (random:P%, random:K, class:K, indices:FILE); ForgetSet.from_indices
    for an explicit list. `forget` and `retain` are sorted index arrays."""

    def __init__(self, train=None, spec="random:10%", seed=1):
        self._s = _ffi.ForgetSetStruct()
        if train is not None:
            check(lib.lt_forget_select(enc(spec), ctypes.byref(train._s),
                                       int(seed), ctypes.byref(self._s)))

    @classmethod
    def from_indices(cls, indices, n, spec="python"):
        """A forget set of the training indices listed, out of n items."""
        f = cls()
        idx = np.ascontiguousarray(indices, dtype=np.int64)
        check(lib.lt_forget_from_list(
            idx.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), len(idx),
            int(n), 2, enc(spec), ctypes.byref(f._s)))  # LT_FORGET_INDICES
        return f

    @property
    def spec(self):
        return self._s.spec.decode()

    @property
    def forget_class(self):
        """The forgotten class (class:K), else -1."""
        return self._s.cls

    @property
    def forget(self):
        return _view(self._s.forget, self._s.n_forget, ctypes.c_int64,
                     np.int64, (self._s.n_forget,), self).copy()

    @property
    def retain(self):
        return _view(self._s.retain, self._s.n_retain, ctypes.c_int64,
                     np.int64, (self._s.n_retain,), self).copy()

    def __len__(self):
        return int(self._s.n_forget)

    def save(self, path):
        """Write the indices (readable back as "indices:PATH")."""
        check(lib.lt_forget_save(ctypes.byref(self._s), enc(path)))

    def __repr__(self):
        return "<lethe.ForgetSet %s: %d of %d items>" % (
            self.spec, self._s.n_forget, self._s.n)

    def __del__(self):
        if hasattr(self, "_s") and lib is not None:
            lib.lt_forget_set_free(ctypes.byref(self._s))
