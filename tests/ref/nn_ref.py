#!/usr/bin/python3
"""Generate the PyTorch reference fixtures for prism's nn engine (tests/test_nn_ref.c).

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 tests/ref/nn_ref.py
Writes tests/ref/nn_mlp.bin and tests/ref/nn_minatar.bin.

Each network is built in prism's own parameter layout (dense W (out, in); conv W (F, 3, 3, C),
images (B, H, W, C), flatten in (H, W, F) order) and mapped onto torch modules with permutes, so
the fixture's arrays are directly comparable to prism's parameter block. Initial parameters are
not stored: both sides compute them from an integer hash (splitmix64), exactly, in float32.

File format (little-endian): magic b"PRNNREF\\0", u32 version (1), u32 record count, then per
record: a 32-byte NUL-padded name, u32 n, n float32 values.

Records: bounds (one per parameter tensor: the init range), x, actions, targets, weights,
out (forward outputs), loss (one value), grad (all gradients, prism order), adam10 and
rmsprop10 (all parameters after 10 steps on the same batch).
"""
import struct
import sys
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
MASK = (1 << 64) - 1


def splitmix_values(seed, n, bound):
    """n float32 values in (-bound, bound): v_i = float32(2k+1-2^24) * float32(bound * 2^-24)
    with k the top 24 bits of splitmix64(seed + (i+1) * golden). Exactly reproducible in C."""
    out = np.empty(n, dtype=np.float32)
    c = np.float32(np.float32(bound) * np.float32(2.0 ** -24))
    for i in range(n):
        z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z = z ^ (z >> 31)
        k = z >> 40
        out[i] = np.float32(2 * k + 1 - (1 << 24)) * c
    return out


def tensor_seed(t):
    return t * 1000003 + 17


def write(path, records):
    with open(path, "wb") as f:
        f.write(b"PRNNREF\0")
        f.write(struct.pack("<II", 1, len(records)))
        for name, arr in records:
            a = np.ascontiguousarray(np.asarray(arr, dtype=np.float32).ravel())
            f.write(name.encode().ljust(32, b"\0"))
            f.write(struct.pack("<I", a.size))
            f.write(a.astype("<f4").tobytes())


def run(kind, shapes, bounds, forward, to_prism_grads, x, actions, targets, weights, opt_steps):
    """shapes: prism-order tensor shapes; forward(params list, x) -> (B, A) outputs."""
    def fresh():
        return [torch.tensor(splitmix_values(tensor_seed(t), int(np.prod(s)), bounds[t]).reshape(s),
                             requires_grad=True) for t, s in enumerate(shapes)]

    xt = torch.tensor(x)
    at = torch.tensor(actions.astype(np.int64))
    tt = torch.tensor(targets)
    wt = torch.tensor(weights)

    def loss_fn(ps):
        q = forward(ps, xt)
        qa = q.gather(1, at[:, None])[:, 0]
        per = F.smooth_l1_loss(qa, tt, reduction="none", beta=1.0)  # Huber, delta 1
        return q, (wt * per).mean()

    ps = fresh()
    q, loss = loss_fn(ps)
    loss.backward()
    recs = [("bounds", np.array(bounds, dtype=np.float32)), ("x", x),
            ("actions", actions.astype(np.float32)), ("targets", targets), ("weights", weights),
            ("out", q.detach().numpy()), ("loss", np.array([loss.item()], dtype=np.float32)),
            ("grad", np.concatenate([to_prism_grads(t, p.grad).ravel() for t, p in enumerate(ps)]))]
    for name, make in opt_steps:
        ps = fresh()
        opt = make(ps)
        for _ in range(10):
            opt.zero_grad()
            _, loss = loss_fn(ps)
            loss.backward()
            opt.step()
        recs.append((name, np.concatenate([p.detach().numpy().ravel() for p in ps])))
    return recs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = np.random.RandomState(20260521)
    opt_steps = [
        ("adam10", lambda ps: torch.optim.Adam(ps, lr=1e-3, eps=3.125e-4)),
        ("rmsprop10", lambda ps: torch.optim.RMSprop(ps, lr=1e-4, alpha=0.95, eps=1e-5,
                                                     centered=True, momentum=0.5)),
    ]

    # 4-512-512-2 MLP, batch 128.
    B, D, K, A = 128, 4, 512, 2
    shapes = [(K, D), (K,), (K, K), (K,), (A, K), (A,)]
    bounds = [1 / np.sqrt(D)] * 2 + [1 / np.sqrt(K)] * 4
    bounds = [float(np.float32(b)) for b in bounds]

    def mlp(ps, x):
        h = F.relu(F.linear(x, ps[0], ps[1]))
        h = F.relu(F.linear(h, ps[2], ps[3]))
        return F.linear(h, ps[4], ps[5])

    x = rng.uniform(-1, 1, size=(B, D)).astype(np.float32)
    actions = rng.randint(0, A, size=B)
    targets = rng.uniform(-2, 2, size=B).astype(np.float32)
    weights = rng.uniform(0.1, 1, size=B).astype(np.float32)
    recs = run("mlp", shapes, bounds, mlp, lambda t, g: g.numpy(), x, actions, targets, weights,
               opt_steps)
    write(os.path.join(here, "nn_mlp.bin"), recs)

    # MinAtar: 10x10x4 input, conv 16 3x3 SAME + ReLU, flatten, linear head (6 actions), batch 32.
    B, H, W, C, Fn, A = 32, 10, 10, 4, 16, 6
    shapes = [(Fn, 3, 3, C), (Fn,), (A, H * W * Fn), (A,)]
    bounds = [float(np.float32(1 / np.sqrt(9 * C)))] * 2 + [float(np.float32(1 / np.sqrt(H * W * Fn)))] * 2

    def minatar(ps, x):
        xc = x.permute(0, 3, 1, 2)                                  # (B, C, H, W)
        wc = ps[0].permute(0, 3, 1, 2)                              # (F, C, 3, 3)
        h = F.relu(F.conv2d(xc, wc, ps[1], stride=1, padding=1))    # (B, F, H, W)
        h = h.permute(0, 2, 3, 1).reshape(x.shape[0], -1)           # (B, H*W*F) in (H, W, F)
        return F.linear(h, ps[2], ps[3])

    # MinAtar observations are binary
    x = (rng.uniform(0, 1, size=(B, H, W, C)) < 0.3).astype(np.float32)
    actions = rng.randint(0, A, size=B)
    targets = rng.uniform(-1, 1, size=B).astype(np.float32)
    weights = rng.uniform(0.1, 1, size=B).astype(np.float32)
    recs = run("minatar", shapes, bounds, minatar, lambda t, g: g.numpy(), x, actions, targets,
               weights, opt_steps)
    write(os.path.join(here, "nn_minatar.bin"), recs)
    print("wrote nn_mlp.bin and nn_minatar.bin; torch", torch.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
