"""``scipy.stats.kstwo.sf`` without importing ``scipy.stats`` (~0.4 s of every CLI run).

The two-sided KS p-value of a large sample is ``kstwo.sf(D, n)``, which scipy computes in
pure Python (``scipy/stats/_ksstats.py``, ``_kolmogn``, Simard & L'Ecuyer 2011) on top of
``scipy.special``. Importing that module imports all of ``scipy.stats``; this is a copy of the
branches a drift check reaches for ``n > 140`` (same operations on the same numpy types, so the
result is bit-identical; ``tests/unit/drift/test_kolmogorov.py`` checks a dense grid against
scipy). The other branches (``n <= 140`` and the rare Durbin-matrix one) are delegated to
scipy itself, imported on first use.

scipy is BSD-3-Clause licensed (Copyright (c) 2001-2002 Enthought, Inc. 2003, SciPy
Developers); the code below follows scipy 1.17's ``_ksstats.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.drift.special import special

_SQRT2PI = np.sqrt(2 * np.pi)
_LOG_2PI = np.log(2 * np.pi)
_MIN_LOG = -708
_SQRT3 = np.sqrt(3)
_PI_SQUARED = np.pi ** 2
_PI_FOUR = np.pi ** 4
_PI_SIX = np.pi ** 6
_STIRLING_COEFFS = [-2.955065359477124183e-2, 6.4102564102564102564e-3,
                    -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                    -5.952380952380952381e-4, 7.9365079365079365079e-4,
                    -2.7777777777777777778e-3, 8.3333333333333333333e-2]


def kstwo_sf(d: float, n: float) -> float:
    """``float(scipy.stats.kstwo.sf(d, n))`` for an integral ``n >= 1``."""
    if not (n >= 1 and n == round(n)) or d != d:
        return _scipy_sf(d, n)
    if d <= 0.5 / n:  # at or below the support: rv_continuous.sf returns 1
        return 1.0
    if d >= 1.0:
        return 0.0
    out = _sf(int(n), np.asarray(d, dtype=np.float64))
    return _scipy_sf(d, n) if out is None else float(out)


def _scipy_sf(d: float, n: float) -> float:
    import scipy.stats  # rare branches only: keeps ~0.4 s off the CLI

    return float(scipy.stats.kstwo.sf(d, n))


def _log_nfactorial_div_n_pow_n(n: int) -> Any:
    rn = 1.0 / n
    return np.log(n) / 2 - n + _LOG_2PI / 2 + rn * np.polyval(_STIRLING_COEFFS, rn / n)


def _clip(p: Any) -> Any:
    return np.clip(p, 0.0, 1.0)


def _sf(n: int, x: Any) -> Any:
    """``_kolmogn(n, x, cdf=False)`` for ``1/(2n) < x < 1``; None where scipy must decide."""
    t = n * x
    if t <= 1.0:  # Ruben-Gambino: 1/2n <= x <= 1/n
        if t <= 0.5:
            return _clip(1.0)
        if n <= 140:
            return None
        prob = np.exp(_log_nfactorial_div_n_pow_n(n) + n * np.log(2 * t - 1))
        return _clip(1.0 - prob)
    if t >= n - 1:  # Ruben-Gambino
        prob = 2 * (1.0 - x) ** n
        return _clip(prob)
    if x >= 0.5:  # Exact: 2 * smirnov
        prob = 2 * special().smirnov(n, x)
        return _clip(prob)
    nxsquared = t * x
    if n <= 140:
        return None
    if nxsquared >= 370.0:
        return 0.0
    if nxsquared >= 2.2:
        prob = 2 * special().smirnov(n, x)
        return _clip(prob)
    if n <= 100000 and n * x ** 1.5 <= 1.4:
        return None  # Durbin's matrix method (_kolmogn_DMTW): scipy's own code
    return _clip(1.0 - _pelz_good(n, x))


def _pelz_good(n: int, x: Any) -> Any:
    """The Pelz-Good approximation of ``P(D_n <= x)`` (scipy's ``_kolmogn_PelzGood``)."""
    z = np.sqrt(n) * x
    zsquared, zthree, zfour, zsix = z**2, z**3, z**4, z**6

    qlog = -_PI_SQUARED / 8 / zsquared
    if qlog < _MIN_LOG:  # z ~ 0.041743441416853426
        return 0.0

    q = np.exp(qlog)

    # Coefficients of terms in the sums for K1, K2 and K3
    k1a = -zsquared
    k1b = _PI_SQUARED / 4

    k2a = 6 * zsix + 2 * zfour
    k2b = (2 * zfour - 5 * zsquared) * _PI_SQUARED / 4
    k2c = _PI_FOUR * (1 - 2 * zsquared) / 16

    k3d = _PI_SIX * (5 - 30 * zsquared) / 64
    k3c = _PI_FOUR * (-60 * zsquared + 212 * zfour) / 16
    k3b = _PI_SQUARED * (135 * zfour - 96 * zsix) / 4
    k3a = -30 * zsix - 90 * z**8

    k0to3 = np.zeros(4)
    # Use a Horner scheme to evaluate sum c_i q^(i^2)
    # Reduces to a sum over odd integers.
    maxk = int(np.ceil(16 * z / np.pi))
    for k in range(maxk, 0, -1):
        m = 2 * k - 1
        msquared, mfour, msix = m**2, m**4, m**6
        qpower = np.power(q, 8 * k)
        coeffs = np.array([1.0,
                           k1a + k1b * msquared,
                           k2a + k2b * msquared + k2c * mfour,
                           k3a + k3b * msquared + k3c * mfour + k3d * msix])
        k0to3 *= qpower
        k0to3 += coeffs
    k0to3 *= q
    k0to3 *= _SQRT2PI
    # z**10 > 0 as z > 0.04
    k0to3 /= np.array([z, 6 * zfour, 72 * z**7, 6480 * z**10])

    # Now do the other sum over the other terms, all integers k
    # K_2:  (pi^2 k^2) q^(k^2),
    # K_3:  (3pi^2 k^2 z^2 - pi^4 k^4)*q^(k^2)
    # Don't expect much subtractive cancellation so use direct calculation
    q = np.exp(-_PI_SQUARED / 2 / zsquared)
    ks = np.arange(maxk, 0, -1)
    ksquared = ks ** 2
    sqrt3z = _SQRT3 * z
    kspi = np.pi * ks
    qpwers = q ** ksquared
    k2extra = np.sum(ksquared * qpwers)
    k2extra *= _PI_SQUARED * _SQRT2PI / (-36 * zthree)
    k0to3[2] += k2extra
    k3extra = np.sum((sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwers)
    k3extra *= _PI_SQUARED * _SQRT2PI / (216 * zsix)
    k0to3[3] += k3extra
    powers_of_n = np.power(n * 1.0, np.arange(len(k0to3)) / 2.0)
    k0to3 /= powers_of_n
    return sum(k0to3)
