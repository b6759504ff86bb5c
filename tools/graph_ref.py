#!/usr/bin/python3
"""Reference logits for imcsim's forward pass on imported (generic-graph) models.

    graph_ref.py OUTDIR
    graph_ref.py --full OUTDIR
    graph_ref.py --compare REF.inputs.safetensors LOGITS.safetensors

Imports the small seeded shapes of tools/zoo.py with tools/imcsim-import's own code and writes,
per model NAME, OUTDIR/ref_NAME.model.safetensors (exactly what imcsim-import writes) and
OUTDIR/ref_NAME.inputs.safetensors: images [8, C, S, S] F32 drawn from N(0, 1), labels [8] I32
(the argmax of the reference, so the file is also a --dataset) and logits [8, 10] F32: PyTorch's
output for those images, computed in float64 from the file's float32 weights.

Models (tools/zoo.py): vgg8 (widths 8, 16, 32, fc 64), resnet18 (width 4: 4..32 channels),
lstm_lm (16 token ids from a 10-word vocabulary, embedded 16 wide, 2 layers of 24 units; its
images are the ids, [8, 1, 1, 16]), bert_layer (16 wide, 2 heads,
FFN 48, 16 tokens), vit_ls (LayerScale ViT: 24 wide, 3 heads, depth 2, 32 px images in 8 px
patches), gru (2 bidirectional layers of 12 units over 16 steps). Every weight matrix or kernel is drawn from N(0, 2 / fan_in) (He et al. 2015: the
activations keep their scale through ReLU layers, so the logits differ clearly between images;
PyTorch's default initialization shrinks them until every image gets the same label), biases
from N(0, 0.1^2), LayerNorm weights from 1 + N(0, 0.1^2); BatchNorm running statistics and
affine parameters are drawn too (mean N(0, 0.1^2), variance 0.5 + U(0, 1), weight
1 + N(0, 0.1^2), bias N(0, 0.1^2); eps 0.1 rather than 1e-5, so that eps matters at the
tests' tolerance), as are the LayerScale gammas (0.1 + N(0, 0.05^2)), so that
nothing reduces to an identity.

--full does the same for the full shapes (tools/zoo.py's vgg8, resnet18, lstm_lm, bert_layer,
vit_ls at the inputs docs/PERFORMANCE.md times) with 2 images each: `make bench` (tools/bench)
runs imcsim's forward pass on them and compares its FP32 logits with these: --compare reads
the reference and imcsim's --logits file, prints the worst |FP32 - reference| relative to each
image's largest reference logit (and the IMC pass's, for information), and exits 1 when the FP32
one exceeds 1e-4 (issue #17's tolerance; tests/unit/test_forward.c holds the small shapes to it)
or a top-1 label differs.

Needs Debian's PyTorch (/usr/bin/python3). Seeded and single-threaded: the same bytes each run.
"""
import importlib.machinery
import importlib.util
import os
import sys
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# (name, input shape, seed): seeds 1..5 in order; the GRU's is the first after them whose
# images all have a top-1 margin of at least 0.02, and the LSTM LM's (since it reads token ids)
# the first after 7 that does
MODELS = [("vgg8", [3, 32, 32], 1), ("resnet18", [3, 32, 32], 2), ("lstm_lm", [16], 12),
          ("bert_layer", [1, 16, 16], 4), ("vit_ls", [3, 32, 32], 5), ("gru", [1, 16, 16], 7)]
FULL = [("vgg8", [3, 32, 32], 1), ("resnet18", [3, 32, 32], 2), ("lstm_lm", [35], 3),
        ("bert_layer", [1, 128, 768], 4), ("vit_ls", [3, 224, 224], 5)]


def load(path, name):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def randomize(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and not name.endswith(("cls_token", "pos_embed")):
                p.copy_(torch.randn(p.shape, generator=gen) * (2.0 / (p.numel() / p.shape[0])) ** 0.5)
            elif name.rsplit(".", 1)[-1].startswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.copy_(1 + 0.1 * torch.randn(m.weight.shape, generator=gen))
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=gen))
                m.weight.copy_(1 + 0.1 * torch.randn(m.num_features, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.num_features, generator=gen))
                m.eps = 0.1  # not 1e-5: a pass that dropped eps would then be seen
        for name, p in model.named_parameters():
            if name.endswith(("ls1", "ls2")):
                p.copy_(0.1 + 0.05 * torch.randn(p.shape, generator=gen))


