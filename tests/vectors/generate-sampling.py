#!/usr/bin/env python3
"""Writes tests/vectors/sampling.json: checkpoint-sampling vectors computed independently of src/core/sampling.ts.

Detection probabilities come from exact rational arithmetic (math.comb and fractions.Fraction), not from the
product-in-log-space form the TypeScript uses; Keccak-256 is a plain Python implementation of Keccak-f[1600]
(Python's hashlib.sha3_256 is FIPS 202 SHA-3, whose padding differs from Ethereum's Keccak-256). Run once with
`python3 tests/vectors/generate-sampling.py`; the spec only reads the JSON.
"""
import hashlib
import json
import math
import os
from fractions import Fraction

# ---- Keccak-256 (Ethereum's: multi-rate padding 0x01 .. 0x80, rate 136 bytes) ----
ROUND_CONSTANTS = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
ROTATIONS = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
MASK = (1 << 64) - 1


def rol(x, n):
    return ((x << n) | (x >> (64 - n))) & MASK if n else x


def keccak_f(a):
    for rc in ROUND_CONSTANTS:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = rol(a[x][y], ROTATIONS[x][y])
        a = [[b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        a[0][0] ^= rc
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    padded = bytearray(data) + b'\x01' + b'\x00' * ((-len(data) - 1) % rate)
    padded[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(padded), rate):
        block = padded[off:off + rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            a[x][y] ^= int.from_bytes(block[8 * i:8 * i + 8], 'little')
        a = keccak_f(a)
    out = b''.join(a[i % 5][i // 5].to_bytes(8, 'little') for i in range(4))
    return out


assert keccak256(b'').hex() == 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
assert keccak256(b'abc').hex() == '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'


def hx(b: bytes) -> str:
    return '0x' + b.hex()


# ---- sampling procedure, as specified in the JSDoc of sampleCheckpoints ----
def sample(n, k, seed: bytes):
    if k >= n:
        return list(range(n))
    a = {}  # sparse array: a.get(x, x)
    counter = 0
    for i in range(k):
        r = n - i
        while True:
            w = int.from_bytes(keccak256(seed + counter.to_bytes(32, 'big')), 'big')
            counter += 1
            if w < (1 << 256) - ((1 << 256) % r):
                break
        j = i + w % r
        a[i], a[j] = a.get(j, j), a.get(i, i)
    return sorted(a[i] for i in range(k))


def detection(n, m, k):
    k = min(k, n)
    return 1 - Fraction(math.comb(n - m, k), math.comb(n, k))


def smallest_k(n, m, confidence):
    c = Fraction(confidence)  # the exact value of the double
    for k in range(n + 1):
        p = detection(n, m, k)
        if p >= c:
            # Skip cases a last-bit rounding difference could flip.
            near = abs(p - c) < Fraction(1, 10**12) or (k > 0 and abs(detection(n, m, k - 1) - c) < Fraction(1, 10**12))
            return k, near
    raise AssertionError('unreachable')


def lower_bound(f, k):
    return 1 - (1 - Fraction(f)) ** k


def smallest_k_bound(f, confidence):
    c = Fraction(confidence)
    k = 0
    while lower_bound(f, k) < c:
        k += 1
    return k


seed_of = lambda label: hashlib.sha256(label.encode()).digest()

derive = []
for i in range(4):
    secret, block = seed_of(f'secret-{i}'), seed_of(f'block-{i}')
    derive.append({'clientSecret': hx(secret), 'blockHash': hx(block), 'seed': hx(keccak256(secret + block))})

samples = []
for n, k, label in [(1, 1, 'a'), (10, 3, 'b'), (10, 0, 'c'), (10, 9, 'd'), (10, 10, 'e'), (10, 12, 'f'), (100, 5, 'g'),
                    (100, 36, 'h'), (1000, 44, 'i'), (4294967296, 8, 'j'), (7, 6, 'k'), (2, 1, 'l')]:
    seed = seed_of('sample-' + label)
    samples.append({'n': n, 'k': k, 'seed': hx(seed), 'indices': sample(n, k, seed)})

probabilities = []
for n, m, k in [(100, 10, 36), (100, 10, 35), (100, 10, 44), (100, 1, 1), (100, 1, 50), (100, 1, 100), (10, 0, 5),
                (10, 10, 1), (10, 3, 0), (10, 3, 8), (10, 3, 20), (1000, 100, 44), (1000, 1, 10), (1000000, 1, 1),
                (1000000, 10, 3), (10000, 500, 100), (50, 25, 10), (200, 7, 150)]:
    probabilities.append({'n': n, 'm': m, 'k': k, 'probability': float(detection(n, m, k))})

confidences = []
for n, m, c in [(100, 10, 0.99), (100, 10, 0.95), (100, 10, 0.5), (100, 10, 0.999999), (100, 10, 1.0), (100, 10, 0.0),
                (100, 1, 0.555), (100, 100, 0.99), (1000, 100, 0.99), (1000, 10, 0.9), (10000, 1000, 0.999),
                (50, 5, 0.8), (20, 2, 1.0), (1, 1, 0.5)]:
    k, near = smallest_k(n, m, c)
    assert not near or c in (0.0, 1.0), (n, m, c)
    confidences.append({'n': n, 'm': m, 'confidence': c, 'k': k})

bounds = []
for f, k in [(0.1, 44), (0.1, 43), (0.1, 0), (0.1, 1), (0.5, 10), (0.01, 100), (1.0, 3), (0.0, 5), (0.001, 1000),
             (0.25, 7)]:
    bounds.append({'f': f, 'k': k, 'bound': float(lower_bound(f, k))})

bound_k = []
for f, c in [(0.1, 0.99), (0.1, 0.95), (0.05, 0.99), (0.01, 0.99), (0.5, 0.999), (0.2, 0.9), (1.0, 1.0), (0.3, 0.0)]:
    bound_k.append({'f': f, 'confidence': c, 'k': smallest_k_bound(f, c)})

# FIELD-NOTES' figures, checked here so the vectors cannot silently disagree with them.
assert smallest_k_bound(0.1, 0.99) == 44
assert smallest_k(100, 10, 0.99)[0] == 36

out = {
    '//': 'Generated by tests/vectors/generate-sampling.py (exact fractions, pure-Python Keccak-256). Do not edit.',
    'deriveSamplingSeed': derive,
    'sampleCheckpoints': samples,
    'detectionProbability': probabilities,
    'samplesForConfidence': confidences,
    'detectionLowerBound': bounds,
    'samplesForLowerBound': bound_k,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sampling.json')
with open(path, 'w') as fh:
    json.dump(out, fh, indent=2)
    fh.write('\n')
print('wrote', path)
