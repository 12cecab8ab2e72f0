#!/usr/bin/env python3
"""Derives every polynomial coefficient used by VectorMath (src/KernelGen/Math/VectorMath.*.cs).

Usage:  python3 fit_coefficients.py [section ...]      (sections: constants expm1 log1p tanh erf erfc; default all)
Needs:  mpmath (pip install mpmath). Takes a few minutes; output is deterministic.

Method: a weighted Remez exchange in 50-digit arithmetic finds p minimizing max |W(t)·(p(t) − g(t))| on [a, b], where
g is the function the polynomial stands for and W converts the polynomial's error into the relative error it causes
in the final result. The coefficients are then rounded to float (printed G9 with an f suffix) or double (G17), and the
weighted error is re-measured with the rounded coefficients on a fine grid: that is the figure quoted in the C# remarks.
Polynomials are printed highest degree first, in the order the C# Horner chains consume them.

Written for KernelGen; no code or coefficients were taken from other libraries. License: the project's license.
"""
import struct
import sys

from mpmath import mp, mpf, matrix, lu_solve, cos, pi, sqrt, exp, expm1, log, atanh, tanh, erf, erfc, nint

mp.dps = 50


def remez(g, w, a, b, degree, iterations=40, grid=2000):
    """Weighted minimax polynomial of the given degree for g on [a, b]; returns (coefficients low→high, max error)."""
    a, b = mpf(a), mpf(b)
    n = degree + 1
    m = n + 1
    # Start from Chebyshev nodes of the first kind (interior points: some weights vanish at an endpoint).
    nodes = [(a + b) / 2 - (b - a) / 2 * cos(pi * (j + mpf(1) / 2) / m) for j in range(m)]
    points = [(a + b) / 2 - (b - a) / 2 * cos(pi * j / (grid - 1)) for j in range(grid)]
    gv = [g(t) for t in points]
    wv = [w(t) for t in points]
    coefficients, worst = None, None
    for _ in range(iterations):
        system, rhs = matrix(m, m), matrix(m, 1)
        for j, t in enumerate(nodes):
            for i in range(n):
                system[j, i] = t ** i
            system[j, n] = (-1) ** j / w(t)
            rhs[j] = g(t)
        solution = lu_solve(system, rhs)
        coefficients = [solution[i] for i in range(n)]
        level = abs(solution[n])
        errors = [wv[k] * (evaluate(coefficients, points[k]) - gv[k]) for k in range(grid)]
        worst = max(abs(e) for e in errors)
        # Endpoints and interior local extrema of the error curve, then the largest of each run of equal sign,
        # trimmed to m alternating points.
        extrema = [k for k in range(grid)
                   if k == 0 or k == grid - 1
                   or (abs(errors[k]) >= abs(errors[k - 1]) and abs(errors[k]) >= abs(errors[k + 1]))]
        alternating = []
        for k in extrema:
            if alternating and (errors[alternating[-1]] > 0) == (errors[k] > 0):
                if abs(errors[k]) > abs(errors[alternating[-1]]):
                    alternating[-1] = k
            else:
                alternating.append(k)
        while len(alternating) > m:
            if abs(errors[alternating[0]]) < abs(errors[alternating[-1]]):
                alternating.pop(0)
            else:
                alternating.pop()
        if len(alternating) < m or worst <= level * (1 + mpf(10) ** -6):
            break
        nodes = [points[k] for k in alternating]
    return coefficients, worst


def evaluate(coefficients, t):
    result = mpf(0)
    for c in reversed(coefficients):
        result = result * t + c
    return result


def to_single(v):
    return struct.unpack('f', struct.pack('f', float(v)))[0]


def rounded_error(g, w, a, b, coefficients, points=4000):
    a, b = mpf(a), mpf(b)
    return max(abs(w(t) * (evaluate(coefficients, t) - g(t)))
               for t in (a + (b - a) * j / points for j in range(points + 1)))


def fit(name, g, w, a, b, degree, single):
    coefficients, worst = remez(g, w, a, b, degree)
    rounded = [mpf(to_single(c)) if single else mpf(float(c)) for c in coefficients]
    after = rounded_error(g, w, a, b, rounded)
    kind = 'float' if single else 'double'
    print(f'{name} [{a}, {b}] degree {degree} {kind}: minimax error {mp.nstr(worst, 3)}, '
          f'after rounding {mp.nstr(after, 3)}')
    text = ['%.9gf' % float(c) if single else '%.17g' % float(c) for c in rounded]
    print('    ' + ', '.join(reversed(text)))
    sys.stdout.flush()


