"""gen_loss.py - golden values for the losses of src/ops/loss.c, computed
with PyTorch's own functions: F.cross_entropy (integer labels, probability
targets, label_smoothing), F.cross_entropy with ignore_index for seq_nll,
F.mse_loss and F.kl_div. Each case <name> stores its inputs, the upstream
gradient <name>.r (shape of the output; [1] for reduced losses), the output
<name>.y and the gradient of sum(y * r) for each input that requires one
(<name>.g<input>)."""
import warnings

import torch
import torch.nn.functional as F

from ltgolden import Golden, grads

# kl_div(reduction="mean") warns that it differs from batchmean: intended.
warnings.filterwarnings("ignore", message="reduction: 'mean'")
torch.manual_seed(11)
g = Golden()
RED = ("mean", "sum", "none")


def add_case(name, y, named_inputs):
    """Store output, upstream gradient and input gradients of one case."""
    r = torch.randn(y.shape)
    g.add(name + ".r", r if y.dim() else r.reshape(1))
    g.add(name + ".y", y)
    need = [(k, v) for k, v in named_inputs if v.requires_grad]
    gs = grads(y, [v for _, v in need], r)
    for (k, _), gv in zip(need, gs):
        g.add(f"{name}.g{k}", gv)


def smooth(labels, k, alpha):
    return (1 - alpha) * F.one_hot(labels.long(), k).float() + alpha / k


# cross_entropy with integer labels
n, k = 6, 37
x = (torch.randn(n, k) * 2).requires_grad_()
lab = torch.randint(0, k, (n,))
g.add("ce.x", x)
g.add("ce.labels", lab)
for red in RED:
    add_case(f"ce.{red}", F.cross_entropy(x, lab, reduction=red), [("x", x)])

# cross_entropy with probability targets (both inputs require a gradient)
n, k = 5, 20
x = (torch.randn(n, k) * 2).requires_grad_()
t = F.softmax(torch.randn(n, k), 1).requires_grad_()
g.add("ces.x", x)
g.add("ces.t", t)
for red in RED:
    add_case(f"ces.{red}", F.cross_entropy(x, t, reduction=red),
             [("x", x), ("t", t)])

# negative label smoothing (alpha = -0.5): targets from smooth_targets
lab = torch.randint(0, k, (n,))
tn = smooth(lab, k, -0.5).requires_grad_()
g.add("cesneg.labels", lab)
g.add("cesneg.t", tn)
for red in RED:
    add_case(f"cesneg.{red}", F.cross_entropy(x, tn, reduction=red),
             [("x", x), ("t", tn)])

# label smoothing in [0, 1]: F.cross_entropy(label_smoothing=a), mean
lab = torch.randint(0, k, (n,))
g.add("ls.labels", lab)
for i, a in enumerate((0.0, 0.1, 0.5, 1.0)):
    g.add(f"ls.{i}.alpha", a)
    add_case(f"ls.{i}", F.cross_entropy(x, lab, label_smoothing=a),
             [("x", x)])

# seq_nll: per-sequence sums with ignore_index = -100
b, tl, v = 3, 5, 19
x = (torch.randn(b, tl, v) * 2).requires_grad_()
tg = torch.randint(0, v, (b * tl,))
tg[[2, 7, 8, 14]] = -100
g.add("seq.x", x)
g.add("seq.targets", tg)
y = F.cross_entropy(x.view(-1, v), tg, ignore_index=-100,
                    reduction="none").view(b, tl).sum(1)
add_case("seq", y, [("x", x)])

# mse: gradients to both inputs
a = torch.randn(4, 5).requires_grad_()
bb = torch.randn(4, 5).requires_grad_()
g.add("mse.a", a)
g.add("mse.b", bb)
for red in RED:
    add_case(f"mse.{red}", F.mse_loss(a, bb, reduction=red),
             [("a", a), ("b", bb)])

# kl_div: logq log-probabilities, p probabilities requiring a gradient
lq = F.log_softmax(torch.randn(4, 6), 1).requires_grad_()
p = F.softmax(torch.randn(4, 6), 1).requires_grad_()
g.add("kl.logq", lq)
g.add("kl.p", p)
for red in RED + ("batchmean",):
    add_case(f"kl.{red}", F.kl_div(lq, p, reduction=red),
             [("logq", lq), ("p", p)])

# kl_div with exact zeros in p (p needs no gradient): 0 * log 0 = 0
p0 = F.softmax(torch.randn(4, 6), 1)
p0[0, 1] = p0[2, 3] = p0[3, 0] = 0.0
g.add("kl0.p", p0)
for red in ("none", "batchmean"):
    add_case(f"kl0.{red}", F.kl_div(lq, p0, reduction=red), [("logq", lq)])

g.save("loss.bin")
