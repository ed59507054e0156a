"""The fused head + cross-entropy (training.linear_cross_entropy) against torch's own
``cross_entropy`` over the full logits: the same loss and the same gradient, in float64 and float32,
with and without soft-capping, over chunk sizes that do and do not divide the positions."""

import pytest

torch = pytest.importorskip("torch")

from workbench.engines import training  # noqa: E402


def _reference(h, w, t, cap):
    z = h @ w.T
    if cap:
        z = torch.tanh(z / cap) * cap
    return torch.nn.functional.cross_entropy(z, t)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 2e-5)])
@pytest.mark.parametrize("cap", [None, 30.0])
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_same_loss_and_gradient_as_torch(dtype, tol, cap, chunk):
    g = torch.Generator().manual_seed(0)
    n, d, v = 37, 16, 1000
    w = torch.randn(v, d, generator=g, dtype=dtype) * 2  # large logits: soft-capping matters
    t = torch.randint(0, v, (n,), generator=g)
    h1 = torch.randn(n, d, generator=g, dtype=dtype, requires_grad=True)
    h2 = h1.detach().clone().requires_grad_(True)
    ref = _reference(h1, w, t, cap)
    ours = training.linear_cross_entropy(h2, w, t, softcap=cap, chunk=chunk)
    (ref * 3).backward()  # a non-unit upstream gradient
    (ours * 3).backward()
    got, want = float(ours.detach()), float(ref.detach())
    assert abs(got - want) <= tol * max(1.0, abs(want))
    torch.testing.assert_close(h2.grad, h1.grad, rtol=tol * 10, atol=tol)


def test_supervised_loss_uses_it_only_for_a_frozen_head():
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight.requires_grad_(False)
    h = torch.randn(3, 4, requires_grad=True)
    t = torch.tensor([1, 2, 3])
    value = training.linear_cross_entropy(h, head.weight, t)
    torch.testing.assert_close(value, torch.nn.functional.cross_entropy(head(h), t))
    assert value.grad_fn is not None and "LinearCrossEntropy" in type(value.grad_fn).__name__
