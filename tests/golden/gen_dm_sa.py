"""gen_dm_sa.py - golden values for src/unlearn/dm_sa.c: Selective
Amnesia's DDPM code (clear-nus/selective-amnesia, ddpm/runners/diffusion.py)
transcribed on the tiny UNet twin of gen_unet.py (same name-hash weights,
dropout 0), every random choice fixed here and passed to C as data:
  train_forget's loss: noise_estimation_loss_conditional on uniform images
      of the forgotten class (cond_drop_prob 0) + gamma times the same loss
      on replay images (cond_drop_prob 0), both at the SAME timesteps t,
      + lmbda * sum F (theta - theta*)^2 over every parameter;
  save_fim's per-sample gradient: the loss of each timestep with
      keepdim=True (pixel-summed), summed over the timesteps (fresh noise
      and the 10% null-class dropout per timestep, given here as data),
      backpropagated per sample; F = mean over samples of its square.
F and theta - theta* follow a formula of the element index k in each
tensor (fisher: 0.1 (k mod 7 + 1); shift: 0.01 (k mod 5 - 2)), which the C
test repeats. Values and the gradients of four tensors."""
import torch

from gen_unet import UNet, betas_linear, fill
from ltgolden import Golden

LMBDA = 10.0
GAMMA = 0.5  # not the default 1, so a swapped weight shows
SOME = ["conv_in.weight", "classes_emb.weight", "null_classes_emb",
        "up.0.block.2.conv2.weight"]


def fisher_of(t):
    k = torch.arange(t.numel())
    return (0.1 * (k % 7 + 1)).to(torch.float32).view_as(t)


def shift_of(t):
    k = torch.arange(t.numel())
    return (0.01 * (k % 5 - 2)).to(torch.float32).view_as(t)


def loss_cond(m, x0, t, c, e, b, keepdim=False):
    """noise_estimation_loss_conditional with the class dropout given as
    -1 in c (cond_drop_prob = 0 when c holds none)."""
    a = (1 - b).cumprod(dim=0).index_select(0, t).view(-1, 1, 1, 1)
    x = x0 * a.sqrt() + e * (1.0 - a).sqrt()
    out = m(x, t.float(), c)
    per = (e - out).square().sum(dim=(1, 2, 3))
    return per if keepdim else per.mean(dim=0)


def main():
    torch.manual_seed(17)
    g = Golden()
    # "cond:xs,res=8,ch=8,groups=4,mult=1-2-2,blocks=2,attn=4,classes=3,dropout=0"
    m = UNet(8, (1, 2, 2), 2, (4,), 8, 3)
    fill(m)
    b = betas_linear(1000)
    params = dict(m.named_parameters())

    # train_forget: theta* = the filled weights, theta = theta* + shift
    n = 3
    x_forget = (torch.rand(n, 1, 8, 8) - 0.5) * 2.0
    e_forget = torch.randn(n, 1, 8, 8)
    x_rem = torch.rand(n, 1, 8, 8) * 2 - 1
    e_rem = torch.randn(n, 1, 8, 8)
    c_rem = torch.tensor([0, 2, 0])
    t = torch.tensor([7, 992, 430])
    for k, v in [("xf", x_forget), ("ef", e_forget), ("xr", x_rem),
                 ("er", e_rem), ("yr", c_rem), ("t", t), ("lambda", LMBDA),
                 ("gamma", GAMMA)]:
        g.add(k, v)
    mle = {k: p.detach().clone() for k, p in params.items()}
    fisher = {k: fisher_of(p) for k, p in params.items()}
    with torch.no_grad():
        for k, p in params.items():
            p.add_(shift_of(p))
    c_forget = torch.ones(n, dtype=torch.int64) * 1
    m.zero_grad()
    lf = loss_cond(m, x_forget, t, c_forget, e_forget, b)
    lr = loss_cond(m, x_rem, t, c_rem, e_rem, b)
    loss = lf + GAMMA * lr
    ewc = 0.0
    for k, p in params.items():
        term = (fisher[k] * (p - mle[k]) ** 2).sum()
        loss = loss + LMBDA * term
        ewc = ewc + LMBDA * term
    loss.backward()
    g.add("sa.loss", loss.item())
    g.add("sa.forget", lf.item())
    g.add("sa.replay", lr.item())
    g.add("sa.ewc", ewc.item())
    for k in SOME:
        g.add("sa.grad." + k, params[k].grad)

    # save_fim on the filled weights: 2 samples in [0, 1], 3 timesteps each
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(mle[k])
    xs = torch.rand(2, 1, 8, 8)
    ts = torch.tensor([0, 333, 999])
    es = torch.randn(2, 3, 1, 8, 8)
    cs = torch.tensor([[2, -1, 2], [0, 0, 0]])  # one null-class dropout
    for k, v in [("fim.x", xs), ("fim.t", ts), ("fim.e", es), ("fim.c", cs)]:
        g.add(k, v)
    acc = {k: torch.zeros_like(p) for k, p in params.items()}
    for i in range(2):
        m.zero_grad()
        loss = None
        for j in range(3):
            li = loss_cond(m, xs[i:i + 1], ts[j:j + 1], cs[i, j:j + 1],
                           es[i, j:j + 1], b, keepdim=True)
            loss = li if loss is None else loss + li
        loss[0].backward()
        if i == 0:
            for k in SOME:
                g.add("fim.grad0." + k, params[k].grad)
        for k, p in params.items():
            acc[k] += p.grad ** 2 / 2
    for k in SOME:
        g.add("fim.F." + k, acc[k])
    g.save("dm_sa.bin")


if __name__ == "__main__":
    main()
