#!/usr/bin/env python3
"""Replays the trajectories build/torch_adadelta prints with torch.optim.Adadelta (float32)
and compares every parameter after every step. Exits 0 with SKIPPED when torch is not
importable (apt-get install python3-torch)."""
import subprocess
import sys

try:
    import torch
except ImportError:
    print("torch_adadelta: SKIPPED (torch not importable: apt-get install python3-torch)")
    sys.exit(0)

def floats(line):
    return [float.fromhex(v) for v in line.split()[1:]]

out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout.splitlines()
checked = bad = 0
i = 0
while i < len(out):
    tag, be, lr, rho, eps = out[i].split()
    lr, rho, eps = (float.fromhex(v) for v in (lr, rho, eps))
    p = torch.nn.Parameter(torch.tensor(floats(out[i + 1]), dtype=torch.float32))
    opt = torch.optim.Adadelta([p], lr=lr, rho=rho, eps=eps)
    moved = torch.zeros_like(p.data, dtype=torch.float64)
    i += 2
    for t in range(8):
        g, want = floats(out[i]), torch.tensor(floats(out[i + 1]), dtype=torch.float64)
        i += 2
        before = p.data.double().clone()
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        moved += (p.data.double() - before).abs()
        # both sides in float32 with the same operations: a few ulp of |w| and of each step
        tol = 1e-6 * p.data.double().abs() + 1e-5 * moved + 1e-30
        err = (p.data.double() - want).abs()
        checked += err.numel()
        if bool((err > tol).any()):
            k = int(torch.argmax(err / tol))
            bad += 1
            print(f"torch_adadelta: {be} lr={lr} rho={rho} eps={eps} step {t + 1} param {k}: "
                  f"nn.h {want[k].item():.9g} torch {p.data[k].item():.9g} (tolerance {tol[k].item():.3g})")
print(f"torch_adadelta: torch {torch.__version__}, {checked} parameter-steps compared")
print(f"torch_adadelta: {checked - bad if not bad else 0} passed, {bad} failed")
sys.exit(1 if bad else 0)
