"""Helpers shared by the PyTorch peers."""


def blas():
    """The BLAS libraries mapped into this process (which OpenBLAS build numpy and torch actually use)."""
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if "blas" in l}
    return ", ".join(sorted(libs)) or "none found"
