"""gen_dm_esd_sd.py - golden values for the "sd" variant of ESD in
src/unlearn/dm_esd_sd.c: today's esd_sd.py of rohitgandikota/erasing
(with utils/sd_utils.py's esd_sd_call), transcribed on the text UNet twin
of gen_unet_text.py (name-hash weights, random cross-attention weights
stored as w.*):
  - get_esd_trainable_parameters: the parameters of every Linear / Conv2d
    module whose name contains 'attn2' (esd-x), does not (esd-u), any
    (esd-all), or contains 'attn2.to_k' / 'attn2.to_v' (esd-x-strict),
    counted over the twin's named_modules();
  - the scheduler is Stable Diffusion v1.4's default, PNDMScheduler with
    skip_prk_steps, steps_offset 1, set_alpha_to_one False, transcribed
    below from diffusers' scheduling_pndm.py (set_timesteps, step_plms,
    _get_prev_sample);
  - each iteration: x_t = the FROZEN model's pipeline run (guidance_scale
    3: e_u + 3 (e_c - e_u), empty negative prompt) over
    timesteps[0:run_till] from a start latent; the loss at the scheduler
    timestep timesteps[run_till]:
      MSELoss()(e_theta(x_t | c), e*(x_t | c) - eta (e*(x_t | c) - e*(x_t | null)))
    (the script's erase_from is None); eta 1.5 here (2 in the script) so
    that the paper's form e*(null) - eta (...) would differ;
  - torch.optim.Adam(lr) over the esd-x parameters, three iterations with
    run_till 6, 1 and 3 (every branch of step_plms), the esd model in
    eval mode as from_pretrained leaves it.
S is 10 here (50 in the script); the schedule is scaled_linear, T 1000."""
import copy

import numpy as np
import torch

from gen_unet import fill
from gen_unet_text import ATTN, BLOCKS, CH, CTX_DIM, CTX_LEN, MULT, RES, TextUNet
from ltgolden import Golden

S, T, ETA, GUIDE, LR = 10, 1000, 1.5, 3.0, 1e-3
RUN_TILL = [6, 1, 3]
SOME = ["down.1.attn.0.transformer_blocks.0.attn2.to_k.weight",
        "mid.attn_1.transformer_blocks.0.attn2.to_out.0.bias",
        "up.2.attn.1.transformer_blocks.0.attn2.to_q.weight"]
OTHER = ["mid.attn_1.transformer_blocks.0.attn1.to_q.weight", "conv_in.weight",
         "mid.attn_1.transformer_blocks.0.norm2.weight"]


class PNDM:
    """PNDMScheduler(skip_prk_steps=True, steps_offset=1,
    set_alpha_to_one=False) on abar, as diffusers computes it."""

    def __init__(self, abar):
        self.abar, self.final = abar, abar[0]

    def set_timesteps(self, n):
        self.n = n
        ratio = T // n
        ts = (np.arange(0, n) * ratio).round() + 1
        plms = np.concatenate([ts[:-1], ts[-2:-1], ts[-1:]])[::-1].copy()
        self.timesteps = torch.from_numpy(plms.astype(np.int64))
        self.ets, self.counter, self.cur_sample = [], 0, None

    def prev(self, x, t, tp, e):
        a = self.abar[t]
        ap = self.abar[tp] if tp >= 0 else self.final
        coeff = (ap / a) ** 0.5
        denom = a * (1 - ap) ** 0.5 + (a * (1 - a) * ap) ** 0.5
        return coeff * x - (ap - a) * e / denom

    def step(self, e, t, x):
        tp = t - T // self.n
        if self.counter != 1:
            self.ets = self.ets[-3:]
            self.ets.append(e)
        else:
            tp, t = t, t + T // self.n
        if len(self.ets) == 1 and self.counter == 0:
            self.cur_sample = x
        elif len(self.ets) == 1 and self.counter == 1:
            e = (e + self.ets[-1]) / 2
            x, self.cur_sample = self.cur_sample, None
        elif len(self.ets) == 2:
            e = (3 * self.ets[-1] - self.ets[-2]) / 2
        elif len(self.ets) == 3:
            e = (23 * self.ets[-1] - 16 * self.ets[-2] + 5 * self.ets[-3]) / 12
        else:
            e = (55 * self.ets[-1] - 59 * self.ets[-2] + 37 * self.ets[-3]
                 - 9 * self.ets[-4]) / 24
        out = self.prev(x, t, tp, e)
        self.counter += 1
        return out


