"""ltgolden.py - writer for Lethe's golden files (read by tests/lt_test.c).

Format (little endian): b"LTG1", u32 count, then per entry: u32 name length,
name (utf-8), u32 ndim, i64 shape[ndim], f32 data. Integer arrays (labels,
ids) are stored as float32 and rounded back by the reader.

Usage in a generator (run with Debian's /usr/bin/python3 and python3-torch):
    g = Golden()
    g.add("relu.x", x); g.add("relu.y", torch.relu(x)); g.save("activation.bin")
"""
import os
import struct

import torch


class Golden:
    def __init__(self):
        self.entries = []

    def add(self, name, t):
        if isinstance(t, (int, float)):
            t = torch.tensor([t])
        t = torch.as_tensor(t).detach().to(torch.float32).contiguous().cpu().clone()
        self.entries.append((name, t))

    def save(self, filename):
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"LTG1")
            f.write(struct.pack("<I", len(self.entries)))
            for name, t in self.entries:
                b = name.encode()
                f.write(struct.pack("<I", len(b)))
                f.write(b)
                f.write(struct.pack("<I", t.dim()))
                for s in t.shape:
                    f.write(struct.pack("<q", s))
                f.write(t.numpy().astype("<f4").tobytes())
        os.replace(tmp, out)
        print(f"wrote {out} ({len(self.entries)} entries)")


def grads(y, inputs, r):
    """d(sum(y*r))/d inputs, for the inputs that require a gradient."""
    need = [x for x in inputs if x.requires_grad]
    return torch.autograd.grad(y, need, r, allow_unused=True)
