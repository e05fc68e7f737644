"""gen_llm_loss.py - goldens for Lethe's LLM unlearning losses, from
PyTorch transcriptions of the official code paths (not of Lethe's reading):

  ga, graddiff, idk, idkpo  locuslab/tofu dataloader.py,
                            CustomTrainerForgetting.compute_loss: the
                            `grad_ascent`, `grad_diff`, `idk` (one forward
                            over torch.cat((idk, retain)) and its
                            outputs.loss) and `dpo` branches (beta 0.1,
                            get_batch_loss = per-sequence summed NLL). The
                            `dpo` branch scores the forget answers with a
                            name `labels` it never binds; the intended
                            forget_labels are used here (and by Lethe).
  npo, npo-gd               licong-lin/negative-preference-optimization
                            (TOFU/dataloader.py): neg_log_ratios =
                            get_batch_loss(theta) - get_batch_loss(ref),
                            -logsigmoid(beta r).mean() * 2 / beta, plus the
                            retain outputs.loss for npo_grad_diff.
  npo (mean)                OPTML-Group/SOUL src/unlearn/NPO.py (WAGLE's is
                            the same): the ratio of the batches'
                            outputs.loss (token-weighted mean NLL), one per
                            batch, + gamma * retain outputs.loss.
  simnpo                    OPTML-Group/Unlearn-Simple TOFU dataloader.py,
                            `simnpo_grad_diff`: get_batch_loss / (labels !=
                            -100).sum(-1) - gamma, -logsigmoid(beta .).mean()
                            * 2 / beta, times npo_coeff, + grad_diff_coeff *
                            retain outputs.loss.

The model under training is tests/golden/llama_tiny (make_params(CFG, 2) of
gen_llama.py) and the frozen reference model is tests/golden/llama_tied
(make_params(tied CFG, 3)): a different network, so the log ratios are far
from 0. Batches are right-padded with id 0 and labels -100 on the prompt and
the padding. For every case the golden holds the loss and the gradients of
two weight tensors. Written to llm_loss.bin; read by tests/test_llm_loss.c.
"""
import torch
import torch.nn.functional as F

from gen_llama import CFG, IGNORE, forward, make_params
from ltgolden import Golden

T = 8
# (n_prompt, tokens) per row; ids in 3..63 (0 is the pad id)
FORGET = [(3, [5, 17, 22, 40, 41, 9, 33, 2]),
          (2, [6, 18, 50, 51, 12, 2]),
          (2, [7, 19, 60, 13, 2])]
IDK = [(3, [5, 17, 22, 30, 31, 32, 2]),      # the same prompts as FORGET
       (2, [6, 18, 30, 34, 35, 36, 37, 2]),
       (2, [7, 19, 38, 2])]
RETAIN = [(4, [8, 20, 21, 23, 44, 45, 46, 2]),
          (3, [10, 24, 25, 47, 48, 49, 2]),
          (2, [11, 26, 52, 53, 54, 2])]
GRADS = ["lm_head.weight", "model.layers.0.mlp.down_proj.weight"]


def batch(rows):
    ids = torch.zeros(len(rows), T, dtype=torch.long)
    labels = torch.full((len(rows), T), IGNORE, dtype=torch.long)
    for b, (npr, toks) in enumerate(rows):
        ids[b, :len(toks)] = torch.tensor(toks)
        labels[b, npr:len(toks)] = torch.tensor(toks[npr:])
    return ids, labels


def outputs_loss(logits, labels):
    """Hugging Face's outputs.loss: mean CE over the shifted scored tokens."""
    v = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, v),
                           labels[:, 1:].reshape(-1), ignore_index=IGNORE)


def get_batch_loss(logits, labels):
    """TOFU's get_batch_loss: per-sequence summed CE (reduction none)."""
    ce = torch.nn.CrossEntropyLoss(ignore_index=IGNORE, reduction="none")
    return ce(logits[:, :-1].transpose(-1, -2), labels[:, 1:]).sum(dim=-1)


def model(p, ids):
    return forward(p, ids, CFG)


def ref_model(p, ids):
    return forward(p, ids, dict(CFG, tie_word_embeddings=True))


def loss_ga(p, ref, fb, rb, ib, a):
    return outputs_loss(model(p, fb[0]), fb[1]) * -1


