#!/usr/bin/python3
"""test_lethe.py - the Python module (python/lethe) against liblethe, with
Debian's python3 and NumPy (stdlib unittest; ctest runs it under make
test). A tiny Fashion-MNIST (the first 1200 training and 300 test items of
Debian's files, written as IDX into a temporary folder) keeps every case
to seconds. What is checked: the dataset against the raw IDX bytes; a
checkpoint's save/load round trip, value for value; the logits against a
NumPy forward pass of the same weights; training; two unlearning methods
giving different models, a 0/1 mask freezing the weights it says; the
metrics against NumPy; the quick classify benchmark's table (rows,
columns, and its original row recomputed through the module) and the
worst-case protocol's three tables; errors as
LetheError with Lethe's message naming the file or option.

Run by hand: PYTHONPATH=python LETHE_LIB=build/liblethe.so \
    /usr/bin/python3 tests/python/test_lethe.py
"""
import gzip
import os
import shutil
import sys
import tempfile
import unittest

try:
    import numpy as np
except ImportError:
    print("test_lethe: NumPy missing (apt-get install python3-numpy); skipped")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import lethe  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"
N_TRAIN, N_TEST = 1200, 300


def read_idx(path):
    """(header dims, uint8 payload) of a gzipped IDX file."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return dims, np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)


def write_idx(path, arr):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, arr.ndim]))
        for d in arr.shape:
            f.write(int(d).to_bytes(4, "big"))
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())


def mlp_logits(sd, x):
    """The forward pass of lethe's mlp (Linear, ReLU, ..., Linear) in NumPy,
    in float64, from the model's state_dict."""
    h = x.reshape(len(x), -1).astype(np.float64)
    names = sorted({k.rsplit(".", 1)[0] for k in sd},
                   key=lambda s: int(s.split(".")[1]))
    for i, n in enumerate(names):
        h = h @ sd[n + ".weight"].astype(np.float64).T + sd[n + ".bias"]
        if i + 1 < len(names):
            h = np.maximum(h, 0)
    return h


class LetheTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(FMNIST + "/train-images-idx3-ubyte.gz"):
            raise unittest.SkipTest("Fashion-MNIST missing "
                                    "(apt-get install dataset-fashion-mnist)")
        cls.tmp = tempfile.mkdtemp(prefix="lethe-pytest-")
        cls.data_dir = os.path.join(cls.tmp, "fmnist")
        os.mkdir(cls.data_dir)
        cls.raw = {}
        for split, pre, n in (("train", "train", N_TRAIN),
                              ("test", "t10k", N_TEST)):
            dims, img = read_idx("%s/%s-images-idx3-ubyte.gz" % (FMNIST, pre))
            _, lab = read_idx("%s/%s-labels-idx1-ubyte.gz" % (FMNIST, pre))
            img = img.reshape(dims)[:n]
            lab = lab[:n]
            write_idx("%s/%s-images-idx3-ubyte" % (cls.data_dir, pre), img)
            write_idx("%s/%s-labels-idx1-ubyte" % (cls.data_dir, pre), lab)
            cls.raw[split] = (img, lab)
        cls.spec = "fashion-mnist:" + cls.data_dir
        cls.tr = lethe.Dataset.load(cls.spec, "train")
        cls.te = lethe.Dataset.load(cls.spec, "test")
        cls.model = lethe.Model.create("mlp:784-32-10", cls.tr, seed=3)
        cls.train_report = cls.model.train(cls.tr, cls.te, epochs=3,
                                            batch=64, lr=0.05, seed=3)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_dataset_matches_idx(self):
        img, lab = self.raw["train"]
        tr = self.tr
        self.assertEqual((len(tr), tr.shape, tr.classes),
                         (N_TRAIN, (1, 28, 28), 10))
        np.testing.assert_array_equal(tr.y, lab)
        m, s = tr._s.mean[0], tr._s.std[0]
        np.testing.assert_allclose(tr.x[:, 0] * s + m, img / 255.0,
                                   atol=1e-6)
        self.assertEqual(tr.class_name(9), "Ankle boot")
        sub = tr.subset([5, 0, 7])
        np.testing.assert_array_equal(sub.y, lab[[5, 0, 7]])
        np.testing.assert_array_equal(sub.x, tr.x[[5, 0, 7]])

    def test_train(self):
        r = self.train_report
        events = []
        m = lethe.Model.create("mlp:784-32-10", self.tr, seed=3)
        r2 = m.train(self.tr, self.te, epochs=1, batch=600, lr=0.05, seed=3,
                     progress=events.append)
        ends = [e for e in events if e["epoch_end"]]
        self.assertEqual(len(ends), 1)
        self.assertAlmostEqual(ends[0]["test_acc"], r2["test_acc"], places=9)
        self.assertEqual(max(e["steps"] for e in events), 2)  # 1200 / 600
        self.assertGreater(r["test_acc"], 60.0)  # chance is 10%
        loss, acc = self.model.evaluate(self.te)
        self.assertAlmostEqual(acc, r["test_acc"], places=9)
        self.assertAlmostEqual(loss, r["test_loss"], places=6)
        lg = self.model.logits(self.te)
        self.assertEqual(lg.shape, (N_TEST, 10))
        self.assertEqual(lg.dtype, np.float32)
        pred_acc = 100.0 * np.mean(lg.argmax(1) == self.raw["test"][1])
        self.assertAlmostEqual(pred_acc, acc, places=9)

    def test_dataset_from_arrays(self):
        d = lethe.Dataset.from_arrays(self.te.x.copy(), self.te.y.copy(), 10)
        self.assertEqual((len(d), d.shape, d.classes), (N_TEST, (1, 28, 28),
                                                         10))
        np.testing.assert_array_equal(self.model.logits(d),
                                      self.model.logits(self.te))
        with self.assertRaises(lethe.LetheError):
            lethe.Dataset.from_arrays(self.te.x, self.te.y[:5])

    def test_logits_equal_numpy_forward(self):
        ref = mlp_logits(self.model.state_dict(), self.te.x)
        np.testing.assert_allclose(self.model.logits(self.te), ref,
                                   rtol=1e-4, atol=1e-4)

    def test_checkpoint_roundtrip(self):
        path = os.path.join(self.tmp, "m.safetensors")
        self.model.save(path, {"note": "python test"})
        meta = lethe.checkpoint_metadata(path)
        self.assertEqual(meta["lethe.arch"], "mlp:784-32-10")
        self.assertEqual(meta["note"], "python test")
        back = lethe.Model.load(path)
        self.assertEqual(back.arch, self.model.arch)
        a, b = self.model.state_dict(), back.state_dict()
        self.assertEqual(sorted(a), ["layers.0.bias", "layers.0.weight",
                                     "layers.2.bias", "layers.2.weight"])
        self.assertEqual(a.keys(), b.keys())
        for k in a:
            self.assertEqual(a[k].shape, b[k].shape, k)
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        self.assertEqual(a["layers.0.weight"].shape, (32, 784))
        np.testing.assert_array_equal(back.logits(self.te),
                                      self.model.logits(self.te))

    def test_unlearn_two_methods(self):
        f = lethe.ForgetSet(self.tr, "random:10%", seed=1)
        self.assertEqual(len(f), 120)
        self.assertEqual(len(f.retain), N_TRAIN - 120)
        ga, rl = self.model.copy(), self.model.copy()
        before = self.model.theta.copy()
        events = []
        rga = ga.unlearn(self.tr, f, "ga", lr=1e-3, epochs=2,
                         progress=events.append)
        ends = [e for e in events if e["pass_end"]]
        self.assertEqual([(e["epoch"], e["epochs"], e["phase"])
                          for e in ends],
                         [(1, 2, "forget"), (2, 2, "forget")])
        self.assertEqual(ends[-1]["loss"], rga["forget_loss"])
        for ep in (1, 2):  # one event per minibatch, numbered 1..steps
            steps = [e["step"] for e in events
                     if not e["pass_end"] and e["epoch"] == ep]
            self.assertEqual(steps, list(range(1, ends[ep - 1]["steps"] + 1)))
        rrl = rl.unlearn(self.tr, f, "rl", mask="saliency:0.5",
                         optim="adam", lr=1e-3, epochs=1)
        self.assertEqual((rga["method"], rga["mask"]), ("ga", "none"))
        self.assertEqual((rrl["method"], rrl["mask"]), ("rl", "saliency:0.5"))
        n = self.model.n_params
        self.assertEqual(rga["mask_ones"], n)
        self.assertEqual(rrl["mask_ones"], round(0.5 * n))
        np.testing.assert_array_equal(self.model.theta, before)  # untouched
        self.assertFalse(np.array_equal(ga.theta, before))
        self.assertFalse(np.array_equal(rl.theta, before))
        self.assertFalse(np.array_equal(ga.theta, rl.theta))
        changed = np.count_nonzero(rl.theta[:n] != before[:n])
        self.assertGreater(changed, 0)
        self.assertLessEqual(changed, rrl["mask_ones"])  # the mask froze
        # Gradient ascent raises the forget loss.
        fl0 = self.model.evaluate(self.tr.subset(f.forget))[0]
        self.assertGreater(ga.evaluate(self.tr.subset(f.forget))[0], fl0)
        # The metrics against NumPy on the model's logits.
        m = ga.metrics(self.tr, self.te, f)
        lg = ga.logits(self.tr)
        y = self.raw["train"][1]
        ua = 100.0 - 100.0 * np.mean(lg[f.forget].argmax(1) == y[f.forget])
        ra = 100.0 * np.mean(lg[f.retain].argmax(1) == y[f.retain])
        ta = 100.0 * np.mean(ga.logits(self.te).argmax(1) ==
                             self.raw["test"][1])
        self.assertAlmostEqual(m["UA"], ua, places=9)
        self.assertAlmostEqual(m["RA"], ra, places=9)
        self.assertAlmostEqual(m["TA"], ta, places=9)
        self.assertTrue(0.0 <= m["MIA"] <= 100.0)
        self.assertAlmostEqual(lethe.avg_gap(m, m), 0.0)

    def test_bench_classify_quick(self):
        cache = os.path.join(self.tmp, "cache")
        notes = []
        r = lethe.bench_classify(quick=True, data=self.spec, cache=cache,
                                 progress=lambda k, t: notes.append(t))
        t = r.table
        self.assertEqual(t.column("label"),
                         ["retrain", "original", "ft", "ga", "salun"])
        self.assertEqual(t.keys, ["label", "method", "lr", "UA", "RA", "TA",
                                  "MIA", "avg_gap", "rte_s"])
        self.assertEqual(r.settings["model"], "mlp:784-32-10")
        self.assertEqual(r.settings["seeds"], 1)
        self.assertEqual(r.settings["precision"], "fp32")
        self.assertEqual(r.settings["backend"], lethe.backend())
        self.assertIn("quick=True", r.settings["command"])
        self.assertTrue(notes)
        self.assertIn("| salun |", r.markdown)
        for row in t:
            self.assertFalse(row["failed"], row.get("message"))
            for k in ("UA", "RA", "TA", "MIA"):
                self.assertTrue(0.0 <= row[k] <= 100.0, (row["label"], k))
        self.assertEqual(t.row("retrain")["avg_gap"], 0)
        # The original row, recomputed through the module from the cached
        # checkpoint and the seed-1 forget set.
        orig = lethe.Model.load(r.settings["original"])
        f = lethe.ForgetSet(self.tr, r.settings["forget"], seed=1)
        m = orig.metrics(self.tr, self.te, f)
        for k in ("UA", "RA", "TA", "MIA"):
            self.assertAlmostEqual(t.row("original")[k], m[k], places=9)

    def test_precision(self):
        self.assertEqual(lethe.precision(), "fp32")
        self.assertIn(lethe.backend(), ("onednn", "openblas"))
        with self.assertRaises(lethe.LetheError) as e:
            lethe.set_precision("fp16")
        self.assertIn("'fp16'", str(e.exception))
        with self.assertRaises(lethe.LetheError):
            lethe.Model.create("mlp:784-32-10", self.tr).train(
                self.tr, epochs=1, precision="half")
        m = [lethe.Model.create("mlp:784-32-10", self.tr, seed=3)
             for _ in range(3)]
        kw = dict(epochs=1, batch=600, lr=0.05, seed=3)
        m[0].train(self.tr, **kw)
        m[1].train(self.tr, precision="bf16", **kw)
        self.assertEqual(lethe.precision(), "fp32")  # the run's own only
        f = lethe.ForgetSet(self.tr, "random:10%")
        u = [m[0].copy() for _ in range(3)]
        lethe.set_precision("bf16")
        try:
            self.assertEqual(lethe.precision(), "bf16")
            m[2].train(self.tr, **kw)  # None: the process default
            for x, p in zip(u, (None, "bf16", "fp32")):
                x.unlearn(self.tr, f, method="ga", epochs=1, precision=p)
        finally:
            lethe.set_precision("fp32")
        self.assertFalse(np.array_equal(m[0].theta, m[1].theta))
        np.testing.assert_array_equal(m[2].theta, m[1].theta)
        np.testing.assert_array_equal(u[0].theta, u[1].theta)
        self.assertFalse(np.array_equal(u[0].theta, u[2].theta))

    def test_bench_worst_case_quick(self):
        r = lethe.bench_worst_case(quick=True, data=self.spec,
                                   cache=os.path.join(self.tmp, "wc"))
        self.assertEqual(len(r.tables), 3)
        labels = ["retrain", "original", "ft", "ga", "salun"]
        for t in r.tables:
            self.assertEqual(t.column("label"), labels, t.title)
        # The side-by-side table: "a → b (+d)" of the other two's means.
        a = r.tables[0].row("ga")["UA"]
        b = r.tables[1].row("ga")["UA"]
        self.assertEqual(r.tables[2].row("ga")["UA"],
                         "%.2f → %.2f (%+.2f)" % (a, b, b - a))

    def test_merge_reports(self):
        # Two one-seed reports of a quick classify run (seeds 1 and 2 as
        # two files) merged: each row has both runs, mean and sample std
        # of the two files' values.
        paths = []
        for s in (1, 2):
            p = os.path.join(self.tmp, "r%d.json" % s)
            with open(p, "w") as f:
                f.write('{"title": "t, seed %d", "settings": {"seed": %d}, '
                        '"tables": [{"title": "u", "columns": [{"key": '
                        '"label", "head": "Method", "number": false}, '
                        '{"key": "UA", "head": "UA", "number": true, '
                        '"fmt": "%%.2f", "sci_below": 0}], "rows": [{"label":'
                        ' "ft", "seeds": 1, "UA": %d, "runs": []}]}]}'
                        % (s, s, 4 + s))
            paths.append(p)
        r = lethe.merge_reports(paths)
        row = r.table.row("ft")
        self.assertEqual(row["seeds"], 2)
        self.assertEqual(row["UA"], 5.5)
        self.assertAlmostEqual(row["UA_std"], 0.5 ** 0.5, places=12)
        self.assertEqual(r.title, "t, seeds 1, 2 (mean ± std)")
        self.assertEqual(r.settings["seed"], "1 | 2")
        self.assertIn("| ft | 5.50 ± 0.71 |", r.markdown)
        with self.assertRaises(lethe.LetheError) as e:
            lethe.merge_reports([paths[0], os.path.join(self.tmp, "x.json")])
        self.assertIn("x.json", str(e.exception))

    def test_errors(self):
        missing = os.path.join(self.tmp, "no-such.safetensors")
        with self.assertRaises(lethe.LetheError) as e:
            lethe.Model.load(missing)
        self.assertIn(missing, str(e.exception))
        self.assertEqual(e.exception.status_name, "io")
        bad = os.path.join(self.tmp, "bad.safetensors")
        with open(bad, "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
        with self.assertRaises(lethe.LetheError) as e:
            lethe.Model.load(bad)
        self.assertIn(bad, str(e.exception))
        self.assertEqual(e.exception.status_name, "format")
        with self.assertRaises(lethe.LetheError) as e:
            self.model.copy().unlearn(self.tr, lethe.ForgetSet(self.tr),
                                      "forget-everything")
        self.assertIn("forget-everything", str(e.exception))
        with self.assertRaises(lethe.LetheError) as e:
            lethe.ForgetSet(self.tr, "class:12")
        self.assertIn("class:12", str(e.exception))
        with self.assertRaises(lethe.LetheError) as e:
            lethe.bench_classify(quick=True, data=self.spec,
                                 methods="ga,nope")
        self.assertIn("nope", str(e.exception))
        with self.assertRaises(lethe.LetheError) as e:
            lethe.bench_classify(colour="red")
        self.assertIn("colour", str(e.exception))
        # The library's own error for a file: nothing is written on error.
        with self.assertRaises(lethe.LetheError) as e:
            self.model.save(os.path.join(self.tmp, "no-dir", "m.safetensors"))
        self.assertIn("no-dir", str(e.exception))
        # The struct-size check's entry point refuses a name it lacks.
        lib = lethe._ffi.lib
        self.assertEqual(lib.lt_abi_sizeof(b"lt_no_such_struct"), 0)
        self.assertIn("lt_no_such_struct", lethe._ffi.last_error())
        self.assertEqual(lib.lt_abi_sizeof(b"lt_unlearn_metrics"), 32)

    @unittest.skipUnless(os.environ.get("LETHE_PY_SLOW"),
                         "set LETHE_PY_SLOW=1 for the diffusion report")
    def test_bench_dm_eval(self):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..")
        r = lethe.bench_dm_eval(
            model=os.path.join(root, "models/fmnist-cond-s-v1.safetensors"),
            classifier=os.path.join(root,
                                    "models/fmnist-eval-b-v1.safetensors"),
            data=self.spec.split(":")[0], per_class=4,
            sample={"steps": 5, "batch": 20})
        self.assertEqual(len(r.tables), 2)
        self.assertEqual(len(r.tables[0]), 10)       # one row per class
        self.assertIn(r.settings["accepted"], ("yes", "no"))
        with self.assertRaises(lethe.LetheError) as e:
            lethe.bench_dm_eval(model="x.safetensors", per_class=2)
        self.assertIn("per_class", str(e.exception))

    @unittest.skipUnless(os.environ.get("LETHE_PY_SLOW"),
                         "set LETHE_PY_SLOW=1 for the TOFU protocol (minutes)")
    def test_bench_tofu_quick(self):
        r = lethe.bench_tofu(quick=True, cache=os.path.join(self.tmp, "tofu"))
        methods = r.table.column("method")
        self.assertEqual(methods[:2], ["retain model", "original"])
        self.assertGreater(len(methods), 2)
        self.assertEqual(r.table.row("retain model", "method")
                         ["forget_quality"], 1.0)
        for row in r.table:
            self.assertFalse(row["failed"], row.get("message"))
            self.assertTrue(0.0 <= row["model_utility"] <= 1.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