@torch.no_grad()
def pipe_till(model, sch, x, c, uc, run_till):
    """esd_sd_call(run_till_timestep=run_till, output_type='latent')."""
    sch.set_timesteps(S)  # retrieve_timesteps resets the scheduler
    for t in sch.timesteps[0:run_till].tolist():
        ts = torch.full((2,), float(t))
        e_u, e_c = model(torch.cat([x, x]), ts, torch.cat([uc, c])).chunk(2)
        x = sch.step(e_u + GUIDE * (e_c - e_u), t, x)
    return x


def trainable(model, method):
    out = []
    for name, mod in model.named_modules():
        if mod.__class__.__name__ not in ("Linear", "Conv2d"):
            continue
        if (method == "esd-x" and "attn2" in name) or \
                (method == "esd-u" and "attn2" not in name) or \
                method == "esd-all" or \
                (method == "esd-x-strict" and ("attn2.to_k" in name or "attn2.to_v" in name)):
            out += [name + "." + n for n, _ in mod.named_parameters()]
    return out


def main():
    torch.manual_seed(162)
    g = Golden()
    m = TextUNet(CH, MULT, BLOCKS, ATTN, RES, 0, in_ch=3)
    fill(m)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if "attn2" in n:
                fan = p.shape[1] if p.dim() == 2 else 1
                p.copy_(torch.randn(p.shape) * 2 / fan ** 0.5)
                g.add("w." + n, p.detach().clone())
    base = copy.deepcopy(m).eval()
    m.eval()
    sl = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=np.float64) ** 2
    abar = (1 - torch.from_numpy(sl).float()).cumprod(0)
    sch = PNDM(abar)
    sch.set_timesteps(S)
    g.add("timesteps", sch.timesteps)
    ctx, null = torch.randn(1, CTX_LEN, CTX_DIM), torch.randn(1, CTX_LEN, CTX_DIM)
    for n, v in [("ctx", ctx), ("null", null), ("eta", ETA), ("guide", GUIDE),
                 ("lr", LR), ("S", S)]:
        g.add(n, v)
    for meth in ("esd-x", "esd-u", "esd-all", "esd-x-strict"):
        names = set(trainable(m, meth))
        g.add("count." + meth, sum(p.numel() for n, p in m.named_parameters() if n in names))
    names = set(trainable(m, "esd-x"))
    named = dict(m.named_parameters())
    opt = torch.optim.Adam([named[n] for n in trainable(m, "esd-x")], lr=LR)
    mse = torch.nn.MSELoss()
    for k, run_till in enumerate(RUN_TILL):
        start = torch.randn(1, 3, RES, RES)
        opt.zero_grad()
        xt = pipe_till(base, sch, start, ctx, null, run_till)
        t = torch.full((1,), float(sch.timesteps[run_till]))
        with torch.no_grad():
            e_c, e_0 = base(xt, t, ctx), base(xt, t, null)
        e_n = m(xt, t, ctx)
        loss = mse(e_n, e_c - ETA * (e_c - e_0))
        loss.backward()
        for n, v in [("run_till", run_till), ("t", t), ("start", start),
                     ("z", xt), ("loss", loss.item())]:
            g.add(f"s{k}.{n}", v)
        for n in SOME:
            g.add(f"s{k}.grad.{n}", named[n].grad)
        opt.step()
        for n in SOME + OTHER:
            g.add(f"s{k}.after.{n}", named[n].detach())
    assert not any("norm" in n for n in names)
    g.save("dm_esd_sd.bin")


if __name__ == "__main__":
    main()
