"""gen_unet_text.py - golden values for the text-conditioned UNet of
src/models/unet.c + unet_xattn.c and its use in diffusion.c: a PyTorch twin
on gen_unet.py's DDPM skeleton (ResNet blocks, down/upsampling, the
sinusoidal time embedding) with Stable Diffusion's conditioning, transcribed
from CompVis ldm (openaimodel.py, attention.py): the time MLP `time_embed`
(Linear, SiLU, Linear) projected into every block by `temb_proj`, no class
embedding, a SpatialTransformer (GroupNorm, 1x1 proj_in, one
BasicTransformerBlock of self-attention attn1, cross-attention attn2 to the
context and a GEGLU feed-forward, each pre-LayerNorm with a residual, 1x1
proj_out, residual) in place of the AttnBlock, and the output `out` =
(GroupNorm, SiLU, conv). Computed: the noise prediction, the official loss,
every parameter gradient and the gradient w.r.t. the context, both guidance
conventions with the empty caption's context as the null condition, and a
DDIM trajectory. Weights from gen_unet.py's name-hash fill()."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from gen_unet import (UNet, ResBlock, betas_linear, ddim, fill, gn, guided,
                      silu, timestep_embedding)
from ltgolden import Golden

# "text:xs,res=8,ch=8,groups=4,blocks=2,attn=4-2,heads=2,ctx_dim=12,ctx_len=5"
CH, MULT, BLOCKS, ATTN, RES, HEADS, CTX_DIM, CTX_LEN = 8, (1, 2, 2), 2, (4, 2), 8, 2, 12, 5


class CrossAttention(nn.Module):
    def __init__(self, query_dim, context_dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (query_dim // heads) ** -0.5
        self.to_q = nn.Linear(query_dim, query_dim, bias=False)
        self.to_k = nn.Linear(context_dim, query_dim, bias=False)
        self.to_v = nn.Linear(context_dim, query_dim, bias=False)
        self.to_out = nn.Sequential(nn.Linear(query_dim, query_dim), nn.Dropout(0.0))

    def forward(self, x, context=None):
        context = x if context is None else context
        h = self.heads

        def split(t):  # b n (h d) -> (b h) n d
            b, n, hd = t.shape
            return t.reshape(b, n, h, hd // h).permute(0, 2, 1, 3).reshape(b * h, n, hd // h)

        q, k, v = split(self.to_q(x)), split(self.to_k(context)), split(self.to_v(context))
        attn = (torch.einsum("bid,bjd->bij", q, k) * self.scale).softmax(dim=-1)
        out = torch.einsum("bij,bjd->bid", attn, v)
        bh, n, d = out.shape
        out = out.reshape(bh // h, h, n, d).permute(0, 2, 1, 3).reshape(bh // h, n, h * d)
        return self.to_out(out)


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim))

    def forward(self, x):
        return self.net(x)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.attn1 = CrossAttention(dim, dim, heads)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, context_dim, heads)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context=context) + x
        return self.ff(self.norm3(x)) + x


class SpatialTransformer(nn.Module):
    def __init__(self, ch, heads, context_dim):
        super().__init__()
        self.norm = gn(ch)
        self.proj_in = nn.Conv2d(ch, ch, 1, 1, 0)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(ch, heads, context_dim)])
        self.proj_out = nn.Conv2d(ch, ch, 1, 1, 0)

    def forward(self, x, context):
        b, c, h, w = x.shape
        x_in = x
        x = self.proj_in(self.norm(x))
        x = x.reshape(b, c, h * w).permute(0, 2, 1)
        for block in self.transformer_blocks:
            x = block(x, context)
        x = x.permute(0, 2, 1).reshape(b, c, h, w)
        return self.proj_out(x) + x_in


class TextUNet(UNet):
    """gen_unet.UNet with Stable Diffusion's conditioning; c is the context."""

    def make_embedding(self, ch, tch, classes):
        self.time_embed = nn.Sequential(nn.Linear(ch, tch), nn.SiLU(), nn.Linear(tch, tch))
        self.emb_width = tch

    def resblock(self, cin, cout):
        return ResBlock(cin, cout, self.emb_width, proj="temb_proj")

    def attn(self, ch):
        return SpatialTransformer(ch, HEADS, CTX_DIM)

    def attend(self, module, h, c):
        return module(h, c)

    def make_output(self, ch, in_ch):
        self.out = nn.Sequential(gn(ch), nn.SiLU(), nn.Conv2d(ch, in_ch, 3, 1, 1))

    def embed(self, t, c):
        return silu(self.time_embed(timestep_embedding(t, self.ch)))

    def output(self, h):
        return self.out(h)


def main():
    torch.manual_seed(0)
    g = Golden()
    m = TextUNet(CH, MULT, BLOCKS, ATTN, RES, 0, in_ch=3)
    fill(m)
    b = betas_linear(1000)
    x0 = torch.randn(4, 3, RES, RES)
    e = torch.randn(4, 3, RES, RES)
    t = torch.tensor([0, 999, 417, 63])
    ctx = torch.randn(4, CTX_LEN, CTX_DIM, requires_grad=True)
    null = torch.randn(CTX_LEN, CTX_DIM)
    a = (1 - b).cumprod(0).index_select(0, t).view(-1, 1, 1, 1)
    xt = x0 * a.sqrt() + e * (1.0 - a).sqrt()
    out = m(xt, t.float(), ctx)
    loss = (e - out).square().sum(dim=(1, 2, 3)).mean(dim=0)
    loss.backward()
    for n, v in [("x0", x0), ("e", e), ("t", t), ("ctx", ctx), ("null", null),
                 ("xt", xt), ("eps", out), ("loss", loss.item()),
                 ("grad_ctx", ctx.grad)]:
        g.add(n, v)
    for n, p in m.named_parameters():
        g.add("grad." + n, p.grad)
    with torch.no_grad():
        nulls = null[None].expand(4, -1, -1)
        for kind, w in (("salun", 2.0), ("sd", 7.5)):
            g.add(f"guided.{kind}", guided(m, xt, t.float(), ctx, kind, w, nulls))
        xT = torch.randn(3, 3, RES, RES)
        cc = torch.randn(3, CTX_LEN, CTX_DIM)
        g.add("ddim.xT", xT)
        g.add("ddim.ctx", cc)
        g.add("ddim.x0", ddim(m, xT, cc, b, 10, 7.5, "sd", null[None].expand(3, -1, -1)))
    g.save("unet_text.bin")


if __name__ == "__main__":
    main()
