#!/usr/bin/python3
"""Stage 1 of the Fashion-MNIST FAR pipeline: train a small DeiT-style ViT (timm layout: 28 px,
patch 7, 1 channel, dim 64, depth 4, 4 heads, MLP ratio 2) with AdamW and a cosine schedule, and
export it to tests/data/fashion-mnist/deit.safetensors.

    train_deit.py [--epochs N] [--seed S] [--limit-batches N]"""

import argparse
import os

import torch
import torch.nn.functional as F

import common as C


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--limit-batches", type=int, default=0, help="timing only")
    o = ap.parse_args()
    C.setup(o.seed)
    xtr, ytr, xte, yte, mean, std = C.load_data()
    C.log(f"train {tuple(xtr.shape)} test {tuple(xte.shape)} mean {mean} std {std}")
    model = C.ViT(far=False)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "token" not in n
             and "pos_embed" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "token" not in n
                                                            and "pos_embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": rest, "weight_decay": 0.0}], lr=o.lr)
    gen = torch.Generator().manual_seed(o.seed)
    steps = len(xtr) // o.bs
    total = o.epochs * steps
    t = C.Timer()
    step = 0
    for ep in range(o.epochs):
        model.train()
        tl, n = 0.0, 0
        for i, idx in enumerate(C.batches(len(xtr), o.bs, gen)):
            if o.limit_batches and i >= o.limit_batches:
                C.log(f"{i} batches in {t.secs():.1f}s -> {t.secs() / i * steps:.0f}s/epoch")
                return
            C.cosine_lr(opt, o.lr, step, total, steps // 4)
            x = C.augment(xtr[idx], gen)
            loss = F.cross_entropy(model(x), ytr[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tl += float(loss) * len(idx)
            n += len(idx)
            step += 1
        acc = C.evaluate(model, xte, yte)
        C.log(f"epoch {ep + 1}/{o.epochs} loss {tl / n:.4f} test top1 {acc * 100:.2f}% ({t})")
    acc = C.evaluate(model, xte, yte)
    C.save_ckpt(model, os.path.join(C.WORK, "deit.pth"), {"mean": mean, "std": std,
                                                          "top1": acc, "secs": t.secs()})
    C.export(model, os.path.join(C.OUT, "deit.safetensors"), "fmnist-deit", False,
             C.base_meta(mean, std, acc, train_seconds=f"{t.secs():.0f}",
                         epochs=o.epochs))
    C.log(f"DeiT: test top1 {acc * 100:.2f}%  ({t})")


if __name__ == "__main__":
    main()
