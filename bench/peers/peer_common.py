"""Helpers shared by the PyTorch peers."""
import time


def blas():
    """The BLAS libraries mapped into this process (which OpenBLAS build numpy and torch actually use)."""
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if "blas" in l}
    return ", ".join(sorted(libs)) or "none found"


def ms_per_step(step, warmup=5, runs=5, seconds=3.0):
    """Milliseconds per call of step(): warmup calls, then the median of runs windows of about seconds each."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(runs):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            step()
            n += 1
        times.append((time.perf_counter() - t0) / n * 1e3)
    times.sort()
    return times[len(times) // 2]
