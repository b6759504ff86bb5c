#!/usr/bin/python3
"""Stage 2 of the Fashion-MNIST FAR pipeline: replace every attention block of the trained DeiT
(work/deit.pth) with a FAR block and distil it (Ren et al., arXiv 2505.21535; docs/SOURCES.md):

  stage 1: only pre_proj, lstm and head_proj train; loss = sum over blocks of the MSE between
           FAR's per-head outputs (head_proj, before post_proj) and the teacher attention's
           per-head outputs (attn @ v, before proj), + cross-entropy (weights 1 and 1);
  stage 2: the whole model fine-tuned with cross-entropy at a low learning rate.

The LSTM is one nn.LSTM(D, D, bidirectional) kept block-diagonal per head and gate (and
head_proj per head) by re-applying the masks after every optimizer step. pre_proj starts as the
teacher's V projection, post_proj is the teacher's attn.proj. Exports
tests/data/fashion-mnist/far.safetensors (masked form).

    distill_far.py [--s1-steps N] [--s2-steps N] [--seed S]"""

import argparse
import os

import torch
import torch.nn.functional as F

import common as C


def distil_loss(teacher):
    """Cross-entropy + the sum over blocks of the MSE between the student's per-head outputs
    and the teacher's."""
    def loss(model, x, y):
        with torch.no_grad():
            trec = []
            teacher(x, trec)
        srec = []
        out = model(x, srec)
        mse = sum(F.mse_loss(s, t) for s, t in zip(srec, trec))
        return F.cross_entropy(out, y) + mse, {"mse": float(mse)}
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--s1-steps", type=int, default=1200)
    ap.add_argument("--s1-lr", type=float, default=3e-3)
    ap.add_argument("--s2-steps", type=int, default=1500)
    ap.add_argument("--s2-lr", type=float, default=5e-4)
    ap.add_argument("--limit-batches", type=int, default=0, help="timing only")
    o = ap.parse_args()
    C.setup(o.seed)
    xtr, ytr, xte, yte, mean, std = C.load_data()
    teacher, ck = C.load_ckpt(os.path.join(C.WORK, "deit.pth"), far=False)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    model = C.far_from_deit(teacher)
    C.log(f"teacher top1 {ck['top1'] * 100:.2f}%")
    gen = torch.Generator().manual_seed(o.seed)
    if o.limit_batches:
        new = [p for a in model.far_blocks() for m in (a.pre_proj, a.lstm, a.head_proj)
               for p in m.parameters()]
        secs = C.train_steps(model, new, o.limit_batches, o.s1_lr, xtr, ytr, gen, o.bs, "t",
                             distil_loss(teacher))
        C.log(f"{o.limit_batches} stage-1 batches in {secs:.1f}s")
        return
    for p in model.parameters():
        p.requires_grad_(False)
    new = []
    for a in model.far_blocks():
        for m in (a.pre_proj, a.lstm, a.head_proj):
            for p in m.parameters():
                p.requires_grad_(True)
                new.append(p)
    s1 = C.train_steps(model, new, o.s1_steps, o.s1_lr, xtr, ytr, gen, o.bs, "stage1",
                       distil_loss(teacher))
    acc1 = C.evaluate(model, xte, yte)
    C.log(f"after stage 1: test top1 {acc1 * 100:.2f}% ({s1:.0f}s)")
    for p in model.parameters():
        p.requires_grad_(True)
    s2 = C.train_steps(model, list(model.parameters()), o.s2_steps, o.s2_lr, xtr, ytr, gen,
                       o.bs, "stage2", C.cross_entropy)
    acc = C.evaluate(model, xte, yte)
    C.log(f"after stage 2: test top1 {acc * 100:.2f}% ({s2:.0f}s)")
    C.save_ckpt(model, os.path.join(C.WORK, "far.pth"),
                {"mean": mean, "std": std, "top1": acc, "top1_stage1": acc1,
                 "secs": s1 + s2})
    C.export(model, os.path.join(C.OUT, "far.safetensors"), "fmnist-far", False,
             C.base_meta(mean, std, acc, teacher_top1=f"{ck['top1']:.4f}",
                         stage1_top1=f"{acc1:.4f}", train_seconds=f"{s1 + s2:.0f}",
                         stage1_steps=o.s1_steps, stage2_steps=o.s2_steps))
    C.log(f"FAR: test top1 {acc * 100:.2f}% (teacher {ck['top1'] * 100:.2f}%)")


if __name__ == "__main__":
    main()
