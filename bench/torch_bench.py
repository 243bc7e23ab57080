#!/usr/bin/python3
"""torch_bench.py - the work of bench/bench_train.c, done in PyTorch.

Network 784-256-128-10 (nn.Linear x3, ReLU), nn.CrossEntropyLoss, xavier_uniform_
weights and zero biases, torch.optim.Adam lr 1e-3, on Fashion-MNIST preloaded as one
float tensor (x / 255):

  train    per epoch: a torch.randperm, then for each batch index the rows, zero_grad,
           forward, loss, backward, step (running loss via .item(), as a typical loop
           does); 1 warm-up epoch + N timed epochs; best and median samples/s; batch 32,
           128 and 256.
  infer    softmax(model(x)) over the 10,000 test images in batches of 1000 under
           torch.no_grad(); best and median samples/s over many repetitions.
  latency  softmax(model(x)) of one sample under torch.no_grad(); p10 and median over
           >= 10,000 calls, each timed on its own, in microseconds.

Output: the same lines as bench_train:  RESULT <name> <threads> <batch> <best> <median> <unit>

Runs only with the Debian torch: /usr/bin/python3 (the pyenv python3 has no torch).
Pin the OpenMP OpenBLAS, or torch uses whatever libblas.so.3 the alternatives point at:
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=1 \
        /usr/bin/python3 bench/torch_bench.py --threads 1
The BLAS actually mapped into the process is printed (blas=...), and a 512^3 matmul is
timed; a reference BLAS (a few GFLOP/s) is reported as such.

--quick: 1 timed epoch on the first 20,000 training images (--train-n), fewer inference
repetitions; for development only. --max-seconds S (default 40): a batch size stops after
the first timed epoch that ends more than S seconds after its start; the output says so.

usage: torch_bench.py [--threads T] [--epochs N] [--quick] [--data DIR] [--random]
                      [--batch B] [--train-n N] [--max-seconds S] [--infer-reps N]
                      [--latency-calls N]
"""
import argparse
import gzip
import os
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover
    sys.stderr.write("torch_bench: cannot import torch (%s); run with /usr/bin/python3 "
                     "(Debian python3-torch)\n" % e)
    sys.exit(3)


