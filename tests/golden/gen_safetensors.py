"""gen_safetensors.py - safetensors fixtures for tests/test_safetensors.c.

Debian's python3 has no `safetensors` package, so the files are written by
hand per the format spec (8-byte little-endian header length, JSON header,
data buffer) from the raw bytes of torch tensors:

  st_f16.safetensors   F16 tensor "h" (subnormals, +-inf, -0, NaN, max, ...)
                       with "h.f32", torch's own float32 conversion of it.
  st_bf16.safetensors  the same for BF16 ("b", "b.f32").
  st_mixed.safetensors F32, F64, I64, I32, I16, I8, U8 and BOOL tensors, a
                       scalar (shape []) and an empty tensor, laid out in a
                       different order than by name, header not padded (so
                       the data start is unaligned), unicode metadata.
  st_mixed.bin         the expected float32 values (ltgolden format).
  st_ref.safetensors   F32 tensors in exactly the layout of the reference
                       library (sorted by name, compact JSON, spaces to a
                       multiple of 8): lt_st_save must reproduce it byte for
                       byte.
"""
import json
import os
import struct

import numpy as np
import torch

from ltgolden import Golden

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
         torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
         torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
         torch.bool: "BOOL"}


def raw(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write_st(filename, tensors, metadata=None, pad=True):
    """tensors: list of (name, tensor) in data-buffer order."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in tensors:
        b = raw(t)
        header[name] = {"dtype": DTYPE[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    h = h.encode("utf-8")
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    path = os.path.join(HERE, filename)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)
    print(f"wrote {path} ({len(tensors)} tensors)")


def from_bits(bits, np_int, torch_float):
    a = np.array(bits, dtype=np_int).view(np.int16)
    return torch.from_numpy(a.copy()).view(torch_float)


def main():
    torch.manual_seed(0)
    # F16: +0, -0, min/max subnormal (+-), min normal, max, +-inf, NaNs,
    # 1, 1/3, -2, then random values across the range.
    h_bits = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0400,
              0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x7E01, 0x3C00,
              0x3555, 0xC000]
    h = torch.cat([from_bits(h_bits, np.uint16, torch.float16),
                   (torch.randn(16) * 100).half()]).reshape(4, 8)
    write_st("st_f16.safetensors", [("h", h), ("h.f32", h.float())],
             {"format": "pt"})

    b_bits = [0x0000, 0x8000, 0x0001, 0x807F, 0x0080, 0x7F7F, 0xFF7F,
              0x7F80, 0xFF80, 0x7FC0, 0x3F80, 0x3EAB, 0xC000, 0x4049]
    b = torch.cat([from_bits(b_bits, np.uint16, torch.bfloat16),
                   (torch.randn(10) * 1e3).bfloat16()]).reshape(2, 3, 4)
    write_st("st_bf16.safetensors", [("b.f32", b.float()), ("b", b)])

    mixed = [
        ("z_f32", torch.randn(3, 4, 5)),
        ("f64", torch.randn(7, dtype=torch.float64) * 1e5),
        ("i64", torch.tensor([[-3, 0, 5], [1 << 40, -(1 << 20), 7]])),
        ("i32", torch.tensor([-2147483648, 2147483647, 0, -1, 12345],
                             dtype=torch.int32)),
        ("i16", torch.tensor([-32768, 32767, -1], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127, 0], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255, 17], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True, True])),
        ("scalar", torch.tensor(2.5)),
        ("empty", torch.zeros(0, 3)),
        ("a.weight", torch.randn(2, 1, 3)),
    ]
    write_st("st_mixed.safetensors", mixed,
             {"format": "pt", "epoch": "3",
              "note": 'caf\u00e9 \u2713 "quoted"\nline!'}, pad=False)
    g = Golden()
    for name, t in mixed:
        if t.numel() > 0:
            g.add(name, t.reshape(-1) if t.dim() == 0 else t)
    g.save("st_mixed.bin")

    ref = [("bias", torch.randn(5)), ("conv.w", torch.randn(4, 3, 2, 2)),
           ("emb", torch.randn(6, 3)), ("s", torch.tensor(-1.25))]
    write_st("st_ref.safetensors", sorted(ref, key=lambda e: e[0]), {"format": "pt"})


if __name__ == "__main__":
    main()
