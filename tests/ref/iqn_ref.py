#!/usr/bin/python3
"""Generate the PyTorch reference fixture for the implicit quantile embedding and M-IQN's target
(tests/test_iqn.c).

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
import torch.nn.functional as F

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


def munchausen_records():
    """M-IQN's target (the Munchausen quantile target of the Revisiting Rainbow code):
      pi = softmax(q / tau) of the mean target quantiles q_obs, q_next (B, A),
      T_j = r + alpha clip(tau log pi_obs[a], l0, 0)
              + d sum_a pi_next[a] (theta_j[a] - tau log pi_next[a]),  theta (B, M, A).
    tau 0.03, alpha 0.9, l0 -1; one row's Q-values far apart so the clip acts, one terminal."""
    B, A, M, tau, alpha, l0 = 5, 3, 4, 0.03, 0.9, -1.0
    g = torch.Generator().manual_seed(64)
    q_obs32 = (torch.randn(B, A, generator=g) * 0.05).float()
    q_obs32[1] = torch.tensor([0.0, 4.0, -2.0])
    q_next32 = (torch.randn(B, A, generator=g) * 0.05 + 1.0).float()
    theta32 = (torch.randn(B, M, A, generator=g) * 0.5 + 1.0).float()
    actions = torch.tensor([2, 0, 1, 1, 0])
    returns32 = torch.randn(B, generator=g).float()
    discounts32 = torch.full((B,), 0.99).float()
    discounts32[3] = 0.0
    log_pi_next = F.log_softmax(q_next32.double() / tau, dim=1)  # (B, A)
    soft = (log_pi_next.exp()[:, None, :] *
            (theta32.double() - tau * log_pi_next[:, None, :])).sum(2)  # (B, M)
    bonus = (tau * F.log_softmax(q_obs32.double() / tau, dim=1)).gather(1, actions[:, None])
    bonus = bonus.squeeze(1).clamp(l0, 0.0)
    y = (returns32.double() + alpha * bonus)[:, None] + discounts32.double()[:, None] * soft
    return [
        ("mi.dims", [B, A, M, tau, alpha, l0]),
        ("mi.q_obs", q_obs32),
        ("mi.q_next", q_next32),
        ("mi.theta", theta32),
        ("mi.actions", actions.float()),
        ("mi.returns", returns32),
        ("mi.discounts", discounts32),
        ("mi.targets", y),
    ]


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iqn.bin")
    write(out, records() + munchausen_records())
    print("wrote", out)
