"""Times float32 N x N @ N x N with NumPy (whatever BLAS it is linked to) for the sgemm workload.

Usage: OPENBLAS_NUM_THREADS=2 /usr/bin/python3 perf/gemm_numpy.py [N ...]
Prints one line per N: N, median seconds, GFLOP/s (2*N^3 flops).
"""
import sys
import time

import numpy as np


def bench(n, reps):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    for _ in range(3):
        np.matmul(a, b, out=c)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [256, 512, 1024, 2048]
    for n in sizes:
        reps = 50 if n <= 512 else (15 if n <= 1024 else 7)
        t = bench(n, reps)
        print(f"numpy sgemm N={n:5d}  median {t * 1e3:9.3f} ms  {2.0 * n ** 3 / t / 1e9:8.1f} GFLOP/s")


if __name__ == "__main__":
    main()
