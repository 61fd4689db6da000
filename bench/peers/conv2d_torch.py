"""PyTorch CPU peer column for Conv2dBenchmark: the same shapes, forward and forward + backward.

Run (one thread count per process, as the JMH pools):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python3 bench/peers/conv2d_torch.py 1
"""
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = {  # name: (Cin, Cout, side, k, stride, padding [top, bottom, left, right]), batch 32
    "1to16_32_k3": (1, 16, 32, 3, 1, (1, 1, 1, 1)),
    "16to16_32_k3": (16, 16, 32, 3, 1, (1, 1, 1, 1)),
    "32to32_32_k3": (32, 32, 32, 3, 1, (1, 1, 1, 1)),
    "32to32_16_k3": (32, 32, 16, 3, 1, (1, 1, 1, 1)),
    "32to32_8_k3": (32, 32, 8, 3, 1, (1, 1, 1, 1)),
    "16to16_32_down": (16, 16, 32, 3, 2, (0, 1, 0, 1)),
    "16to32_16_pw": (16, 32, 16, 1, 1, (0, 0, 0, 0)),
}


def conv(x, w, b, stride, pad):
    top, bottom, left, right = pad
    if top == bottom and left == right:
        return F.conv2d(x, w, b, stride=stride, padding=(top, left))
    return F.conv2d(F.pad(x, (left, right, top, bottom)), w, b, stride=stride)


def timeit(fn, warmup_s=2.0, measure_s=4.0):
    end = time.perf_counter() + warmup_s
    while time.perf_counter() < end:
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < measure_s:
        fn()
        n += 1
    return (time.perf_counter() - start) / n * 1e3


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    B = 32
    for name, (Cin, C, H, k, s, pad) in SHAPES.items():
        x = torch.randn(B, Cin, H, H, requires_grad=True)
        w = (torch.randn(C, Cin, k, k) / (Cin * k * k) ** 0.5).requires_grad_()
        b = (0.1 * torch.randn(C)).requires_grad_()
        with torch.no_grad():
            y = conv(x, w, b, s, pad)
        dout = torch.randn_like(y)

        def fwd():
            with torch.no_grad():
                conv(x, w, b, s, pad)

        def fwd_bwd():
            x.grad = w.grad = b.grad = None
            conv(x, w, b, s, pad).backward(dout)

        print(f"{name}\t{threads}\tforward\t{timeit(fwd):.1f}\tms/op", flush=True)
        print(f"{name}\t{threads}\tforwardBackward\t{timeit(fwd_bwd):.1f}\tms/op", flush=True)


if __name__ == "__main__":
    main()
