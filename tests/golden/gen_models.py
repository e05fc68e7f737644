"""gen_models.py - PyTorch twins of Lethe's image classifiers and their
golden values (tests/test_models.c).

The twins use exactly Lethe's state_dict names. Weights are not stored:
both sides fill every tensor from the same formula (see fill()), so even
ResNet-18 costs only a few KB of golden data. Stored per model: the input,
labels, eval-mode logits, train-mode logits and loss, gradients and the
weights after one SGD step and one Adam step for a few named tensors, and a
running mean after the train-mode forward.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

from ltgolden import Golden

def relu(x):
    return F.relu(x)


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        mods = []
        for i in range(len(sizes) - 1):
            mods.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                mods.append(nn.ReLU())
        self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(x.flatten(1))


class CNN(nn.Module):
    """Lethe's "cnn" (widths 32, 64, 128) or "cnn:C1-C2-F"."""
    def __init__(self, c, h, w, k, c1=32, c2=64, f=128):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * (h // 4) * (w // 4), f)
        self.fc2 = nn.Linear(f, k)

    def forward(self, x):
        x = F.max_pool2d(relu(self.conv1(x)), 2)
        x = F.max_pool2d(relu(self.conv2(x)), 2)
        return self.fc2(relu(self.fc1(x.flatten(1))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return relu(h + (self.downsample(x) if self.downsample else x))


class ResNet(nn.Module):
    def __init__(self, c, k, stages, base, blocks):
        super().__init__()
        self.conv1 = nn.Conv2d(c, base, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        cin = base
        for s in range(stages):
            w = base << s
            layer = []
            for b in range(blocks):
                layer.append(Block(cin, w, 2 if (s > 0 and b == 0) else 1))
                cin = w
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
        self.stages = stages
        self.fc = nn.Linear(cin, k)

    def forward(self, x):
        x = relu(self.bn1(self.conv1(x)))
        for s in range(self.stages):
            x = getattr(self, f"layer{s + 1}")(x)
        return self.fc(x.mean((2, 3)))


def fill(model):
    """Deterministic weights, computed identically in tests/test_models.c:
    tensor j (state_dict order, num_batches_tracked skipped), element k:
    u = h / 2^31 - 1 with h = (2654435761 k + 97531 (j + 1)) mod 2^32 (an
    integer hash, exact on both sides); weights (>= 2 dims) u / sqrt(fan_in); 1-D
    '.weight' 1 + 0.1 u; 'running_var' 1 + 0.5 |u|; anything else 0.1 u."""
    j = 0
    sd = model.state_dict()
    for name, t in sd.items():
        if name.endswith("num_batches_tracked"):
            continue
        n = t.numel()
        h = (torch.arange(n, dtype=torch.int64) * 2654435761 + 97531 * (j + 1)) % 4294967296
        u = h.to(torch.float64) / 2147483648.0 - 1.0
        if t.dim() >= 2:
            v = u / math.sqrt(n // t.shape[0])
        elif name.endswith("running_var"):
            v = 1 + 0.5 * u.abs()
        elif name.endswith(".weight"):
            v = 1 + 0.1 * u
        else:
            v = 0.1 * u
        t.copy_(v.to(torch.float32).view_as(t))
        j += 1


def save_safetensors(model, filename):
    """Write model.state_dict() as safetensors by hand (Debian has no
    safetensors package): F32 tensors, num_batches_tracked as I64 like the
    official writer would store it, sorted names, header padded to 8."""
    sd = model.state_dict()
    header, blobs, off = {"__metadata__": {"source": "gen_models.py"}}, [], 0
    for name in sorted(sd):
        t = sd[name].contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        b = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def case(g, tag, model, shape, y, names):
    x = torch.randn(shape)
    fill(model)
    model.eval()
    with torch.no_grad():
        g.add(f"{tag}.logits_eval", model(x))
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    g.add(f"{tag}.x", x)
    g.add(f"{tag}.y", y)
    g.add(f"{tag}.logits_train", logits)
    g.add(f"{tag}.loss_train", loss.item())
    loss.backward()
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    for n in names:
        g.add(f"{tag}.grad.{n}", params[n].grad)
    # every gradient, summarised: per-tensor squared norms in state order
    g.add(f"{tag}.grad_sq", torch.tensor([float((p.grad.double() ** 2).sum())
                                          for p in params.values()]))
    if "bn1.running_mean" in buffers:
        g.add(f"{tag}.bn1.running_mean", buffers["bn1.running_mean"])
    grads = {n: p.grad.clone() for n, p in params.items()}
    for opt_name, make in (("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4)),
                           ("adam", lambda ps: torch.optim.Adam(ps, lr=1e-3))):
        fill(model)
        for n, p in model.named_parameters():
            p.grad = grads[n].clone()
        make(list(model.parameters())).step()
        for n in names:
            g.add(f"{tag}.{opt_name}.{n}", params[n].detach())


def main():
    torch.manual_seed(0)
    g = Golden()
    x1 = (6, 1, 28, 28)
    y10 = torch.randint(0, 10, (6,))
    case(g, "mlp", MLP([784, 64, 32, 10]), x1, y10,
         ["layers.2.weight", "layers.4.bias"])
    case(g, "cnn", CNN(1, 28, 28, 10), x1, y10, ["conv1.weight", "fc2.bias"])
    case(g, "resnet8", ResNet(1, 10, 3, 16, 1), x1, y10,
         ["conv1.weight", "layer2.0.downsample.0.weight", "layer3.0.bn2.weight", "fc.weight"])
    # A PyTorch-exported checkpoint (random init, trained one SGD step so
    # the running statistics are not the defaults) and its eval logits.
    torch.manual_seed(1)
    r8 = ResNet(1, 10, 3, 16, 1)
    xs = torch.randn(8, 1, 28, 28)
    opt = torch.optim.SGD(r8.parameters(), lr=0.1)
    F.cross_entropy(r8(xs), torch.arange(8)).backward()
    opt.step()
    r8.eval()
    with torch.no_grad():
        g.add("export.x", xs)
        g.add("export.logits", r8(xs))
    save_safetensors(r8, "resnet8_torch.safetensors")
    x3 = (4, 3, 32, 32)
    y4 = torch.randint(0, 10, (4,))
    case(g, "resnet18", ResNet(3, 10, 4, 64, 2), x3, y4,
         ["conv1.weight", "layer4.0.downsample.1.weight", "bn1.bias", "fc.bias"])
    # "cnn:8-12-20" on 3x32x32 (FashionCanvas's shape); last, so the
    # cases above keep their random draws.
    y4b = torch.randint(0, 10, (4,))
    case(g, "cnnw", CNN(3, 32, 32, 10, 8, 12, 20), x3, y4b,
         ["conv2.weight", "fc2.bias"])
    g.save("models.bin")


if __name__ == "__main__":
    main()