def main(outdir, full=False):
    torch.set_num_threads(1)
    imp = load(os.path.join(HERE, "imcsim-import"), "imcsim_import")
    zoo = load(os.path.join(HERE, "zoo.py"), "zoo")
    ef = imp._export_far()
    for name, shape, seed in FULL if full else MODELS:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(100 + seed)
        model = getattr(zoo, name if full else f"small_{name}")()
        randomize(model, gen)
        model.eval()
        mpath = os.path.join(outdir, f"ref_{name}.model.safetensors")
        emb = [m for m in model.modules() if isinstance(m, torch.nn.Embedding)]
        imp.import_model(model, [1] + shape, mpath, name, ef, bool(emb))
        n = 2 if full else 8
        if emb:  # token ids in: drawn over the vocabulary, written as [n, 1, 1, steps] numbers
            ids = torch.randint(0, emb[0].num_embeddings, [n] + shape, generator=gen)
            with torch.no_grad():
                logits = model.double()(ids)
            images = ids.float().reshape(n, 1, 1, -1)
        else:
            images = torch.randn([n] + shape, generator=gen)
            with torch.no_grad():
                logits = model.double()(images.double())
        labels = logits.argmax(1).to(torch.int32)
        tensors = OrderedDict([("images", images.float()), ("logits", logits.float())])
        ipath = os.path.join(outdir, f"ref_{name}.inputs.safetensors")
        write_inputs(ipath, tensors, labels, name)
        spread = float(logits.std(0).mean())
        top2 = logits.topk(2, dim=1).values
        margin = float((top2[:, 0] - top2[:, 1]).min())
        print(f"{name}: logits std across images {spread:.3f}, labels {labels.tolist()}, "
              f"smallest top-1 margin {margin:.3f}")


def write_inputs(path, tensors, labels, name):
    """images and logits F32, labels I32, in one safetensors file."""
    import json
    import struct
    blobs = OrderedDict((k, v.contiguous().numpy().astype("<f4").tobytes()) for k, v in tensors.items())
    blobs["labels"] = labels.numpy().astype("<i4").tobytes()
    header, offset = OrderedDict(), 0
    header["__metadata__"] = {"model": name, "source": "tools/graph_ref.py"}
    for k, b in blobs.items():
        t = tensors[k] if k in tensors else labels
        header[k] = {"dtype": "I32" if k == "labels" else "F32", "shape": list(t.shape),
                     "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs.values()))


def read_safetensors(path):
    """{name: float64 tensor} of a safetensors file of F32 / I32 tensors."""
    import json
    import struct
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    out = {}
    for k, v in json.loads(data[8:8 + n]).items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        dt = {"F32": torch.float32, "I32": torch.int32}[v["dtype"]]
        out[k] = torch.frombuffer(bytearray(data[8 + n + b:8 + n + e]), dtype=dt).reshape(v["shape"]).double()
    return out


def compare(ref_path, logits_path):
    ref, got = read_safetensors(ref_path)["logits"], read_safetensors(logits_path)
    scale = ref.abs().amax(1)
    fp32 = float(((got["fp32"] - ref).abs().amax(1) / scale).max())
    imc = float(((got["imc"] - ref).abs().amax(1) / scale).max())
    same = bool((got["fp32"].argmax(1) == ref.argmax(1)).all())
    print(f"{os.path.basename(ref_path)}: FP32 worst |error| / max |logit| {fp32:.2e} "
          f"(IMC {imc:.2e}), top-1 {'as PyTorch' if same else 'DIFFERS'}")
    return 0 if fp32 <= 1e-4 and same else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--compare"] and len(args) == 3:
        sys.exit(compare(args[1], args[2]))
    full = args[:1] == ["--full"]
    if len(args) != 1 + full:
        sys.exit(__doc__)
    main(args[-1], full)