def loss_graddiff(p, ref, fb, rb, ib, a):
    forget_loss = outputs_loss(model(p, fb[0]), fb[1]) * -1
    return forget_loss + outputs_loss(model(p, rb[0]), rb[1])


def npo_term(p, ref, fb, beta):
    cur = get_batch_loss(model(p, fb[0]), fb[1])
    with torch.no_grad():
        orc = get_batch_loss(ref_model(ref, fb[0]), fb[1])
    return -F.logsigmoid(beta * (cur - orc)).mean() * 2 / beta


def loss_npo(p, ref, fb, rb, ib, a):
    return npo_term(p, ref, fb, a["beta"])


def loss_npo_gd(p, ref, fb, rb, ib, a):
    return npo_term(p, ref, fb, a["beta"]) + \
        outputs_loss(model(p, rb[0]), rb[1])


def loss_npo_mean_gd(p, ref, fb, rb, ib, a):
    cur = outputs_loss(model(p, fb[0]), fb[1])
    with torch.no_grad():
        orc = outputs_loss(ref_model(ref, fb[0]), fb[1])
    forget = -F.logsigmoid(a["beta"] * (cur - orc)).mean() * 2 / a["beta"]
    return forget + a["lambda"] * outputs_loss(model(p, rb[0]), rb[1])


def loss_simnpo(p, ref, fb, rb, ib, a):
    logits = model(p, fb[0])
    mask = fb[1] != IGNORE
    x = get_batch_loss(logits, fb[1]) / mask.sum(-1) - a["gamma"]
    forget = -F.logsigmoid(a["beta"] * x).mean() * 2 / a["beta"]
    return a["npo_coeff"] * forget + a["lambda"] * \
        outputs_loss(model(p, rb[0]), rb[1])


def loss_idk(p, ref, fb, rb, ib, a):
    ids = torch.cat((ib[0], rb[0]), dim=0)
    labels = torch.cat((ib[1], rb[1]), dim=0)
    return outputs_loss(model(p, ids), labels)


def loss_idkpo(p, ref, fb, rb, ib, a):
    idk_cur = -1 * get_batch_loss(model(p, ib[0]), ib[1])
    forget_cur = -1 * get_batch_loss(model(p, fb[0]), fb[1])
    with torch.no_grad():
        idk_orc = -1 * get_batch_loss(ref_model(ref, ib[0]), ib[1])
        forget_orc = -1 * get_batch_loss(ref_model(ref, fb[0]), fb[1])
    pi_logratios = idk_cur - forget_cur
    ref_logratios = idk_orc - forget_orc
    beta = 0.1
    return -F.logsigmoid(beta * (pi_logratios - ref_logratios)).mean()


# name, function, settings (Lethe's lt_llm_loss_cfg fields)
CASES = [
    ("ga", loss_ga, {}),
    ("graddiff", loss_graddiff, {"lambda": 1.0}),
    ("npo", loss_npo, {"beta": 0.1}),
    ("npo-gd", loss_npo_gd, {"beta": 0.1, "lambda": 1.0}),
    ("npo-mean-gd", loss_npo_mean_gd, {"beta": 0.1, "lambda": 1.0}),
    ("simnpo", loss_simnpo, {"beta": 2.5, "gamma": 0.0, "npo_coeff": 0.1375,
                             "lambda": 1.0}),
    ("simnpo-g", loss_simnpo, {"beta": 0.25, "gamma": 4.0, "npo_coeff": 1.0,
                               "lambda": 0.5}),
    ("idk", loss_idk, {}),
    ("idkpo", loss_idkpo, {}),
]


def main():
    params = make_params(CFG, 2)
    ref = make_params(dict(CFG, tie_word_embeddings=True), 3)
    fb, rb, ib = batch(FORGET), batch(RETAIN), batch(IDK)
    g = Golden()
    for name, bt in (("forget", fb), ("retain", rb), ("idk", ib)):
        g.add(name + ".ids", bt[0])
        g.add(name + ".labels", bt[1])
    for name, fn, a in CASES:
        p = {n: t.clone().requires_grad_(True) for n, t in params.items()}
        loss = fn(p, ref, fb, rb, ib, a)
        loss.backward()
        g.add(name + ".loss", loss.item())
        for w in GRADS:
            g.add(name + ".grad." + w, p[w].grad)
    g.save("llm_loss.bin")


if __name__ == "__main__":
    main()
