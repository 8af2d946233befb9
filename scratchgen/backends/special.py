"""Array kernels of the special functions NumPy has no ufunc for: erf, lgamma, digamma and
polygamma (scratchgen/ops/special.py differentiates them). Plain array code in the array
module `xp`, so the same functions serve NumPy and CuPy arrays: each backend binds them to
its module (numpy.py, cuda.py), as it does the normalisation kernels.

A piecewise approximation evaluates every piece on the whole array, each with the input
clamped into its own interval, and `xp.where` picks the piece: no data-dependent shapes (a
GPU never waits for the host) and no overflow in the pieces not taken. float16 and float32
inputs are computed in float64 and rounded back.

- erf: the rational approximations of Sun's fdlibm (s_erf.c), within 1 ulp.
- lgamma: Lanczos's approximation (g = 607/128, 15 terms: Numerical Recipes, 3rd ed.,
  `gammln`), and below 1/2 the reflection formula with sin(pi x) reduced exactly.
- digamma: torch's algorithm (Cephes `psi`): reflection below 0, the recurrence
  psi(x) = psi(x + 1) - 1/x up to 10, then the asymptotic series; the reflection's
  tan(pi x) takes x's distance to the nearest integer, where torch takes its fraction
  (whose tan loses 5 digits at 1e-12 from a pole: -13 + 1e-12, say).
- polygamma(n): torch's algorithm: trigamma as digamma, and for n >= 2
  (-1)^(n+1) n! zeta(n + 1, x) with Cephes's Hurwitz zeta. At the poles (x = 0, -1, ...)
  each gives what torch gives, its formula's value included (trigamma(-1) ~ 6.6e32).
"""
import contextlib
import math

import numpy

# ---- erf: fdlibm's s_erf.c (Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
# Developed at SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and
# distribute this software is freely granted, provided that this notice is preserved.)
# Coefficients in increasing powers.
ERX = 8.45062911510467529297e-01  # erf(1) rounded to single precision
ERF_NEAR_0 = ((1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
               -5.77027029648944159157e-03, -2.37630166566501626084e-05),
              (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
               1.32494738004321644526e-04, -3.96022827877536812320e-06))  # erf(x) = x + x P/Q(x^2)
ERF_NEAR_1 = ((-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
               3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
               -2.16637559486879084300e-03),
              (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
               1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02))  # ERX + P/Q(|x|-1)
ERFC_MIDDLE = ((-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
                -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
                -8.12874355063065934246e+01, -9.81432934416914548592e+00),
               (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
                6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
                6.57024977031928170135e+00, -6.04244152148580987438e-02))  # |x| in [1.25, 1/0.35)
ERFC_FAR = ((-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
             -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
             -4.83519191608651397019e+02),
            (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
             3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
             -2.24409524465858183362e+01))  # |x| in [1/0.35, 6): erfc(x) = e^(-x^2 - 0.5625 + P/Q(1/x^2)) / x

# ---- lgamma: Lanczos, g = 607/128 (Numerical Recipes, 3rd ed., 6.1)
LANCZOS = (57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199,
           .339946499848118887e-4, .465236289270485756e-4, -.983744753048795646e-4, .158088703224912494e-3,
           -.210264441724104883e-3, .217439618115212643e-3, -.164318106536763890e-3, .844182239838527433e-4,
           -.261908384015814087e-4, .368991826595316234e-5)

# ---- digamma, polygamma: torch's (aten/src/ATen/native/Math.h, from Cephes)
PSI_10 = 2.25175258906672110764  # digamma(10)
PSI_SERIES = (8.33333333333333333333E-2, -8.33333333333333333333E-3, 3.96825396825396825397E-3,
              -4.16666666666666666667E-3, 7.57575757575757575758E-3, -2.10927960927960927961E-2,
              8.33333333333333333333E-2)  # in 1/x^2: B_2k / (2k)
