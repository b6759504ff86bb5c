"""Shared pieces of the Fashion-MNIST FAR pipeline (tools/far/*.py): data, the timm-layout
DeiT-style ViT, the FAR block (pre_proj -> per-head BiLSTM -> per-head head_proj -> post_proj),
evaluation and export through tools/export_far.py (plus the pipeline's extra metadata).

Needs Debian's python3-torch and python3-numpy; run with /usr/bin/python3."""

import contextlib
import gzip
import io
import json
import os
import struct
import sys
import tempfile
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import export_far  # noqa: E402

DATA = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
OUT = os.environ.get("FAR_OUT", os.path.join(ROOT, "tests", "data", "fashion-mnist"))
WORK = os.environ.get("FAR_WORK", os.path.join(ROOT, "tools", "far", "work"))

# Model shape (small DeiT): 28 px, patch 7 -> 16 patches + CLS = 17 tokens. (Patch 4, 50
# tokens, learnt no better per epoch here and cost 2.7x the time per step; FAR's LSTMs run
# over every token in sequence, so the token count sets the pipeline's wall time.)
IMG, PATCH, CHANS, CLASSES = 28, 7, 1, 10
DIM, DEPTH, HEADS, MLP_RATIO = 64, 4, 4, 2
HD = DIM // HEADS
LN_EPS = 1e-6


def setup(seed):
    torch.set_num_threads(int(os.environ.get("FAR_THREADS", "2")))
    torch.manual_seed(seed)
    np.random.seed(seed)
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)


# ---------------------------------------------------------------------------------------------
# Data


