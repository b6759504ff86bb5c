#!/usr/bin/python3
"""Reference logits for imcsim's FP32 forward pass (sim/numerics/forward.c), computed with PyTorch.

    numerics_ref.py OUTDIR [--dump DIR]

Builds three small seeded random vision transformers with deliberately odd shapes, exports each
with tools/export_far.py's own code, draws N = 8 random input images per model and writes, per
model NAME,

    OUTDIR/NAME.model.safetensors   the model, exactly as tools/export_far.py writes it
    OUTDIR/NAME.inputs.safetensors  images [8, 3, 32, 32] F32, labels [8] I32 (the argmax of
                                    the reference logits, so the file is also a --dataset),
                                    logits [8, 10] F32 (the reference)

Models (all: embed dim 96, 3 heads of 32, depth 2, 32 px images in 8 px patches -> 16 patches +
CLS = 17 tokens, 3 channels, 10 classes, MLP hidden 192):

    ref_deit        both blocks self-attention (timm VisionTransformer semantics)
    ref_far_mixed   block 0 attention, block 1 FAR, masked single-LSTM form
    ref_far_pruned  both blocks FAR, a random 6..10 of the 32 hidden units of every head and
                    direction pruned (rows, biases, W_hh column, head_proj column zeroed), split
                    per-head form (pruned units removed, so kept counts are odd: 22..26)

Semantics: pre-norm blocks, LayerNorm eps 1e-6, exact-erf GELU, qkv with bias and timm's
reshape(B, N, 3, heads, head_dim) order, softmax(q k^T * head_dim**-0.5) v, CLS token first,
pos_embed added after prepending it, final norm, head on the CLS token. FAR: pre_proj, one
nn.LSTM(D, D, bidirectional) whose weights are block-diagonal per head and gate (gate order i,
f, g, o, zero initial state), head_proj Linear(2D, D) masked per head, post_proj.

Weight scale: timm's trunc-normal std 0.02 would leave every non-linearity near its linear
region and the logits nearly image-independent, which tests little. Instead every Linear and
the patch-embedding conv get weights N(0, 0.1^2) (about 1/sqrt(fan-in) for fan-in 96..192, so
activations stay O(1) through the depth), LSTM weights N(0, 0.2^2) (per-head fan-in is only
32 + 32), all biases N(0, 0.1^2), LayerNorm weights 1 + N(0, 0.1^2) and biases N(0, 0.1^2),
cls_token and pos_embed N(0, 0.1^2) (larger ones make the CLS token's constant part dominate, and
every image gets the same label). Images are N(0, 1). Attention logits then have std ~1,
LSTM gates are partly saturated, and the logits differ clearly between images (printed).

Precision: the weights are float32 (what the file holds); the reference logits are computed in
float64 from exactly those float32 weights and the float32 images, then rounded to float32, so
the reference error is far below what an FP32 forward pass can reach. torch runs single-threaded
so the float64 results, hence the files, are byte-identical on every run.

Self-check: the logits are also recomputed from the exported file's tensors (split form
included) with an independent float64 forward pass, and must agree with the nn.Module to 1e-10.

--dump DIR also writes DIR/NAME.layers.safetensors: the float64 reference output of every weight
layer (bias included) named as imcsim's network lists the layers (patch_embed, blocks.B.attn.qkv,
blocks.B.attn.lstm.hH.fwd, blocks.B.attn.head_proj.hH, head, ...), as F32 [N, vectors, out]; an
LSTM layer's output is its fused gate pre-activation x W_ih + h W_hh + b_ih + b_hh in gate order
i, f, g, o, at each token (in token order, also for the backward direction). For debugging the C
forward pass with its probe; not committed.

Needs Debian's PyTorch (apt-get install -y --no-install-recommends python3-torch python3-numpy).
"""

import argparse
import contextlib
import copy
import io
import json
import os
import struct
import sys
import tempfile
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_far  # noqa: E402  (exits with a message when torch is missing)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PROG = "numerics_ref.py"
N_IMAGES = 8
DIM, HEADS, DEPTH, IMG, PATCH, CHANS, CLASSES, MLP = 96, 3, 2, 32, 8, 3, 10, 192
HD = DIM // HEADS
W_STD, LSTM_STD, B_STD, LN_STD, TOKEN_STD = 0.1, 0.2, 0.1, 0.1, 0.1
PRUNE_MIN, PRUNE_MAX = 6, 10  # pruned units per head and direction (of 32): ~25 %
LN_EPS = 1e-6