ZETA_EULER_MACLAURIN = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                        7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                        -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
MACHEP = 1.11022302462515654042e-16
ZETA_MAX_TERMS = 10000  # terms summed one by one before Euler-Maclaurin (x < -1e4: nan)


def erf(x, xp):
    """The error function, 2/sqrt(pi) * integral of e^(-t^2) from 0 to x."""
    return _in_float64(_erf, x, xp)


def lgamma(x, xp):
    """log |Gamma(x)|: inf at 0 and the negative integers (and at -inf, as torch)."""
    return _in_float64(_lgamma, x, xp)


def digamma(x, xp):
    """psi(x) = d/dx lgamma(x): -inf at +0, +inf at -0, nan at the negative integers (torch's)."""
    return _in_float64(_digamma, x, xp)


def polygamma(n, x, xp):
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if n == 0:
        return digamma(x, xp)
    return _in_float64(_trigamma if n == 1 else lambda x, xp: _polygamma(n, x, xp), x, xp)


def _in_float64(kernel, x, xp):
    with _quiet(xp):
        return kernel(x.astype(numpy.float64, copy=False), xp).astype(x.dtype, copy=False)


def _quiet(xp):
    """No warnings for the overflow in the pieces that `where` drops (NumPy warns, CuPy not)."""
    errstate = getattr(xp, "errstate", None)
    return errstate(all="ignore") if errstate is not None else contextlib.nullcontext()


def _polynomial(coefficients, z):
    """c[0] + c[1] z + c[2] z^2 + ..., by Horner's rule."""
    result = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        result = result * z + c
    return result


def _ratio(pair, z):
    return _polynomial(pair[0], z) / _polynomial(pair[1], z)


def _erf(x, xp):
    a = xp.abs(x)
    near0 = xp.clip(x, -0.84375, 0.84375)
    near0 = near0 + near0 * _ratio(ERF_NEAR_0, near0 * near0)
    near1 = ERX + _ratio(ERF_NEAR_1, xp.clip(a, 0.84375, 1.25) - 1.0)
    b = xp.clip(a, 1.25, 6.0)
    s = 1.0 / (b * b)
    exponent = xp.where(b < 1 / 0.35, _ratio(ERFC_MIDDLE, s), _ratio(ERFC_FAR, s))
    z = _high_half(b, xp)  # e^(-b^2) as e^(-z^2) e^((z - b)(z + b)): z^2 is exact, so no error grows with b^2
    tail = 1.0 - xp.exp(-z * z - 0.5625) * xp.exp((z - b) * (z + b) + exponent) / b
    far = xp.where(a >= 6.0, 1.0, xp.where(a >= 1.25, tail, near1))  # nan goes to near1, and stays nan
    return xp.where(a < 0.84375, near0, xp.copysign(far, x))


def _high_half(x, xp):
    """x with the low 32 bits of its float64 mantissa cleared (fdlibm's SET_LOW_WORD(z, 0))."""
    return (x.view(xp.uint64) & xp.uint64(0xFFFFFFFF00000000)).view(xp.float64)


def _lgamma_from_half(x, xp):
    """lgamma for x >= 1/2 (Lanczos)."""
    shifted = x + 5.24218750000000000  # g + 1/2 = 671/128
    series = 0.999999999999997092
    for k, c in enumerate(LANCZOS, start=1):
        series = series + c / (x + k)
    return (x + 0.5) * xp.log(shifted) - shifted + xp.log(2.5066282746310005 * series / x)


def _lgamma(x, xp):
    direct = _lgamma_from_half(xp.maximum(x, 0.5), xp)  # maximum keeps nan
    reflected = (math.log(math.pi) - xp.log(xp.abs(_sin_pi(x, xp)))
                 - _lgamma_from_half(xp.maximum(1.0 - x, 0.5), xp))  # Gamma(x) Gamma(1 - x) = pi / sin(pi x)
    result = xp.where(x < 0.5, reflected, direct)
    pole = (x <= 0) & (x == xp.floor(x))
    return xp.where(pole | (x == math.inf), math.inf, result)


