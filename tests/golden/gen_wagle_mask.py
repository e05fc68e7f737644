"""gen_wagle_mask.py - golden WAGLE masks for tests/test_llm_unlearn.c.

A transcription of the code path of OPTML-Group/WAGLE
src/unlearn/generate_mask.py: snip_advanced's score
-|(theta - g_r / mu) * g_f| over all parameters concatenated (float32),
then get_mask: positions = argsort(scores), ranks = argsort(positions),
keep ranks < int(len(scores) * ratio) - the int(n * ratio) weights of
largest |(theta - g_r/mu) * g_f|. mu 1e-6 as WAGLE's TOFU configs; ratios
0.95 (GradDiff, NPO) and 0.8 (PO).

Entries: theta, gf, gr [N]; mask.95, mask.80 [N] (0/1).
"""
import torch

from ltgolden import Golden

torch.manual_seed(4)
N, mu = 3000, 1e-6
theta = torch.randn(N) * 0.05
gf = torch.randn(N) * torch.logspace(-3, 0, N)[torch.randperm(N)]
gr = torch.randn(N) * 1e-7
scores = -torch.abs((theta - gr / mu) * gf)
positions = torch.argsort(scores)
ranks = torch.argsort(positions)
g = Golden()
g.add("theta", theta)
g.add("gf", gf)
g.add("gr", gr)
for ratio, name in ((0.95, "mask.95"), (0.8, "mask.80")):
    threshold_idx = int(len(scores) * ratio)
    g.add(name, (ranks < threshold_idx).float())
g.save("wagle_mask.bin")
