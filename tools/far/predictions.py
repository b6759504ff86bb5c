#!/usr/bin/python3
"""PyTorch's FP32 top-1 prediction for every Fashion-MNIST test image, for each committed model
file (tests/data/fashion-mnist/{deit,far,far_pruned}.safetensors), so that
tests/unit/test_realmodel.c can hold imcsim's FP32 pass to PyTorch image by image, not only in
aggregate accuracy.

The models are rebuilt from the files themselves (not from training checkpoints, which are not
committed) with tools/far/common.py's modules: the DeiT and the masked FAR model load into
common.ViT as they are; the split-form pruned FAR model runs each head and direction as its own
dense torch.nn.LSTM of the kept units (the backward one over the reversed tokens), then the
head's head_proj -- the form the file stores. Each model's accuracy from these predictions must
equal the file's `pytorch_top1` metadata (the accuracy measured when it was trained), or the
tool fails.

Writes tests/data/fashion-mnist/pytorch_predictions.txt: a comment header, then one line per
model, `NAME DIGITS`, the 10,000 predicted classes in test-set order, one digit each.

    /usr/bin/python3 tools/far/predictions.py        (Debian's python3-torch and python3-numpy)
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

import common as C

MODELS = ["deit", "far", "far_pruned"]


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n, = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + n])
    meta = hdr.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, t in hdr.items():
        if t["dtype"] != "F32":
            raise SystemExit(f"{path}: {name}: dtype {t['dtype']}, this tool reads F32")
        b, e = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").copy()).reshape(
            t["shape"])
    return out, meta


class SplitFARAttn(nn.Module):
    """A FAR block in export_far.py's split form: per head and direction a dense LSTM over the
    head's slice of pre_proj's output, then the head's own head_proj."""

    def __init__(self, sd, a):
        super().__init__()
        self.pre = (sd[a + "pre_proj.weight"], sd[a + "pre_proj.bias"])
        self.post = (sd[a + "post_proj.weight"], sd[a + "post_proj.bias"])
        self.heads = []
        for h in range(C.HEADS):
            dirs = []
            for s in ("", "_reverse"):
                p = f"{a}lstm.{h}."
                wih = sd[p + "weight_ih_l0" + s]
                k = wih.shape[0] // 4
                lstm = nn.LSTM(C.HD, k, batch_first=True) if k else None
                if lstm:
                    with torch.no_grad():
                        lstm.weight_ih_l0.copy_(wih)
                        lstm.weight_hh_l0.copy_(sd[p + "weight_hh_l0" + s])
                        lstm.bias_ih_l0.copy_(sd[p + "bias_ih_l0" + s])
                        lstm.bias_hh_l0.copy_(sd[p + "bias_hh_l0" + s])
                dirs.append((lstm, k))
            self.heads.append((dirs, sd[f"{a}head_proj.{h}.weight"], sd[f"{a}head_proj.{h}.bias"]))

    def forward(self, x):
        y = torch.nn.functional.linear(x, *self.pre)
        outs = []
        for h, (dirs, w, b) in enumerate(self.heads):
            xs = y[:, :, h * C.HD:(h + 1) * C.HD]
            parts = []
            for d, (lstm, k) in enumerate(dirs):
                if not lstm:
                    parts.append(xs.new_zeros(xs.shape[0], xs.shape[1], 0))
                    continue
                inp = xs.flip(1) if d else xs
                o = lstm(inp)[0]
                parts.append(o.flip(1) if d else o)
            outs.append(torch.nn.functional.linear(torch.cat(parts, 2), w, b))
        return torch.nn.functional.linear(torch.cat(outs, 2), *self.post)


def build(name, sd, meta):
    far = meta.get("far_blocks", "") != ""
    model = C.ViT(far=far)
    if meta.get("far_form") == "split":
        own = {k: v for k, v in sd.items() if ".attn." not in k}
        missing = model.load_state_dict(own, strict=False).missing_keys
        if any(".attn." not in k for k in missing):
            raise SystemExit(f"{name}: tensors missing: {missing}")
        for i, blk in enumerate(model.blocks):
            blk.attn = SplitFARAttn(sd, f"blocks.{i}.attn.")
    else:
        model.load_state_dict(sd)
    return model.eval()


def main():
    torch.set_num_threads(int(os.environ.get("FAR_THREADS", "2")))
    x, y = C.load_split("t10k")
    lines = []
    for name in MODELS:
        sd, meta = read_safetensors(os.path.join(C.OUT, name + ".safetensors"))
        model = build(name, sd, meta)
        xn = (x - np.float32(float(meta["input_mean"]))) / np.float32(float(meta["input_std"]))
        with torch.no_grad():
            pred = torch.cat([model(xn[i:i + 500]).argmax(1) for i in range(0, len(xn), 500)])
        top1 = float((pred == y).float().mean())
        want = float(meta["pytorch_top1"])
        print(f"{name}: top-1 {top1:.4f}, the file's pytorch_top1 {want:.4f}")
        if f"{top1:.4f}" != f"{want:.4f}":
            raise SystemExit(f"{name}: these predictions give {top1:.4f}, not the recorded "
                             f"{want:.4f}: the rebuilt model is not the one that was measured")
        lines.append(name + " " + "".join(str(int(c)) for c in pred))
    out = os.path.join(C.OUT, "pytorch_predictions.txt")
    with open(out + ".tmp", "w") as f:
        f.write("# PyTorch FP32 top-1 class of each of the 10,000 Fashion-MNIST test images, in\n"
                "# test-set order, per model file; made by tools/far/predictions.py "
                f"(torch {torch.__version__}).\n")
        f.write("\n".join(lines) + "\n")
    os.replace(out + ".tmp", out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
