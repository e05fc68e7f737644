"""gen_rl_proximal.py - golden for SalUn's soft-thresholding variant,
RL_proximal (OPTML-Group/Unlearn-Saliency, Classification/unlearn/RL_pro.py,
the CIFAR code path), read by tests/test_methods.c.

A transcription of that function's code path on a tiny MLP, two epochs:
  * iterative_unlearn (unlearn/impl.py) builds SGD(lr, momentum 0.9,
    weight_decay 5e-4) once and calls RL_proximal once per epoch;
  * each call snapshots init_params = all parameters concatenated (the
    anchor is the weights at the START OF THAT EPOCH), draws random labels
    for the forget items once, and walks one shuffled loader over
    forget + retain;
  * after every optimizer.step(): ratio = int(mask_ratio * ((total_steps -
    (epoch * loader_len + 1)) / total_steps * n_params)) with
    loader_len = len(forget_loader) + len(retain_loader), total_steps =
    unlearn_epochs * loader_len (constant within an epoch on this path);
    threshold = the ratio-th smallest |params - init_params|;
    params = params - threshold where diff > threshold, params + threshold
    where diff < -threshold, init_params elsewhere.
The batches (items and their labels after relabelling) are recorded in
order so the C test replays the same sequence.

Entries: theta0 [43] (fc1.weight 5x4, fc1.bias, fc2.weight 3x5, fc2.bias),
meta [epochs, loader_len, batch, n_batches_per_epoch, mask_ratio, lr],
x.E.B [b, 4], y.E.B [b], theta.E.B [43] after each step's shrink,
k.E [1] the epoch's ratio.
"""
import math

import torch

from ltgolden import Golden


def main():
    torch.manual_seed(20261206)
    g = Golden()
    fc1, fc2 = torch.nn.Linear(4, 5), torch.nn.Linear(5, 3)
    model = torch.nn.Sequential(fc1, torch.nn.ReLU(), fc2)
    params = list(model.parameters())
    g.add("theta0", torch.cat([p.detach().view(-1) for p in params]))
    nf, nr, batch, epochs, mask_ratio, lr = 5, 7, 4, 2, 0.5, 0.1
    xf, xr = torch.randn(nf, 4), torch.randn(nr, 4)
    yr = torch.randint(0, 3, (nr,))
    loader_len = math.ceil(nf / batch) + math.ceil(nr / batch)
    total_steps = epochs * loader_len
    nb = math.ceil((nf + nr) / batch)
    g.add("meta", torch.tensor([epochs, loader_len, batch, nb, mask_ratio,
                                lr]))
    opt = torch.optim.SGD(model.parameters(), lr, momentum=0.9,
                          weight_decay=5e-4)
    crit = torch.nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        init_params = torch.cat([p.view(-1) for p in model.parameters()],
                                dim=0).detach().clone()
        n_params = init_params.numel()
        yf = torch.randint(0, 3, (nf,))          # forget relabelled per epoch
        x_all, y_all = torch.cat([xf, xr]), torch.cat([yf, yr])
        order = torch.randperm(nf + nr)
        ratio = int(mask_ratio * ((total_steps - (epoch * loader_len + 1))
                                  / total_steps * n_params))
        g.add("k.%d" % epoch, ratio)
        for b in range(nb):
            idx = order[b * batch:(b + 1) * batch]
            image, target = x_all[idx], y_all[idx]
            g.add("x.%d.%d" % (epoch, b), image)
            g.add("y.%d.%d" % (epoch, b), target)
            loss = crit(model(image), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                p = torch.cat([q.view(-1) for q in model.parameters()], dim=0)
                diff = p - init_params
                thr = -torch.topk(-diff.abs(), ratio)[0][-1]
                p = torch.where(diff > thr, p - thr,
                                torch.where(diff < -thr, p + thr, init_params))
                for q in model.parameters():
                    q.data = p[:q.numel()].view(q.shape).clone()
                    p = p[q.numel():]
            g.add("theta.%d.%d" % (epoch, b),
                  torch.cat([q.detach().view(-1) for q in model.parameters()]))
    g.save("rl_proximal.bin")


if __name__ == "__main__":
    main()
