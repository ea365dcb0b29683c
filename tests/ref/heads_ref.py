#!/usr/bin/python3
"""Generate the PyTorch reference fixture for the quantile Huber loss and the Munchausen target
(tests/test_heads.c).

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 -B tests/ref/heads_ref.py
Writes tests/ref/heads.bin in nn_ref.py's format (magic b"PRNNREF\\0", u32 version 1, u32 record
count, then per record a 32-byte NUL-padded name, u32 n, n float32 values).

Inputs are drawn in float32 from a fixed torch seed; the references are computed in float64 from
those float32 values (prism computes both in double) and the gradient comes from autograd.

Quantile Huber loss (Dabney et al. 2018 in Dopamine's form, not divided by kappa):
  u_ij = T_j - theta_i, l_b = sum_i mean_j |tau_i - 1{u_ij < 0}| H_kappa(u_ij),
  loss = mean_b w_b l_b.  Records q.*: B 4, N 5 predicted quantiles at per-row fractions (as IQN
  samples them), M 6 target samples, kappa 0.8 so that both Huber branches occur.
Munchausen target (Vieillard et al. 2020), records m.*: B 6, A 3,
  y = r + alpha clip(tau log softmax(q_obs / tau)[a], l0, 0)
        + d sum_a' softmax(q_next / tau)[a'] (q_next[a'] - tau log softmax(q_next / tau)[a']),
  with tau 0.03, alpha 0.9, l0 -1; one row's Q-values far apart so the clip acts, one terminal.
"""
import os

import torch
import torch.nn.functional as F

from nn_ref import write  # the fixture format, written once

torch.set_num_threads(1)


def quantile_records():
    B, N, M, kappa = 4, 5, 6, 0.8
    g = torch.Generator().manual_seed(16)
    pred32 = (torch.randn(B, N, generator=g) * 1.5).float()
    taus32 = torch.rand(B, N, generator=g).float()
    targets32 = (torch.randn(B, M, generator=g) * 1.5).float()
    weights32 = (0.2 + torch.rand(B, generator=g)).float()
    pred = pred32.double().requires_grad_(True)
    taus, targets, weights = taus32.double(), targets32.double(), weights32.double()
    u = targets[:, None, :] - pred[:, :, None]  # (B, N, M)
    au = u.abs()
    huber = torch.where(au <= kappa, 0.5 * u * u, kappa * (au - 0.5 * kappa))
    asym = (taus[:, :, None] - (u.detach() < 0).double()).abs()
    losses = (asym * huber).mean(2).sum(1)
    loss = (weights * losses).mean()
    loss.backward()
    return [
        ("q.dims", [B, N, M, kappa]),
        ("q.pred", pred32),
        ("q.taus", taus32),
        ("q.targets", targets32),
        ("q.weights", weights32),
        ("q.loss", [loss.item()]),
        ("q.losses", losses.detach()),
        ("q.dpred", pred.grad),
    ]


def munchausen_records():
    B, A, tau, alpha, l0 = 6, 3, 0.03, 0.9, -1.0
    g = torch.Generator().manual_seed(61)
    q_obs32 = (torch.randn(B, A, generator=g) * 0.05).float()
    q_obs32[2] = torch.tensor([0.0, 5.0, -3.0])  # far apart: tau log pi below l0, clipped
    q_next32 = (torch.randn(B, A, generator=g) * 0.05 + 1.0).float()
    actions = torch.tensor([0, 2, 0, 1, 2, 1])
    returns32 = torch.randn(B, generator=g).float()
    discounts32 = torch.full((B,), 0.99 ** 3).float()
    discounts32[4] = 0.0  # a terminal transition: no bootstrap
    q_obs, q_next = q_obs32.double(), q_next32.double()
    log_pi_next = F.log_softmax(q_next / tau, dim=1)
    soft_value = (log_pi_next.exp() * (q_next - tau * log_pi_next)).sum(1)
    bonus = (tau * F.log_softmax(q_obs / tau, dim=1)).gather(1, actions[:, None]).squeeze(1)
    bonus = bonus.clamp(l0, 0.0)
    y = returns32.double() + alpha * bonus + discounts32.double() * soft_value
    return [
        ("m.dims", [B, A, tau, alpha, l0]),
        ("m.q_obs", q_obs32),
        ("m.q_next", q_next32),
        ("m.actions", actions.float()),
        ("m.returns", returns32),
        ("m.discounts", discounts32),
        ("m.targets", y),
    ]


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "heads.bin")
    write(out, quantile_records() + munchausen_records())
    print("wrote", out)
