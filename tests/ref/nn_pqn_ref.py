#!/usr/bin/python3
"""Generate the PyTorch reference fixtures for the engine pieces of PQN (tests/test_nn_ref.c):
LayerNorm networks, RAdam with global-norm clipping, and orthogonal initialisation.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 tests/ref/nn_pqn_ref.py
Writes tests/ref/nn_pqn_mlp.bin, tests/ref/nn_pqn_minatar.bin and tests/ref/nn_orthogonal.bin in
the format of nn_ref.py (whose helpers it uses: same hash-initialised parameters, same records).

Networks, in prism's parameter order (each layer's W, b, then its LayerNorm scale g and shift b):
  mlp:     CleanRL pqn.py's 4-120-84-2: Linear, LayerNorm, ReLU, Linear, LayerNorm, ReLU, Linear;
           batch 64.
  minatar: the PQN authors' MinAtar network on 10x10x4 input: conv 16 3x3 VALID, LayerNorm over
           the 16 channels of each pixel, ReLU, flatten (H, W, F), Linear 128, LayerNorm, ReLU,
           Linear 6; batch 16.
Loss: mean squared error on the taken action (torch's MSELoss, no 1/2). Records: bounds, x,
actions, targets, out, loss, grad, and radam12 (all parameters after 12 RAdam steps, lr 1e-3,
gradients clipped to global norm 0.5 with torch.nn.utils.clip_grad_norm_ before each step:
RAdam's rectified branch starts at step 6, so both branches are exercised).

nn_orthogonal.bin: for a tall (12, 5) and a wide (5, 12) matrix A of hash values, "a_tall",
"q_tall", "a_wide", "q_wide" where q is what torch.nn.init.orthogonal_ (gain 1.5) computes from A
in place of its normal draw: QR of A (of A^T when wide), Q's columns times sign(diag R).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nn_ref import splitmix_values, tensor_seed, write  # noqa: E402

torch.set_num_threads(1)
EPS = 1e-5


def run(shapes, bounds, forward, x, actions, targets):
    def fresh():
        return [torch.tensor(splitmix_values(tensor_seed(t), int(np.prod(s)), bounds[t]).reshape(s),
                             requires_grad=True) for t, s in enumerate(shapes)]

    xt, at, tt = torch.tensor(x), torch.tensor(actions.astype(np.int64)), torch.tensor(targets)

    def loss_fn(ps):
        q = forward(ps, xt)
        return q, F.mse_loss(q.gather(1, at[:, None])[:, 0], tt)

    ps = fresh()
    q, loss = loss_fn(ps)
    loss.backward()
    recs = [("bounds", np.array(bounds, dtype=np.float32)), ("x", x),
            ("actions", actions.astype(np.float32)), ("targets", targets),
            ("out", q.detach().numpy()), ("loss", np.array([loss.item()], dtype=np.float32)),
            ("grad", np.concatenate([p.grad.numpy().ravel() for p in ps]))]
    ps = fresh()
    opt = torch.optim.RAdam(ps, lr=1e-3)
    for _ in range(12):
        opt.zero_grad()
        _, loss = loss_fn(ps)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ps, 0.5)
        opt.step()
    recs.append(("radam12", np.concatenate([p.detach().numpy().ravel() for p in ps])))
    return recs


def ln(h, g, b):
    return F.layer_norm(h, (h.shape[-1],), g, b, EPS)


def orthogonal(a, gain):
    rows, cols = a.shape
    flat = torch.tensor(a, dtype=torch.float64)
    if rows < cols:
        flat = flat.t()
    q, r = torch.linalg.qr(flat)
    q = q * torch.diag(r, 0).sign()
    if rows < cols:
        q = q.t()
    return (gain * q).numpy().astype(np.float32)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = np.random.RandomState(20261203)

    B, D, H1, H2, A = 64, 4, 120, 84, 2
    shapes = [(H1, D), (H1,), (H1,), (H1,), (H2, H1), (H2,), (H2,), (H2,), (A, H2), (A,)]
    bounds = [0.5, 0.5, 1.5, 0.5, 0.1, 0.1, 1.5, 0.5, 0.1, 0.1]

    def mlp(ps, x):
        h = F.relu(ln(F.linear(x, ps[0], ps[1]), ps[2], ps[3]))
        h = F.relu(ln(F.linear(h, ps[4], ps[5]), ps[6], ps[7]))
        return F.linear(h, ps[8], ps[9])

    x = rng.uniform(-2, 2, size=(B, D)).astype(np.float32)
    actions = rng.randint(0, A, size=B)
    targets = rng.uniform(-2, 2, size=B).astype(np.float32)
    write(os.path.join(here, "nn_pqn_mlp.bin"), run(shapes, bounds, mlp, x, actions, targets))

    B, Hh, W, C, Fn, K, A = 16, 10, 10, 4, 16, 128, 6
    flat = (Hh - 2) * (W - 2) * Fn
    shapes = [(Fn, 3, 3, C), (Fn,), (Fn,), (Fn,), (K, flat), (K,), (K,), (K,), (A, K), (A,)]
    bounds = [0.3, 0.3, 1.5, 0.5, 0.03, 0.03, 1.5, 0.5, 0.1, 0.1]

    def minatar(ps, x):
        xc = x.permute(0, 3, 1, 2)
        wc = ps[0].permute(0, 3, 1, 2)
        h = F.conv2d(xc, wc, ps[1], stride=1, padding=0).permute(0, 2, 3, 1)  # (B, Ho, Wo, F)
        h = F.relu(ln(h, ps[2], ps[3])).reshape(x.shape[0], -1)
        h = F.relu(ln(F.linear(h, ps[4], ps[5]), ps[6], ps[7]))
        return F.linear(h, ps[8], ps[9])

    x = (rng.uniform(0, 1, size=(B, Hh, W, C)) < 0.3).astype(np.float32)
    actions = rng.randint(0, A, size=B)
    targets = rng.uniform(-1, 1, size=B).astype(np.float32)
    write(os.path.join(here, "nn_pqn_minatar.bin"),
          run(shapes, bounds, minatar, x, actions, targets))

    tall = splitmix_values(tensor_seed(90), 12 * 5, 1.0).reshape(12, 5)
    wide = splitmix_values(tensor_seed(91), 5 * 12, 1.0).reshape(5, 12)
    write(os.path.join(here, "nn_orthogonal.bin"),
          [("a_tall", tall), ("q_tall", orthogonal(tall, 1.5)),
           ("a_wide", wide), ("q_wide", orthogonal(wide, 1.5))])
    print("wrote nn_pqn_mlp.bin, nn_pqn_minatar.bin, nn_orthogonal.bin; torch", torch.__version__,
          file=sys.stderr)


if __name__ == "__main__":
    main()
