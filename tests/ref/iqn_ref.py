#!/usr/bin/python3
"""Generate the PyTorch reference fixture for the implicit quantile embedding (tests/test_iqn.c).

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 -B tests/ref/iqn_ref.py
Writes tests/ref/iqn.bin in nn_ref.py's format.

The network (IQN, Dabney et al. 2018, with the cosine features of Dopamine, i = 1..E):
  x (B, D) -> dense0 (K) + ReLU -> feat (B, K)
  phi_t = ReLU(cos(pi i tau_t) W_e^T + b_e), i = 1..E     (B*T, K)
  h_t = feat_b * phi_t                                      (B*T, K)
  dueling head: out = V(h) + A(h) - mean_a A(h)            (B*T, A)
Parameters are drawn in float32 from a fixed seed and stored flat in prism's order (dense0.w,
dense0.b, tau_embed.w, tau_embed.b, head.adv.w, head.adv.b, head.val.w, head.val.b); the
reference is computed in float64 from those values. The gradient of sum(out * probe) with
respect to every parameter comes from autograd, flat in the same order.
"""
import math
import os

import torch

from nn_ref import write  # the fixture format, written once

torch.set_num_threads(1)


def records():
    B, T, D, K, E, A = 3, 4, 3, 6, 5, 2
    g = torch.Generator().manual_seed(32)
    shapes = [(K, D), (K,), (K, E), (K,), (A, K), (A,), (1, K), (1,)]
    params32 = [(torch.rand(s, generator=g) - 0.5).float() for s in shapes]
    x32 = (torch.rand(B, D, generator=g) * 2 - 1).float()
    taus32 = torch.rand(B, T, generator=g).float()
    probe32 = (torch.rand(B * T, A, generator=g) * 2 - 1).float()
    p = [t.double().requires_grad_(True) for t in params32]
    w0, b0, we, be, wa, ba, wv, bv = p
    feat = torch.relu(x32.double() @ w0.T + b0)  # (B, K)
    i = torch.arange(1, E + 1, dtype=torch.float64)
    cosines = torch.cos(math.pi * i[None, :] * taus32.double().reshape(B * T, 1))  # (B*T, E)
    phi = torch.relu(cosines @ we.T + be)  # (B*T, K)
    h = feat.repeat_interleave(T, dim=0) * phi  # row b*T + t
    adv = h @ wa.T + ba
    val = h @ wv.T + bv
    out = val + adv - adv.mean(1, keepdim=True)
    (out * probe32.double()).sum().backward()
    return [
        ("iqn.dims", [B, T, D, K, E, A]),
        ("iqn.params", torch.cat([t.reshape(-1) for t in params32])),
        ("iqn.x", x32),
        ("iqn.taus", taus32),
        ("iqn.probe", probe32),
        ("iqn.out", out.detach()),
        ("iqn.grads", torch.cat([t.grad.reshape(-1) for t in p])),
    ]


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iqn.bin")
    write(out, records())
    print("wrote", out)