def load_idx(dir_, prefix):
    """x [n][784] float32 in [0,1], labels [n] int64, from the gzipped IDX pair."""
    with gzip.open(os.path.join(dir_, prefix + "-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 0x803:
        raise ValueError("bad IDX image magic")
    with gzip.open(os.path.join(dir_, prefix + "-labels-idx1-ubyte.gz"), "rb") as f:
        lab = f.read()
    magic_l, n_l = struct.unpack(">II", lab[:8])
    if magic_l != 0x801 or n_l != n:
        raise ValueError("bad IDX label file")
    x = torch.frombuffer(bytearray(raw[16:16 + n * rows * cols]), dtype=torch.uint8)
    x = x.reshape(n, rows * cols).to(torch.float32).div_(255.0)
    y = torch.frombuffer(bytearray(lab[8:8 + n]), dtype=torch.uint8).to(torch.int64)
    return x, y


def blas_libs():
    """Shared objects with 'blas' in the name mapped into this process."""
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in os.path.basename(p).lower() and p not in libs:
                libs.append(p)
    return libs


def matmul_gflops(n=512, reps=5):
    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best * 1e-9


def make_model(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def train_epoch(model, opt, crit, X, Y, B):
    n = X.shape[0]
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    total = 0.0
    for i in range(0, n, B):
        idx = perm[i:i + B]
        xb, yb = X[idx], Y[idx]
        opt.zero_grad(set_to_none=True)
        loss = crit(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * idx.shape[0]
    dt = time.perf_counter() - t0
    return n / dt, total / n


def accuracy(model, X, Y):
    with torch.no_grad():
        return (model(X).argmax(1) == Y).float().mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--random", action="store_true")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--train-n", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=40.0)
    ap.add_argument("--infer-reps", type=int, default=0)
    ap.add_argument("--latency-calls", type=int, default=0)
    a = ap.parse_args()
    epochs = 1 if a.quick and a.epochs == 3 else a.epochs
    infer_reps = a.infer_reps or (10 if a.quick else 40)
    lat_calls = a.latency_calls or (10000 if a.quick else 20000)
    T = a.threads
    torch.set_num_threads(T)

    random_data = a.random
    if not random_data:
        try:
            X, Y = load_idx(a.data, "train")
            Xt, Yt = load_idx(a.data, "t10k")
        except (OSError, ValueError) as e:
            sys.stderr.write("torch_bench: Fashion-MNIST not found in %s (%s); using RANDOM data "
                             "of the same shape\n" % (a.data, e))
            random_data = True
    if random_data:
        g = torch.Generator().manual_seed(1)
        X, Y = torch.rand(60000, 784, generator=g), torch.randint(0, 10, (60000,), generator=g)
        Xt, Yt = torch.rand(10000, 784, generator=g), torch.randint(0, 10, (10000,), generator=g)

    train_n = a.train_n or (20000 if a.quick else 0)
    if 0 < train_n < X.shape[0]:
        X, Y = X[:train_n].contiguous(), Y[:train_n].contiguous()

    gf = matmul_gflops()
    libs = blas_libs()
    blas = ",".join(libs) if libs else "none-mapped"
    kind = ("openblas-openmp" if any("openblas-openmp" in p for p in libs) else
            "openblas-pthread" if any("openblas-pthread" in p for p in libs) else
            "reference" if any("/blas/" in p for p in libs) else "unknown")
    print("torch_bench torch=%s threads=%d (torch.get_num_threads=%d) blas=%s blas_kind=%s "
          "matmul512=%.1fGFLOP/s data=%s train=%d test=%d epochs=1+%d infer_reps=%d "
          "latency_calls=%d" % (torch.__version__, T, torch.get_num_threads(), blas, kind, gf,
                                "RANDOM" if random_data else "fashion-mnist", X.shape[0],
                                Xt.shape[0], epochs, infer_reps, lat_calls), flush=True)
    if gf < 10.0 * T:
        sys.stderr.write("torch_bench: WARNING: a 512^3 matmul runs at %.1f GFLOP/s: this looks "
                         "like the reference BLAS (or a very loaded machine)\n" % gf)

    rows = []
    crit = nn.CrossEntropyLoss()
    model128 = None
    for B in (32, 128, 256):
        if a.batch and B != a.batch:
            continue
        model = make_model(42)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        t_cfg = time.perf_counter()
        train_epoch(model, opt, crit, X, Y, B)  # warm-up
        sps = []
        loss = float("nan")
        for _ in range(epochs):
            s, loss = train_epoch(model, opt, crit, X, Y, B)
            sps.append(s)
            if time.perf_counter() - t_cfg > a.max_seconds:
                break
        if len(sps) < epochs:
            print("NOTE train batch %d: %d of %d timed epochs (time cap %g s reached)"
                  % (B, len(sps), epochs, a.max_seconds))
        acc = accuracy(model, Xt, Yt)
        if loss != loss or (not random_data and acc < 0.75):
            sys.stderr.write("torch_bench: batch %d trained WRONG (loss %g, test accuracy %.3f)\n"
                             % (B, loss, acc))
            return 1
        sps.sort()
        k = len(sps)
        med = sps[k // 2] if k % 2 else 0.5 * (sps[k // 2 - 1] + sps[k // 2])
        print("RESULT train %d %d %.0f %.0f samples/s" % (T, B, sps[-1], med), flush=True)
        rows.append(("train", B, sps[-1], med, "samples/s", acc))
        if B == 128 or model128 is None:
            model128 = model

    model = model128 if model128 is not None else make_model(42)
    model.eval()
    with torch.no_grad():
        n = Xt.shape[0]
        for i in range(0, n, 1000):  # warm-up
            torch.softmax(model(Xt[i:i + 1000]), 1)
        ts = []
        for _ in range(infer_reps):
            t0 = time.perf_counter()
            for i in range(0, n, 1000):
                torch.softmax(model(Xt[i:i + 1000]), 1)
            ts.append(time.perf_counter() - t0)
        ts.sort()
        best, med = n / ts[0], n / ts[len(ts) // 2]
        print("RESULT infer %d 1000 %.0f %.0f samples/s" % (T, best, med), flush=True)
        rows.append(("infer", 1000, best, med, "samples/s", None))

        singles = [Xt[i:i + 1] for i in range(min(n, 1000))]
        for i in range(200):
            torch.softmax(model(singles[i % len(singles)]), 1)
        lat = []
        pc = time.perf_counter_ns
        for i in range(lat_calls):
            x1 = singles[i % len(singles)]
            t0 = pc()
            torch.softmax(model(x1), 1)
            lat.append(pc() - t0)
        lat.sort()
        p10, med = lat[lat_calls // 10] * 1e-3, lat[lat_calls // 2] * 1e-3
        print("RESULT latency %d 1 %.2f %.2f us" % (T, p10, med), flush=True)
        rows.append(("latency", 1, p10, med, "us (best = p10)", None))

    print("\ntorch %s, %d thread(s), BLAS %s, data %s" % (
        torch.__version__, T, kind, "RANDOM (Fashion-MNIST not found)" if random_data else
        "Fashion-MNIST"))
    print("| measurement | batch | best | median | unit | test acc |\n|---|---|---|---|---|---|")
    for name, B, best, med, unit, acc in rows:
        fmt = "%.2f" if unit.startswith("us") else "%.0f"
        print(("| %s | %d | " + fmt + " | " + fmt + " | %s | %s |") % (
            name, B, best, med, unit, "" if acc is None else "%.4f" % acc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
