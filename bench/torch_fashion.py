#!/usr/bin/python3
"""torch_fashion.py - examples/fashion_mnist.c as a PyTorch program, for whole-program
timing against it (bench/run.sh runs both under hyperfine).

Same recipe: the gzipped IDX files read by the program itself (gzip + struct, no numpy),
x / 255; 5,000 of the 60,000 training images held out at random for validation, 55,000
trained on; 784-256-128-10 ReLU/softmax, He-uniform weights for the ReLU layers and
Xavier-uniform for the output layer (nn.h's defaults), zero biases; cross-entropy;
AdamW lr 2e-3, weight decay 0.02 on weights only (nn.h decays no biases), betas
(0.9, 0.999), eps 1e-8; batch 128, reshuffled every epoch; learning rate set every step:
linear warm-up over the first epoch, then cosine to 0 over the rest (nn_schedule_lr's
formula); validation loss/accuracy after every epoch; test accuracy with per-class
precision and recall at the end. What it does not do: write the SVG/CSV plots the C
example writes (a few kB).

usage: torch_fashion.py [--epochs N] [--batch B] [--lr LR] [--seed S] [--threads T]
                        [--data DIR] [--quiet]
Run with /usr/bin/python3 and LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp.
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time

t_start = time.perf_counter()
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def load_idx(dir_, prefix):
    with gzip.open(os.path.join(dir_, prefix + "-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    with gzip.open(os.path.join(dir_, prefix + "-labels-idx1-ubyte.gz"), "rb") as f:
        lab = f.read()
    magic_l, n_l = struct.unpack(">II", lab[:8])
    if magic != 0x803 or magic_l != 0x801 or n_l != n:
        raise ValueError("%s: not an IDX image/label pair" % prefix)
    x = torch.frombuffer(bytearray(raw[16:16 + n * rows * cols]), dtype=torch.uint8)
    x = x.reshape(n, rows * cols).to(torch.float32).div_(255.0)
    y = torch.frombuffer(bytearray(lab[8:8 + n]), dtype=torch.uint8).to(torch.int64)
    return x, y


def schedule_lr(base, step, spe, epochs, warm_epochs=1):
    """nn_schedule_lr for NN_SCHEDULE_COSINE with warm-up, lr_min 0."""
    warm, total = warm_epochs * spe, epochs * spe
    if step < warm:
        return base * (step + 1) / warm
    t, T = step - warm, max(total - warm, 1)
    t = min(t, T)
    return max(0.5 * base * (1.0 + math.cos(math.pi * t / T)), 1e-30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    try:
        X, Y = load_idx(a.data, "train")
        Xt, Yt = load_idx(a.data, "t10k")
    except (OSError, ValueError) as e:
        sys.stderr.write("cannot load Fashion-MNIST from %s: %s\n" % (a.data, e))
        return 1
    t_load = time.perf_counter() - t_start

    n_val = 5000
    perm = torch.randperm(X.shape[0])
    Xv, Yv = X[perm[:n_val]], Y[perm[:n_val]]
    X, Y = X[perm[n_val:]].contiguous(), Y[perm[n_val:]].contiguous()
    n = X.shape[0]

    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    lins = [m for m in model if isinstance(m, nn.Linear)]
    for i, m in enumerate(lins):
        if i < len(lins) - 1:
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")  # U(+-sqrt(6/fan_in))
        else:
            nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
    opt = torch.optim.AdamW([{"params": [m.weight for m in lins], "weight_decay": 0.02},
                             {"params": [m.bias for m in lins], "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    crit = nn.CrossEntropyLoss()
    print("Fashion-MNIST: %d training images (%d held out for validation), %d test; loaded in "
          "%.2f s (incl. import torch)\nnetwork 784-256-128-10 ReLU/softmax, AdamW lr %g wd 0.02, "
          "cosine schedule, batch %d, %d epochs, torch %s, %d thread(s)"
          % (n + n_val, n_val, Xt.shape[0], t_load, a.lr, a.batch, a.epochs, torch.__version__,
             torch.get_num_threads()), flush=True)

    spe = (n + a.batch - 1) // a.batch
    step = 0
    t0 = time.perf_counter()
    for e in range(1, a.epochs + 1):
        te = time.perf_counter()
        model.train()
        p = torch.randperm(n)
        total = 0.0
        for i in range(0, n, a.batch):
            lr = schedule_lr(a.lr, step, spe, a.epochs)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = p[i:i + a.batch]
            xb, yb = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            loss = crit(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
            step += 1
        model.eval()
        with torch.no_grad():
            out = model(Xv)
            vl = crit(out, Yv).item()
            va = (out.argmax(1) == Yv).float().mean().item()
        if not a.quiet:
            sys.stderr.write("epoch %d/%d  loss %.4f  val_loss %.4f  val_acc %.4f  lr %.2e  %.1fs\n"
                             % (e, a.epochs, total / n, vl, va, lr, time.perf_counter() - te))
    t_train = time.perf_counter() - t0

    with torch.no_grad():
        pred = model(Xt).argmax(1)
    cm = torch.zeros(10, 10, dtype=torch.int64)
    cm.index_put_((Yt, pred), torch.ones_like(Yt), accumulate=True)
    acc = cm.diag().sum().item() / Yt.shape[0]
    print("\ntest accuracy %.4f  (training %.2f s, %.0f samples/s; total with loading %.2f s)"
          % (acc, t_train, a.epochs * n / t_train, t_train + t_load))
    print("%-12s %9s %7s" % ("class", "precision", "recall"))
    for k in range(10):
        tp = cm[k, k].item()
        pc, rc = cm[:, k].sum().item(), cm[k, :].sum().item()
        print("%-12s %9.3f %7.3f" % (CLASS_NAMES[k], tp / pc if pc else float("nan"),
                                     tp / rc if rc else float("nan")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
