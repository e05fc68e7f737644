"""gen_worst_upper.py - golden upper-level steps of the worst-case forget-set
selection for tests/test_select.c.

A transcription of the code path of OPTML-Group/Unlearn-WorstCase
data-wise/unlearn/impl.py:optimize_select and utils.py:bisection (float64
w, as the code casts the loss gradient): w -= w_lr * (l + 2 gamma w), then
the bisection on mu for clamp(w - mu, 0, 1) summing to m (xi 1e-5, at most
100 halvings; the result uses the last midpoint), from a random binary w
(update_w) over three upper iterations with given per-item losses.

Entries: w0 [N], loss.I [N] (iteration I), w.I [N] after it, meta [m, w_lr,
gamma].
"""
import torch

from ltgolden import Golden


def bisection(a, eps, xi=1e-5, ub=1, max_iter=1e2):
    mu_l = torch.min(a - 1)
    mu_u = torch.max(a)
    iter_count = 0
    mu_a = (mu_u + mu_l) / 2
    while torch.abs(mu_u - mu_l) > xi:
        mu_a = (mu_u + mu_l) / 2
        gu = torch.sum(torch.clamp(a - mu_a, 0, ub)) - eps
        gu_l = torch.sum(torch.clamp(a - mu_l, 0, ub)) - eps
        if gu == 0 or iter_count >= max_iter:
            break
        if torch.sign(gu) == torch.sign(gu_l):
            mu_l = mu_a
        else:
            mu_u = mu_a
        iter_count += 1
    return torch.clamp(a - mu_a, 0, ub)


torch.manual_seed(9)
N, m, w_lr, gamma = 200, 40, 0.01, 0.0
w = torch.zeros(N, dtype=torch.float64)
w[torch.randperm(N)[:m]] = 1
g = Golden()
g.add("w0", w)
g.add("meta", torch.tensor([m, w_lr, gamma]))
for it in range(3):
    loss = (torch.rand(N) * 40).float()   # per-item CE after a strong lower level
    g.add("loss.%d" % it, loss)
    w -= w_lr * (loss.double() + gamma * 2 * w)
    w = bisection(w, m)
    g.add("w.%d" % it, w)
g.save("worst_upper.bin")
