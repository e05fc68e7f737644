"""gen_be_expand.py - golden for boundary expanding (BE) and its K+1-way
evaluation, read by tests/test_methods.c.

A transcription of the code path of OPTML-Group/Unlearn-Saliency
Classification/unlearn/boundary_ex.py and main_forget.py's evaluation on a
tiny MLP (4 -> 5 -> 3, the layout of Lethe's mlp:4-5-3):
  * expand_model replaces the last Linear with a Linear(in, K + 1) whose
    first K rows (weight and bias) are the old ones and whose new row keeps
    nn.Linear's own initialisation (recorded here as new_w, new_b);
  * iterative_unlearn then builds SGD(lr, momentum 0.9, weight_decay 5e-4)
    over the WIDENED model's parameters; boundary_expanding_iter walks the
    forget loader only, every target replaced by K (the shadow class), loss
    = CrossEntropyLoss over the K + 1 logits. The forget set (4 items) fits
    one batch, so each epoch is one step and the loader's order does not
    matter;
  * main_forget.py evaluates the widened model as it is: accuracy = top-1
    over the K + 1 outputs (an item sent to the shadow class is wrong, so
    it counts as forgotten), UA = 100 - forget accuracy, RA, TA; and
    SVC_MIA_forget_efficacy from the softmax over the K + 1 outputs at the
    true label (evaluation/SVC_MIA.py: shadow_train = the first len(test)
    retain items, SVC(C=3, gamma="auto", kernel="rbf"), efficacy = 1 -
    mean(predict(forget))).
The original 3-way model is trained first (plain SGD) so the metrics are
not those of random weights.

Entries: x [40, 4] training items (forget = rows 0..3, retain = 4..39),
y [40], xt [30, 4], yt [30] test items, theta0 [43] (layers.0.weight,
layers.0.bias, layers.2.weight, layers.2.bias), new_w [5], new_b [1],
meta [epochs, lr], theta.E [49] the widened weights after epoch E,
metrics [UA, RA, TA, MIA] (percent) of the final widened model,
conf.forget [4] its K + 1-way confidences of the forget items.
Needs python3-sklearn for the MIA.
"""
import numpy as np
import torch
from sklearn.svm import SVC

from ltgolden import Golden

K = 3


def svc_efficacy(retain, test, forget):
    shadow_train = retain[:len(test)]
    x = np.concatenate([shadow_train, test]).reshape(-1, 1)
    y = np.concatenate([np.ones(len(shadow_train)), np.zeros(len(test))])
    clf = SVC(C=3, gamma="auto", kernel="rbf")
    clf.fit(x, y)
    return (1 - clf.predict(forget.reshape(-1, 1)).mean()) * 100


def confidences(model, x, y):
    with torch.no_grad():
        p = torch.softmax(model(x), dim=1)
    return p[torch.arange(len(y)), y].numpy().astype(np.float64)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item() * 100


def flat(model):
    return torch.cat([p.detach().view(-1) for p in model.parameters()])


def main():
    torch.manual_seed(20261206)
    g = Golden()
    centers = torch.randn(K, 4) * 2.5
    y = torch.arange(40) % K
    x = centers[y] + torch.randn(40, 4)
    yt = torch.arange(30) % K
    xt = centers[yt] + torch.randn(30, 4)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(),
                                torch.nn.Linear(5, K))
    pre = torch.optim.SGD(model.parameters(), 0.1)
    for _ in range(200):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        pre.zero_grad()
        loss.backward()
        pre.step()
    g.add("x", x)
    g.add("y", y)
    g.add("xt", xt)
    g.add("yt", yt)
    g.add("theta0", flat(model))
    print("original: RA %.2f TA %.2f" % (accuracy(model, x[4:], y[4:]),
                                        accuracy(model, xt, yt)))

    old = model[2]
    new = torch.nn.Linear(5, K + 1)
    with torch.no_grad():
        new.weight[:-1] = old.weight
        new.bias[:-1] = old.bias
    model[2] = new
    g.add("new_w", new.weight[-1])
    g.add("new_b", new.bias[-1:])

    epochs, lr = 3, 0.02
    g.add("meta", torch.tensor([epochs, lr]))
    opt = torch.optim.SGD(model.parameters(), lr, momentum=0.9,
                          weight_decay=5e-4)
    crit = torch.nn.CrossEntropyLoss()
    xf = x[:4]
    for e in range(epochs):
        model.train()
        target = torch.ones(4, dtype=torch.long) * K
        loss = crit(model(xf), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        g.add("theta.%d" % e, flat(model))

    model.eval()
    xr, yr = x[4:], y[4:]
    ua = 100 - accuracy(model, xf, y[:4])
    ra = accuracy(model, xr, yr)
    ta = accuracy(model, xt, yt)
    cf = confidences(model, xf, y[:4])
    mia = svc_efficacy(confidences(model, xr, yr), confidences(model, xt, yt),
                       cf)
    g.add("metrics", torch.tensor([ua, ra, ta, mia]))
    g.add("conf.forget", torch.tensor(cf))
    print("be golden: UA %.2f RA %.2f TA %.2f MIA %.2f, forget conf %s" %
          (ua, ra, ta, mia, np.round(cf, 4)))
    g.save("be_expand.bin")


if __name__ == "__main__":
    main()
