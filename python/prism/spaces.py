"""Gymnasium's spaces when gymnasium is importable; otherwise small look-alikes with the parts
of their interface that code usually touches: shape, dtype, n / nvec, low, high, sample(),
contains() (also as ``in``), seed()."""

import numpy as np

try:  # pragma: no cover - gymnasium is optional
    from gymnasium.spaces import Box, Discrete, MultiDiscrete  # noqa: F401

    HAVE_GYMNASIUM = True
except ImportError:
    HAVE_GYMNASIUM = False

    class Space:
        def __init__(self, shape, dtype, seed=None):
            self.shape = tuple(shape)
            self.dtype = np.dtype(dtype)
            self.np_random = np.random.default_rng(seed)

        def seed(self, seed=None):
            self.np_random = np.random.default_rng(seed)
            return [seed]

        def __contains__(self, x):
            return self.contains(x)

    class Box(Space):
        """A box [low, high] of the given shape and dtype."""

        def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
            dtype = np.dtype(dtype)
            if shape is None:
                shape = np.shape(low)
            super().__init__(shape, dtype, seed)
            self.low = np.broadcast_to(np.asarray(low, dtype=dtype), self.shape).copy()
            self.high = np.broadcast_to(np.asarray(high, dtype=dtype), self.shape).copy()

        def contains(self, x):
            x = np.asarray(x)
            if x.shape != self.shape or not np.can_cast(x.dtype, self.dtype):
                return False
            return bool(np.all(x >= self.low) and np.all(x <= self.high))

        def sample(self):
            if self.dtype == np.bool_:
                return self.np_random.integers(0, 2, size=self.shape).astype(np.bool_)
            # unbounded sides draw from a normal, as Gymnasium does
            lo, hi = self.low.astype(np.float64), self.high.astype(np.float64)
            out = self.np_random.normal(size=self.shape)
            both = np.isfinite(lo) & np.isfinite(hi)
            out[both] = self.np_random.uniform(lo[both], hi[both])
            only_lo = np.isfinite(lo) & ~np.isfinite(hi)
            out[only_lo] = lo[only_lo] + self.np_random.exponential(size=only_lo.sum())
            only_hi = ~np.isfinite(lo) & np.isfinite(hi)
            out[only_hi] = hi[only_hi] - self.np_random.exponential(size=only_hi.sum())
            return np.clip(out, lo, hi).astype(self.dtype)

        def __repr__(self):
            return f"Box({self.low.min()}, {self.high.max()}, {self.shape}, {self.dtype})"

        def __eq__(self, other):
            return (isinstance(other, Box) and self.shape == other.shape
                    and self.dtype == other.dtype and np.array_equal(self.low, other.low)
                    and np.array_equal(self.high, other.high))

    class Discrete(Space):
        """The integers 0 .. n-1."""

        def __init__(self, n, seed=None, start=0):
            super().__init__((), np.int64, seed)
            self.n = int(n)
            self.start = int(start)

        def contains(self, x):
            if isinstance(x, (bool, np.bool_)):
                return False
            if isinstance(x, (int, np.integer)) or (
                isinstance(x, np.ndarray) and x.shape == () and x.dtype.kind in "iu"
            ):
                return self.start <= int(x) < self.start + self.n
            return False

        def sample(self):
            return np.int64(self.start + self.np_random.integers(self.n))

        def __repr__(self):
            return f"Discrete({self.n})"

        def __eq__(self, other):
            return isinstance(other, Discrete) and self.n == other.n and self.start == other.start

    class MultiDiscrete(Space):
        """One Discrete(nvec[i]) per element (the action space of a vector environment)."""

        def __init__(self, nvec, dtype=np.int64, seed=None):
            self.nvec = np.asarray(nvec, dtype=dtype)
            super().__init__(self.nvec.shape, dtype, seed)

        def contains(self, x):
            x = np.asarray(x)
            return (x.shape == self.shape and x.dtype.kind in "iu"
                    and bool(np.all((x >= 0) & (x < self.nvec))))

        def sample(self):
            return self.np_random.integers(self.nvec).astype(self.dtype)

        def __repr__(self):
            return f"MultiDiscrete({self.nvec})"