def tiny():
    return mpf(10) ** -40


def constants():
    ln2 = log(2)
    for bits, single in ((16, True), (42, False)):
        hi = nint(ln2 * 2 ** bits) / mpf(2) ** bits
        lo = ln2 - hi
        fmt = (lambda v: '%.9gf' % to_single(v)) if single else (lambda v: '%.17g' % float(v))
        print(f'ln2 split to {bits} bits: hi = {fmt(hi)}, lo = {fmt(lo)}')
    print('log2(e) = %.17g, ln 2 = %.17g, ln 1.5 = %.17g' % (float(1 / ln2), float(ln2), float(log(mpf(3) / 2))))
    for e in (64, 512):
        print('2^%d = %.17g, 2^-%d = %.17g' % (e, float(mpf(2) ** e), e, float(mpf(2) ** -e)))


def section_expm1():
    # e^r − 1 = r + r²·h(r); the error of h reaches e^r − 1 multiplied by r²/(e^r − 1).
    g = lambda r: mpf(1) / 2 if r == 0 else (expm1(r) - r) / r ** 2
    w = lambda r: tiny() if r == 0 else r ** 2 / expm1(r)
    fit('expm1 h(r)', g, w, -0.35, 0.41, 5, True)
    fit('expm1 h(r)', g, w, -0.35, 0.41, 10, False)


def section_log1p():
    # log(1 + f) = 2·atanh(s) = 2s + s·z·P(z), z = s²; the error of P reaches the result as s·z/(2·atanh(s)).
    def g(z):
        if z == 0:
            return mpf(2) / 3
        s = sqrt(z)
        return 2 * (atanh(s) / s - 1) / z

    def w(z):
        if z == 0:
            return tiny()
        s = sqrt(z)
        return s * z / (2 * atanh(s))

    fit('log1p P(z)', g, w, 0, 0.0315, 3, True)
    fit('log1p P(z)', g, w, 0, 0.0315, 7, False)


def section_tanh():
    # tanh(a) = a + a³·P(a²); the error of P reaches tanh as a³/tanh(a).
    def g(y):
        if y == 0:
            return -mpf(1) / 3
        a = sqrt(y)
        return (tanh(a) - a) / a ** 3

    def w(y):
        if y == 0:
            return tiny()
        a = sqrt(y)
        return a ** 3 / tanh(a)

    limit = mpf('0.75') ** 2
    fit('tanh P(y)', g, w, 0, limit, 6, True)
    fit('tanh P(y)', g, w, 0, limit, 12, False)


def section_erf():
    # erf(a) = a + a·Q(a²); the error of Q reaches erf as a/erf(a).
    def g(y):
        if y == 0:
            return 2 / sqrt(pi) - 1
        a = sqrt(y)
        return erf(a) / a - 1

    def w(y):
        if y == 0:
            return sqrt(pi) / 2
        a = sqrt(y)
        return a / erf(a)

    limit = mpf('0.9') ** 2
    fit('erf Q(y)', g, w, 0, limit, 6, True)
    fit('erf Q(y)', g, w, 0, limit, 11, False)


def section_erfc():
    # erfc(a) = e^(−a²)·F(a), F a polynomial in t = a − a0; the error of F reaches erf as e^(−a²)/erf(a).
    def piece(a0, a1, degree, single):
        a0, a1 = mpf(a0), mpf(a1)
        g = lambda t: erfc(t + a0) * exp((t + a0) ** 2)
        w = lambda t: exp(-(t + a0) ** 2) / erf(t + a0)
        fit(f'erfc F(a - {a0})', g, w, 0, a1 - a0, degree, single)

    piece('0.9', '4', 8, True)
    piece('0.9', '1.6', 12, False)
    piece('1.6', '2.8', 12, False)
    piece('2.8', '6', 12, False)


SECTIONS = {'constants': constants, 'expm1': section_expm1, 'log1p': section_log1p, 'tanh': section_tanh,
            'erf': section_erf, 'erfc': section_erfc}

if __name__ == '__main__':
    for section in sys.argv[1:] or list(SECTIONS):
        SECTIONS[section]()
