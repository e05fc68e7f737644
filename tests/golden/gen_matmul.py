"""gen_matmul.py - golden values for the matmul family (lt_matmul,
lt_linear, lt_bmm): inputs, upstream gradient r, output and the gradient of
sum(y * r) for each input. References are computed in float64."""
import torch

from ltgolden import Golden, grads

torch.manual_seed(1234)
g = Golden()


def leaf(*shape):
    return torch.randn(*shape, dtype=torch.float64).requires_grad_(True)


def emit(prefix, names, inputs, y):
    r = torch.randn(y.shape, dtype=torch.float64)
    for n, t in zip(names, inputs):
        g.add(f"{prefix}.{n}", t)
    g.add(f"{prefix}.r", r)
    g.add(f"{prefix}.y", y)
    for n, d in zip(names, grads(y, inputs, r)):
        g.add(f"{prefix}.d{n}", d)


a, b = leaf(33, 20), leaf(20, 19)
emit("matmul", ["a", "b"], [a, b], a @ b)

x, w, bias = leaf(3, 5, 24), leaf(17, 24), leaf(17)
emit("linear", ["x", "w", "b"], [x, w, bias], x @ w.T + bias)

x, w = leaf(7, 12), leaf(9, 12)
emit("linear_nobias", ["x", "w"], [x, w], x @ w.T)

M, K, N = 7, 5, 6
for ta in (0, 1):
    for tb in (0, 1):
        a = leaf(2, 3, K, M) if ta else leaf(2, 3, M, K)
        b = leaf(2, 3, N, K) if tb else leaf(2, 3, K, N)
        oa = a.transpose(-1, -2) if ta else a
        ob = b.transpose(-1, -2) if tb else b
        emit(f"bmm{ta}{tb}", ["a", "b"], [a, b], oa @ ob)

g.save("matmul.bin")
