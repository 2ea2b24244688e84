"""Drift methods: how far a current sample of a column is from its reference.

One module per method, each defining one :class:`DriftMethod`, registered by name in
:data:`METHODS`:

========================  ==========================  ==============  ============
name                      kinds                       representation  effect floor
========================  ==========================  ==============  ============
``ks_binned``             numeric (bins)              counts          0.02
``ks``                    numeric                     cdf             0.02
``wasserstein``           numeric                     cdf             0.05 sd
``chi2``                  numeric (bins), categorical counts          0.05 (w)
``psi``                   numeric (bins), categorical counts          0.005
``jensen_shannon``        numeric (bins), categorical counts          0.02
``hellinger``             numeric (bins), categorical counts          0.02
``l1``                    numeric (bins), categorical counts          0.04
``linf``                  numeric (bins), categorical counts          0.005
========================  ==========================  ==============  ============

(categorical includes boolean; text and datetime are compared on numbers derived from
them.) Each method computes its statistic from raw arrays (``exact``, checked against
SciPy) and from profiles (``from_counts`` on aligned counts, or ``from_cdfs`` on CDFs on
a shared grid), and has a vectorised kernel for the natural-spread resampler; the
single-pair paths call that kernel, so all agree. Every floor is roughly the effect of a
0.05-sd shift of a normal feature (on 20 quantile bins for binned methods): a 0.1-sd
shift is above every floor and a 0.01-sd shift below. :func:`default_method` picks a
method by column kind: ``ks_binned`` for numbers, ``chi2`` for categories.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> ref, cur = rng.normal(size=2_000), rng.normal(0.2, 1, 2_000)  # a 0.2-sd shift
>>> for name, m in sorted(METHODS.items()):
...     print(f"{name:15} {m.exact(ref, cur).effect:.3f}  floor {m.effect_floor}")
chi2            0.239  floor 0.05
hellinger       0.086  floor 0.02
jensen_shannon  0.102  floor 0.02
ks              0.093  floor 0.02
ks_binned       0.086  floor 0.02
l1              0.197  floor 0.04
linf            0.025  floor 0.005
psi             0.057  floor 0.005
wasserstein     0.205  floor 0.05
"""

from __future__ import annotations

from watchkeeper.stats.drift._base import CdfPair, DriftMethod, MethodResult
from watchkeeper.stats.drift._registry import METHODS, default_method, get_method

__all__ = ["METHODS", "CdfPair", "DriftMethod", "MethodResult", "default_method", "get_method"]
