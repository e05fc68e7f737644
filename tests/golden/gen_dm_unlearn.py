"""gen_dm_unlearn.py - golden values for src/unlearn/dm_unlearn.c: the
forget losses of SalUn's DDPM code transcribed on the tiny UNet twin of
gen_unet.py (same name-hash weights, dropout 0), with every random choice
(noise, timesteps, null-class dropout as class -1) fixed here and passed to
the C side as data:
  rl  (saliency_unlearn, method "rl"): torch.nn.MSELoss()(pseudo, output)
      with output = model(x_t, t, c_f), pseudo = model(x_t, t, c').detach(),
      plus alpha times the pixel-summed, batch-mean denoising loss on a
      retain batch (noise_estimation_loss_conditional);
  ga  (method "ga"): minus that denoising loss on the forget batch, plus the
      same retain term;
  esd (train_esd): MSELoss()(e_n, e_0 - eta (e_p - e_0)) with e_0, e_p the
      frozen copy's null-class and forget-class predictions (the frozen
      copy holds the same weights here).
Loss values and gradients (every parameter for rl; three tensors for rl's
forget term alone, ga and esd, to keep the file small)."""
import torch

from gen_unet import UNet, betas_linear, fill
from ltgolden import Golden

ALPHA = 1e-3 * 3072 / 64  # the 1e-3-on-3072-pixels balance on 8x8 images
ETA = 1.0
SOME = ["conv_in.weight", "classes_emb.weight", "up.0.block.2.conv2.weight"]


def noised(x0, e, t, b):
    a = (1 - b).cumprod(dim=0).index_select(0, t).view(-1, 1, 1, 1)
    return x0 * a.sqrt() + e * (1.0 - a).sqrt()


def denoise_loss(m, x0, e, t, c, b):
    out = m(noised(x0, e, t, b), t.float(), c)
    return (e - out).square().sum(dim=(1, 2, 3)).mean(dim=0)


def main():
    torch.manual_seed(16)
    g = Golden()
    # "cond:xs,res=8,ch=8,groups=4,mult=1-2-2,blocks=2,attn=4,classes=3,dropout=0"
    m = UNet(8, (1, 2, 2), 2, (4,), 8, 3)
    fill(m)
    b = betas_linear(1000)
    xf, ef = torch.rand(4, 1, 8, 8) * 2 - 1, torch.randn(4, 1, 8, 8)
    tf = torch.tensor([5, 994, 311, 688])
    cf = torch.tensor([1, 1, -1, 1])   # one null-class dropout in the pair
    cp = torch.tensor([2, -1, 2, 2])
    xr, er = torch.rand(3, 1, 8, 8) * 2 - 1, torch.randn(3, 1, 8, 8)
    tr = torch.tensor([17, 982, 500])
    cr = torch.tensor([0, 2, -1])
    for n, v in [("xf", xf), ("ef", ef), ("tf", tf), ("cf", cf), ("cp", cp),
                 ("xr", xr), ("er", er), ("tr", tr), ("cr", cr),
                 ("alpha", ALPHA), ("eta", ETA)]:
        g.add(n, v)
    mse = torch.nn.MSELoss()
    params = dict(m.named_parameters())

    # rl
    m.zero_grad()
    xt = noised(xf, ef, tf, b)
    output = m(xt, tf.float(), cf)
    pseudo = m(xt, tf.float(), cp).detach()
    forget = mse(pseudo, output)
    remain = denoise_loss(m, xr, er, tr, cr, b)
    loss = forget + ALPHA * remain
    loss.backward()
    g.add("rl.loss", loss.item())
    g.add("rl.forget", forget.item())
    g.add("rl.retain", remain.item())
    for n, p in m.named_parameters():
        g.add("rl.grad." + n, p.grad)

    # rl's forget term alone (the retain term dominates the sum above)
    m.zero_grad()
    output = m(xt, tf.float(), cf)
    pseudo = m(xt, tf.float(), cp).detach()
    mse(pseudo, output).backward()
    for n in SOME:
        g.add("rlf.grad." + n, params[n].grad)

    # ga (forget classes without dropout here: cf with the -1 kept)
    m.zero_grad()
    loss = -denoise_loss(m, xf, ef, tf, cf, b) + ALPHA * denoise_loss(m, xr, er, tr, cr, b)
    loss.backward()
    g.add("ga.loss", loss.item())
    for n in SOME:
        g.add("ga.grad." + n, params[n].grad)

    # esd: the forget class 1 everywhere, no retain term
    m.zero_grad()
    c1 = torch.full((4,), 1)
    with torch.no_grad():
        e0 = m(xt, tf.float(), torch.full((4,), -1))
        ep = m(xt, tf.float(), c1)
    en = m(xt, tf.float(), c1)
    loss = mse(en, e0 - ETA * (ep - e0))
    loss.backward()
    g.add("esd.loss", loss.item())
    for n in SOME:
        g.add("esd.grad." + n, params[n].grad)
    g.save("dm_unlearn.bin")


if __name__ == "__main__":
    main()