def _idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    nd = magic & 0xff
    dims = struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load_split(split):
    """Images [N, 1, 28, 28] float32 in [0, 1] (pixel / 255, as imcsim scales IDX), labels."""
    x = _idx(os.path.join(DATA, f"{split}-images-idx3-ubyte.gz"))
    y = _idx(os.path.join(DATA, f"{split}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    return x, torch.from_numpy(y.astype(np.int64))


def load_data():
    """Normalised train and test sets, with the training set's mean and std."""
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    mean, std = float(xtr.mean()), float(xtr.std())
    mean, std = float(f"{mean:.6f}"), float(f"{std:.6f}")  # exactly what the metadata says
    norm = lambda x: (x - np.float32(mean)) / np.float32(std)  # noqa: E731
    return norm(xtr), ytr, norm(xte), yte, mean, std


AUGMENT = os.environ.get("FAR_AUGMENT", "0") == "1"


def augment(x, gen):
    """With FAR_AUGMENT=1: random crop with padding 2 (edge value = background after
    normalisation) and horizontal flip, per image. Off by default: within this pipeline's few
    epochs it slowed learning (4 epochs: 82.0 % with it, 87.5 % without)."""
    if not AUGMENT:
        return x
    B = x.shape[0]
    pad = F.pad(x, (2, 2, 2, 2), value=float(x.min()))
    ox = torch.randint(0, 5, (B,), generator=gen)
    oy = torch.randint(0, 5, (B,), generator=gen)
    ar = torch.arange(IMG)
    rows = (oy[:, None] + ar[None, :])[:, :, None].expand(B, IMG, IMG)
    cols = (ox[:, None] + ar[None, :])[:, None, :].expand(B, IMG, IMG)
    out = pad[torch.arange(B)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(B, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def batches(n, bs, gen):
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n - bs + 1, bs):  # drop the ragged last batch
        yield perm[i:i + bs]


# ---------------------------------------------------------------------------------------------
# Models (timm VisionTransformer names and semantics)


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(CHANS, DIM, PATCH, PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_heads, self.head_dim = HEADS, HD
        self.scale = HD ** -0.5
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.proj = nn.Linear(DIM, DIM)

    def heads_out(self, x):
        """Per-head attention output (attn @ v) concatenated, before proj: [B, N, D]."""
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, HEADS, HD).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        a = ((q @ k.transpose(-2, -1)) * self.scale).softmax(-1)
        return (a @ v).transpose(1, 2).reshape(B, N, C)

    def forward(self, x):
        return self.proj(self.heads_out(x))


def lstm_mask():
    """[4D, D]: gate g, head h rows read only head h's columns."""
    m = torch.zeros(4 * DIM, DIM)
    for g in range(4):
        for h in range(HEADS):
            r = g * DIM + h * HD
            m[r:r + HD, h * HD:(h + 1) * HD] = 1
    return m


def head_proj_mask():
    """[D, 2D]: head h's outputs read only its forward and backward slices."""
    m = torch.zeros(DIM, 2 * DIM)
    for h in range(HEADS):
        m[h * HD:(h + 1) * HD, h * HD:(h + 1) * HD] = 1
        m[h * HD:(h + 1) * HD, DIM + h * HD:DIM + (h + 1) * HD] = 1
    return m


class FARAttn(nn.Module):
    """FAR: pre_proj -> one nn.LSTM(D, D, bidirectional) kept block-diagonal per head and gate
    by masks -> head_proj Linear(2D, D) masked per head -> post_proj (the attention's proj).
    Masks are plain attributes (not buffers), so the state_dict is what export_far.py reads.
    unit_mask [2, D] (direction, hidden unit): 0 = pruned."""

    def __init__(self):
        super().__init__()
        self.pre_proj = nn.Linear(DIM, DIM)
        self.lstm = nn.LSTM(DIM, DIM, bidirectional=True, batch_first=True)
        self.head_proj = nn.Linear(2 * DIM, DIM)
        self.post_proj = nn.Linear(DIM, DIM)
        self.m_lstm = lstm_mask()
        self.m_head = head_proj_mask()
        self.unit_mask = torch.ones(2, DIM)

    def apply_masks(self):
        with torch.no_grad():
            hp = self.m_head.clone()
            for d, s in enumerate(("", "_reverse")):
                u = self.unit_mask[d]
                rows = u.repeat(4)  # the unit's rows in all four gates
                getattr(self.lstm, "weight_ih_l0" + s).mul_(self.m_lstm * rows[:, None])
                getattr(self.lstm, "weight_hh_l0" + s).mul_(self.m_lstm * rows[:, None]
                                                            * u[None, :])
                getattr(self.lstm, "bias_ih_l0" + s).mul_(rows)
                getattr(self.lstm, "bias_hh_l0" + s).mul_(rows)
                hp[:, d * DIM:(d + 1) * DIM] *= u[None, :]
            self.head_proj.weight.mul_(hp)

    def heads_out(self, x):
        """head_proj output (per-head outputs, before post_proj): [B, N, D]."""
        return self.head_proj(self.lstm(self.pre_proj(x))[0])

    def forward(self, x):
        return self.post_proj(self.heads_out(x))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        hid = DIM * MLP_RATIO
        self.fc1, self.act, self.fc2 = nn.Linear(DIM, hid), nn.GELU(), nn.Linear(hid, DIM)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, far=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(DIM, eps=LN_EPS)
        self.attn = FARAttn() if far else Attention()
        self.norm2 = nn.LayerNorm(DIM, eps=LN_EPS)
        self.mlp = Mlp()

    def forward(self, x, rec=None):
        y = self.norm1(x)
        if rec is not None:
            h = self.attn.heads_out(y)
            rec.append(h)
            y = self.attn.proj(h) if isinstance(self.attn, Attention) else self.attn.post_proj(h)
        else:
            y = self.attn(y)
        x = x + y
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, far=False):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.pos_embed = nn.Parameter(torch.randn(1, (IMG // PATCH) ** 2 + 1, DIM) * 0.02)
        self.blocks = nn.ModuleList([Block(far) for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(DIM, eps=LN_EPS)
        self.head = nn.Linear(DIM, CLASSES)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x, rec=None):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for b in self.blocks:
            x = b(x, rec)
        return self.head(self.norm(x)[:, 0])

    def far_blocks(self):
        return [b.attn for b in self.blocks if isinstance(b.attn, FARAttn)]

    def apply_masks(self):
        for a in self.far_blocks():
            a.apply_masks()


def far_from_deit(deit):
    """A FAR model whose every attention block is replaced; all else copied. pre_proj starts
    as the attention's V projection (so each head's LSTM sees that head's values)."""
    far = ViT(far=True)
    sd = deit.state_dict()
    own = far.state_dict()
    for k, v in sd.items():
        if k in own:
            own[k] = v.clone()
    for i in range(DEPTH):
        a = f"blocks.{i}.attn."
        own[a + "post_proj.weight"] = sd[a + "proj.weight"].clone()
        own[a + "post_proj.bias"] = sd[a + "proj.bias"].clone()
        own[a + "pre_proj.weight"] = sd[a + "qkv.weight"][2 * DIM:].clone()
        own[a + "pre_proj.bias"] = sd[a + "qkv.bias"][2 * DIM:].clone()
    far.load_state_dict(own)
    far.apply_masks()
    return far


# ---------------------------------------------------------------------------------------------
# Training helpers


def cosine_lr(opt, base, step, total, warmup):
    lr = base * (step + 1) / warmup if step < warmup else \
        base * 0.5 * (1 + np.cos(np.pi * (step - warmup) / max(1, total - warmup)))
    for g in opt.param_groups:
        g["lr"] = lr * g.get("lr_scale", 1.0)
    return lr


def train_steps(model, params, steps, lr, xtr, ytr, gen, bs, tag, loss_fn, wd=0.0):
    """AdamW on PARAMS for STEPS batches (cosine schedule, 5 % warm-up), the FAR masks
    re-applied after every step. LOSS_FN(model, x, y) -> (loss, {name: float to log}); the
    means are logged every 50 steps. Returns the seconds taken."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    t = Timer()
    step, n, sums = 0, 0, {}
    while step < steps:
        for idx in batches(len(xtr), bs, gen):
            if step >= steps:
                break
            cosine_lr(opt, lr, step, steps, max(1, steps // 20))
            model.train()
            loss, extra = loss_fn(model, augment(xtr[idx], gen), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            model.apply_masks()
            for k, v in [("loss", float(loss))] + list(extra.items()):
                sums[k] = sums.get(k, 0.0) + v
            n += 1
            step += 1
            if step % 50 == 0 or step == steps:
                log(f"{tag} step {step}/{steps} "
                    + " ".join(f"{k} {v / n:.4f}" for k, v in sums.items()) + f" ({t})")
                n, sums = 0, {}
    return t.secs()


def cross_entropy(model, x, y):
    """The plain loss of train_steps."""
    return F.cross_entropy(model(x), y), {}


@torch.no_grad()
def evaluate(model, x, y, bs=1000):
    model.eval()
    correct = 0
    for i in range(0, len(x), bs):
        correct += int((model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum())
    return correct / len(x)


def log(msg):
    print(msg, flush=True)


class Timer:
    def __init__(self):
        self.t0 = time.time()

    def __str__(self):
        return f"{time.time() - self.t0:.0f}s"

    def secs(self):
        return time.time() - self.t0


# ---------------------------------------------------------------------------------------------
# Export


def save_ckpt(model, path, extra=None):
    obj = {"model": model.state_dict(), "args": {"num_heads": HEADS, "img_size": IMG,
                                                 "patch_size": PATCH, "in_chans": CHANS}}
    if extra:
        obj.update(extra)
    torch.save(obj, path)


def load_ckpt(path, far):
    obj = torch.load(path, map_location="cpu")
    m = ViT(far=far)
    m.load_state_dict(obj["model"])
    return m, obj


def add_metadata(path, extra):
    """Add string metadata to a safetensors file written by export_far.py (rewritten in
    place; tensor data unchanged)."""
    with open(path, "rb") as f:
        raw = f.read()
    n, = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + n], object_pairs_hook=OrderedDict)
    data = raw[8 + n:]
    for k, v in extra.items():
        hdr["__metadata__"][k] = str(v)
    text = json.dumps(hdr, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def export(model, out, name, split, meta):
    """tools/export_far.py on MODEL's state_dict, then the pipeline's metadata."""
    with tempfile.TemporaryDirectory(prefix="far_export.") as tmp:
        ckpt = os.path.join(tmp, name + ".pth")
        torch.save(model.state_dict(), ckpt)
        argv = [ckpt, out, "--heads", str(HEADS), "--img-size", str(IMG), "--patch-size",
                str(PATCH), "--in-chans", str(CHANS), "--name", name]
        if split:
            argv.append("--split-heads")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = export_far.main(argv)
    if rc != 0:
        raise SystemExit(f"exporting {name} failed (status {rc}): {err.getvalue()}")
    if err.getvalue():
        sys.stderr.write(err.getvalue())
    add_metadata(out, meta)
    log(f"wrote {out} ({os.path.getsize(out)} bytes)")


def base_meta(mean, std, top1, **kw):
    m = OrderedDict([("input_mean", f"{mean:.6f}"), ("input_std", f"{std:.6f}"),
                     ("pytorch_top1", f"{top1:.4f}"), ("dataset", "fashion-mnist")])
    m.update((k, str(v)) for k, v in kw.items())
    return m