# ---------------------------------------------------------------------------------------------
# The models (plain torch, timm VisionTransformer names and semantics)


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

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        a = ((q @ k.transpose(-2, -1)) * self.scale).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, N, C))


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
    def __init__(self):
        super().__init__()
        self.pre_proj = nn.Linear(DIM, DIM)
        self.lstm = nn.LSTM(DIM, DIM, bidirectional=True, batch_first=True)
        self.head_proj = nn.Linear(2 * DIM, DIM)
        self.post_proj = nn.Linear(DIM, DIM)

    def apply_masks(self):
        mw, mh = lstm_mask(), head_proj_mask()
        with torch.no_grad():
            for n, p in self.lstm.named_parameters():
                if n.startswith("weight_"):
                    p.mul_(mw)
            self.head_proj.weight.mul_(mh)

    def forward(self, x):
        return self.post_proj(self.head_proj(self.lstm(self.pre_proj(x))[0]))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(DIM, MLP), nn.GELU(), nn.Linear(MLP, DIM)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, far):
        super().__init__()
        self.norm1 = nn.LayerNorm(DIM, eps=LN_EPS)
        self.attn = FARAttn() if far else Attention()
        self.norm2 = nn.LayerNorm(DIM, eps=LN_EPS)
        self.mlp = Mlp()

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    def __init__(self, far_blocks):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.pos_embed = nn.Parameter(torch.zeros(1, (IMG // PATCH) ** 2 + 1, DIM))
        self.blocks = nn.Sequential(*[Block(b in far_blocks) for b in range(DEPTH)])
        self.norm = nn.LayerNorm(DIM, eps=LN_EPS)
        self.head = nn.Linear(DIM, CLASSES)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def init_weights(model):
    """The realistic scale of the module docstring, drawn in named_parameters() order."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if name in ("cls_token", "pos_embed"):
                p.normal_(0, TOKEN_STD)
            elif ".norm" in "." + name and leaf == "weight":
                p.normal_(1, LN_STD)
            elif ".lstm." in name and leaf.startswith("weight"):
                p.normal_(0, LSTM_STD)
            elif leaf.startswith("weight"):
                p.normal_(0, W_STD)
            else:  # every bias, LayerNorm biases included
                p.normal_(0, B_STD)
    for blk in model.blocks:
        if isinstance(blk.attn, FARAttn):
            blk.attn.apply_masks()


def prune_far(attn, gen):
    """Remove a random PRUNE_MIN..PRUNE_MAX hidden units of every head and direction: zero their
    W_ih and W_hh rows and biases in all four gates, their W_hh column and their head_proj
    column. Returns {(head, dir): kept units}."""
    kept = {}
    with torch.no_grad():
        for d, sfx in enumerate(("", "_reverse")):
            wih = getattr(attn.lstm, "weight_ih_l0" + sfx)
            whh = getattr(attn.lstm, "weight_hh_l0" + sfx)
            bih = getattr(attn.lstm, "bias_ih_l0" + sfx)
            bhh = getattr(attn.lstm, "bias_hh_l0" + sfx)
            for h in range(HEADS):
                n = int(torch.randint(PRUNE_MIN, PRUNE_MAX + 1, (1,), generator=gen))
                units = torch.randperm(HD, generator=gen)[:n]
                for j in units.tolist():
                    u = h * HD + j
                    rows = [g * DIM + u for g in range(4)]
                    wih[rows] = 0
                    whh[rows] = 0
                    bih[rows] = 0
                    bhh[rows] = 0
                    whh[:, u] = 0
                    attn.head_proj.weight[:, d * DIM + u] = 0
                kept[(h, d)] = HD - n
    return kept


# ---------------------------------------------------------------------------------------------
# An independent float64 forward pass from the exported tensors, recording every weight layer's
# output under imcsim's layer names (sim/net/network.c).


def lstm_scan(x, wih, whh, bias, reverse, gates_out):
    """x [B, T, in] -> h [B, T, k]; records the fused gate pre-activations [B, T, 4k]."""
    B, T, _ = x.shape
    k = whh.shape[1]
    h, c = x.new_zeros(B, k), x.new_zeros(B, k)
    hs, gs = [None] * T, [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        g = x[:, t] @ wih.T + h @ whh.T + bias
        gs[t] = g
        i, f, gg, o = g.split(k, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs[t] = h
    gates_out.append(torch.stack(gs, 1))
    return torch.stack(hs, 1)


def forward_file(T, meta, img, rec):
    """Logits [B, classes] from the exported tensors T; REC[layer name] = [B, vectors, out]."""
    far = {int(b) for b in meta["far_blocks"].split(",") if b}
    split = meta["far_form"] == "split"
    B = img.shape[0]
    x = F.conv2d(img, T["patch_embed.proj.weight"], T["patch_embed.proj.bias"], stride=PATCH)
    x = x.flatten(2).transpose(1, 2)
    rec["patch_embed"] = x
    x = torch.cat([T["cls_token"].expand(B, -1, -1), x], 1) + T["pos_embed"]

    def lin(name, v):
        y = F.linear(v, T[name + ".weight"], T[name + ".bias"])
        rec[name] = y
        return y

    for b in range(DEPTH):
        pre, a = f"blocks.{b}.", f"blocks.{b}.attn."
        y = F.layer_norm(x, (DIM,), T[pre + "norm1.weight"], T[pre + "norm1.bias"], LN_EPS)
        if b in far:
            y = lin(a + "pre_proj", y)
            outs = []
            for h in range(HEADS):
                yh = y[..., h * HD:(h + 1) * HD]
                hd_out = []
                for d, sfx in enumerate(("", "_reverse")):
                    if split:
                        l = f"{a}lstm.{h}."
                        wih, whh = T[l + "weight_ih_l0" + sfx], T[l + "weight_hh_l0" + sfx]
                        bias = T[l + "bias_ih_l0" + sfx] + T[l + "bias_hh_l0" + sfx]
                    else:  # masked form, nothing pruned: head h's blocks of every gate
                        l = a + "lstm."
                        rows = torch.cat([torch.arange(g * DIM + h * HD, g * DIM + (h + 1) * HD)
                                          for g in range(4)])
                        cols = slice(h * HD, (h + 1) * HD)
                        wih = T[l + "weight_ih_l0" + sfx][rows][:, cols]
                        whh = T[l + "weight_hh_l0" + sfx][rows][:, cols]
                        bias = (T[l + "bias_ih_l0" + sfx] + T[l + "bias_hh_l0" + sfx])[rows]
                    gates = []
                    hd_out.append(lstm_scan(yh, wih, whh, bias, d == 1, gates))
                    rec[f"{a}lstm.h{h}.{'bwd' if d else 'fwd'}"] = gates[0]
                hcat = torch.cat(hd_out, -1)
                if split:
                    wn, bn = f"{a}head_proj.{h}.weight", f"{a}head_proj.{h}.bias"
                    o = F.linear(hcat, T[wn], T[bn])
                else:
                    w = T[a + "head_proj.weight"][h * HD:(h + 1) * HD]
                    w = torch.cat([w[:, h * HD:(h + 1) * HD],
                                   w[:, DIM + h * HD:DIM + (h + 1) * HD]], 1)
                    o = F.linear(hcat, w, T[a + "head_proj.bias"][h * HD:(h + 1) * HD])
                rec[f"{a}head_proj.h{h}"] = o
                outs.append(o)
            y = lin(a + "post_proj", torch.cat(outs, -1))
        else:
            qkv = lin(a + "qkv", y).reshape(B, -1, 3, HEADS, HD).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            att = ((q @ k.transpose(-2, -1)) * HD ** -0.5).softmax(-1)
            y = lin(a + "proj", (att @ v).transpose(1, 2).reshape(B, -1, DIM))
        x = x + y
        z = F.layer_norm(x, (DIM,), T[pre + "norm2.weight"], T[pre + "norm2.bias"], LN_EPS)
        x = x + lin(pre + "mlp.fc2", F.gelu(lin(pre + "mlp.fc1", z)))
    x = F.layer_norm(x, (DIM,), T["norm.weight"], T["norm.bias"], LN_EPS)
    out = lin("head", x[:, :1])
    return out[:, 0]


# ---------------------------------------------------------------------------------------------
# Files


def read_safetensors(path):
    """(metadata, {name: float64 tensor}) of a file of F32 tensors."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = hdr.pop("__metadata__", {})
    out = {}
    for name, v in hdr.items():
        if v["dtype"] != "F32":
            raise SystemExit(f"{PROG}: {path}: {name}: unexpected dtype {v['dtype']}")
        b, e = v["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32) if e > b else \
            torch.zeros(0)
        out[name] = t.reshape(v["shape"]).double()
    return meta, out


def write_safetensors(path, tensors, metadata):
    """TENSORS: OrderedDict name -> (safetensors dtype, little-endian bytes, shape)."""
    header = OrderedDict([("__metadata__", OrderedDict(metadata))])
    offset = 0
    for name, (dtype, blob, shape) in tensors.items():
        header[name] = OrderedDict([("dtype", dtype), ("shape", list(shape)),
                                    ("data_offsets", [offset, offset + len(blob)])])
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for dtype, blob, shape in tensors.values():
            f.write(blob)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def f32(t):
    return ("F32", t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes(),
            tuple(t.shape))


def export(model, path, name, split):
    """Run tools/export_far.py's own code on MODEL's float32 state_dict."""
    with tempfile.TemporaryDirectory(prefix="numerics_ref.") as tmp:
        ckpt = os.path.join(tmp, name + ".pth")
        torch.save(model.state_dict(), ckpt)
        argv = [ckpt, path, "--heads", str(HEADS), "--name", name]
        if split:
            argv.append("--split-heads")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = export_far.main(argv)
    if rc != 0 or err.getvalue():
        raise SystemExit(f"{PROG}: exporting {name} failed (status {rc}): {err.getvalue()}")


# ---------------------------------------------------------------------------------------------

MODELS = (
    # name, seed, FAR blocks, pruned, split form
    ("ref_deit", 101, (), False, False),
    ("ref_far_mixed", 102, (1,), False, False),
    ("ref_far_pruned", 103, (0, 1), True, True),
)


def build(outdir, name, seed, far_blocks, pruned, split, dumpdir):
    torch.manual_seed(seed)
    model = TinyViT(far_blocks).eval()
    init_weights(model)
    kept = {}
    if pruned:
        gen = torch.Generator().manual_seed(seed + 1000)
        for b in far_blocks:
            kept[b] = prune_far(model.blocks[b].attn, gen)
    images = torch.randn(N_IMAGES, CHANS, IMG, IMG)  # float32

    ref = copy.deepcopy(model).double()
    with torch.no_grad():
        logits64 = ref(images.double())
    labels = logits64.argmax(1).to(torch.int32)

    mpath = os.path.join(outdir, name + ".model.safetensors")
    export(model, mpath, name, split)
    meta, T = read_safetensors(mpath)
    rec = OrderedDict()
    with torch.no_grad():
        check = forward_file(T, meta, images.double(), rec)
    diff = float((check - logits64).abs().max())
    if diff > 1e-10:
        raise SystemExit(f"{PROG}: {name}: the exported file's forward pass differs from the "
                         f"module by {diff:.3g}")

    ipath = os.path.join(outdir, name + ".inputs.safetensors")
    tensors = OrderedDict([
        ("images", f32(images)),
        ("labels", ("I32", labels.numpy().astype("<i4").tobytes(), tuple(labels.shape))),
        ("logits", f32(logits64)),
    ])
    write_safetensors(ipath, tensors, OrderedDict([
        ("source", "tools/numerics_ref.py"), ("model", name + ".model.safetensors"),
        ("reference", "float64 forward pass of the float32 weights and images"),
    ]))
    if dumpdir:
        dpath = os.path.join(dumpdir, name + ".layers.safetensors")
        write_safetensors(dpath, OrderedDict((k, f32(v)) for k, v in rec.items()),
                          OrderedDict([("source", "tools/numerics_ref.py --dump")]))

    top2 = logits64.topk(2, dim=1).values
    gap = float((top2[:, 0] - top2[:, 1]).min())
    spread = float(logits64.std(0).mean())
    print(f"{name}: {len(T)} tensors, far_form {meta['far_form']}, far_blocks "
          f"'{meta['far_blocks']}', {os.path.getsize(mpath)} + {os.path.getsize(ipath)} bytes")
    if kept:
        for b, k in kept.items():
            print(f"  block {b} kept units (head, dir): "
                  + " ".join(f"h{h}{'fb'[d]}={n}" for (h, d), n in sorted(k.items())))
    print(f"  |logit| max {float(logits64.abs().max()):.3f}, std across images (mean over "
          f"classes) {spread:.3f}, labels {labels.tolist()}, smallest top-1/top-2 gap "
          f"{gap:.3g}; file forward vs module {diff:.2g}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description="Write the reference models, inputs and "
                                 "logits of imcsim's FP32 forward-pass test (tests/data).")
    ap.add_argument("outdir", metavar="OUTDIR", help="directory to write into (tests/data)")
    ap.add_argument("--dump", metavar="DIR", help="also write every layer's float64 reference "
                    "output to DIR/NAME.layers.safetensors (debugging)")
    opts = ap.parse_args(argv)
    torch.set_num_threads(1)
    for d in (opts.outdir, opts.dump):
        if d and not os.path.isdir(d):
            ap.error(f"{d}: not a directory")
    for spec in MODELS:
        build(opts.outdir, *spec, opts.dump)
    return 0


if __name__ == "__main__":
    sys.exit(main())