def _sin_pi(x, xp):
    """sin(pi x), with x reduced to [-1/2, 1/2] exactly first: accurate next to every integer,
    where sin(pi * x) loses the digits that pi * x rounds away."""
    r = x - 2.0 * xp.rint(0.5 * x)  # in [-1, 1]
    r = xp.where(xp.abs(r) > 0.5, xp.copysign(1.0, r) - r, r)  # sin(pi r) = sin(pi (+-1 - r))
    return xp.sin(math.pi * r)


def _digamma(x, xp):
    reflect = x < 0
    y = xp.where(reflect, 1.0 - x, x)
    result = xp.zeros_like(y)
    for _ in range(10):  # psi(y) = psi(y + 1) - 1/y until y >= 10 (y >= 0 here)
        below = y < 10
        result = xp.where(below, result - 1.0 / y, result)
        y = xp.where(below, y + 1.0, y)
    z = 1.0 / (y * y)
    series = xp.where(y < 1e17, z * _polynomial(PSI_SERIES, z), 0.0)
    result = xp.where(y == 10.0, result + PSI_10, result + xp.log(y) - 0.5 / y - series)
    fraction = x - xp.rint(x)  # in [-1/2, 1/2], exactly: tan(pi r) keeps its digits next to the poles
    # psi(1 - x) - psi(x) = pi cot(pi x)
    result = xp.where(reflect, result - math.pi / xp.tan(math.pi * fraction), result)
    result = xp.where(reflect & (x == xp.trunc(x)), math.nan, result)
    return xp.where(x == 0, xp.copysign(math.inf, -x), result)


def _trigamma(x, xp):
    reflect = x < 0.5
    sin_pi_x = xp.sin(math.pi * x)  # as torch: not reduced, so its poles are large finite numbers
    result = xp.where(reflect, -(math.pi * math.pi) / (sin_pi_x * sin_pi_x), 0.0)
    y = xp.where(reflect, 1.0 - x, x)
    for _ in range(6):
        result = result + 1.0 / (y * y)
        y = y + 1.0
    z = 1.0 / (y * y)
    result = result + (1.0 + 1.0 / (2.0 * y) + z * (1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42)))) / y
    return xp.where(reflect, -result, result)


def _polygamma(n, x, xp):
    return (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0)) * _hurwitz_zeta(n + 1.0, x, xp)


def _hurwitz_zeta(s, q, xp):
    """zeta(s, q) = sum over k >= 0 of (q + k)^-s, for a number s > 1: the terms one by one
    until they are below the rounding of the sum (at least 9 of them, and up to q + k > 9),
    then the Euler-Maclaurin formula for the rest (Cephes `zeta`, as torch)."""
    total, b, a = q ** -s, xp.zeros_like(q), q
    result = xp.full_like(q, math.nan)
    done = xp.zeros(q.shape, dtype=bool)
    for i in range(ZETA_MAX_TERMS):
        summing = ~done & ((a <= 9.0) if i >= 9 else True)
        if i >= 9 and not bool(summing.any()):
            break
        a = xp.where(summing, a + 1.0, a)
        b = xp.where(summing, a ** -s, b)
        total = xp.where(summing, total + b, total)
        small = summing & (-MACHEP * total < b) & (b < MACHEP * total)
        result = xp.where(small, total, result)
        done = done | small
    done = done | (a <= 9.0)  # still summing after ZETA_MAX_TERMS terms: left nan
    w = a
    total = total + b * w / (s - 1.0) - 0.5 * b
    factor, k = 1.0, 0.0
    for coefficient in ZETA_EULER_MACLAURIN:
        factor *= s + k
        b = b / w
        term = factor * b / coefficient
        total = total + term
        small = ~done & (xp.abs(term / total) < MACHEP)
        result = xp.where(small, total, result)
        done = done | small
        k += 1.0
        factor *= s + k
        b = b / w
        k += 1.0
    result = xp.where(done, result, total)
    return xp.where((q <= 0) & (q == xp.floor(q)), math.inf, result)
