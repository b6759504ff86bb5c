#!/usr/bin/python3
"""Export a PyTorch DeiT or FAR vision transformer to an imcsim model file.

    export_far.py CHECKPOINT OUT.bin [--heads N] [--img-size S] [--patch-size P]
                  [--in-chans C] [--dtype f32|f16|bf16] [--split-heads] [--name NAME]

CHECKPOINT is anything torch.save() wrote that holds a timm-style VisionTransformer: a
state_dict, a dict wrapping one under 'model', 'state_dict' or 'model_state_dict' (an 'args'
entry next to it may give num_heads, img_size/input_size, patch_size, in_chans), or a whole
pickled nn.Module. The classes of a pickled module (timm, the FAR reference code) need not be
importable: their tensors are read without them. OUT.bin is a safetensors container (see
README.md, "Model files"), written without the safetensors package.

A FAR block (blocks.N.attn.{pre_proj, lstm, head_proj, post_proj}) is exported in the masked
single-LSTM form the FAR reference code trains (default), or with --split-heads as one dense
LSTM per head and direction with its pruned hidden units removed. Mask buffers (names containing
'mask') are multiplied into their weights and dropped.

Needs Debian's PyTorch (apt-get install python3-torch python3-numpy); run with /usr/bin/python3.
Errors are one line on stderr and exit status 2. Unpickling runs code: only export checkpoints
you trust.
"""

import argparse
import importlib.abc
import importlib.util
import inspect
import json
import math
import os
import re
import struct
import sys
import tempfile
import types
import warnings
from collections import OrderedDict

PROG = "export_far.py"

try:
    import torch
except ImportError:  # pragma: no cover - depends on the host
    sys.stderr.write(f"{PROG}: error: PyTorch is not importable by {sys.executable}; install "
                     "Debian's (apt-get install -y --no-install-recommends python3-torch "
                     "python3-numpy) and run with /usr/bin/python3\n")
    sys.exit(2)


class ExportError(Exception):
    """A problem with the input; reported as one line, exit status 2."""


def warn(msg):
    sys.stderr.write(f"{PROG}: warning: {msg}\n")


# Standard DeiT widths -> heads (docs/SOURCES.md, DeiT).
STANDARD_HEADS = {192: 3, 384: 6, 768: 12}

DTYPES = {
    "f32": (torch.float32, "F32"),
    "f16": (torch.float16, "F16"),
    "bf16": (torch.bfloat16, "BF16"),
}

LSTM_SUFFIXES = ("", "_reverse")
LSTM_PARAMS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


# ---------------------------------------------------------------------------------------------
# Loading


class _Stub:
    """Stands in for a class the pickle names but this process cannot import."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        slots = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
        if isinstance(state, dict):
            self.__dict__.update(state)
        if isinstance(slots, dict):
            self.__dict__.update(slots)


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path while loading: any module the pickle names that cannot be imported
    becomes an empty package whose attributes are _Stub subclasses. (torch.load's pickle_module
    argument cannot do this: torch 1.13 ignores it unless weights_only is set.)"""

    def __init__(self):
        self.modules, self.stubbed, self._classes = [], [], {}

    def find_spec(self, fullname, path, target=None):
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec):
        mod = types.ModuleType(spec.name)
        mod.__path__ = []

        def getattr_(name, _module=spec.name):
            if name.startswith("__"):
                raise AttributeError(name)
            key = (_module, name)
            if key not in self._classes:
                self.stubbed.append(f"{_module}.{name}")
                self._classes[key] = type(name, (_Stub,), {"__module__": _module})
            return self._classes[key]

        mod.__getattr__ = getattr_
        self.modules.append(spec.name)
        return mod

    def exec_module(self, module):
        pass


def load_checkpoint(path):
    """Returns (object, stubbed class names)."""
    kw = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kw["weights_only"] = False  # args namespaces and whole modules are not plain weights
    if not os.path.isfile(path):
        raise ExportError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < 100000000:
        raise ExportError(f"{path}: already a safetensors (imcsim model) file, not a torch.save() "
                          "checkpoint")
    try:
        return _quiet_load(path, kw), []
    except (ImportError, AttributeError) as exc:
        first = exc
    except Exception as exc:  # noqa: BLE001 - any load failure is the file's problem
        raise ExportError(f"{path}: cannot load with torch.load: {_one_line(exc)}") from None
    finder = _StubFinder()
    sys.meta_path.append(finder)
    try:
        obj = _quiet_load(path, kw)
    except Exception as exc:  # noqa: BLE001
        raise ExportError(f"{path}: cannot load with torch.load: {_one_line(first)} "
                          f"(and without those classes: {_one_line(exc)})") from None
    finally:
        sys.meta_path.remove(finder)
        for name in finder.modules:
            sys.modules.pop(name, None)
    return obj, finder.stubbed


def _quiet_load(path, kw):
    with warnings.catch_warnings():  # torch's source-code-changed and weights_only notices
        warnings.simplefilter("ignore")
        return torch.load(path, **kw)


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _is_module_like(obj):
    if isinstance(obj, torch.nn.Module):
        return True
    d = getattr(obj, "__dict__", None)
    return isinstance(d, dict) and "_parameters" in d and "_modules" in d


def _walk_module(obj, prefix, out, stack):
    """state_dict() of a module whose classes may be stubs: parameters, persistent buffers,
    then submodules, as nn.Module.state_dict() orders them."""
    if id(obj) in stack:
        return
    stack.add(id(obj))
    d = obj.__dict__
    for name, p in (d.get("_parameters") or {}).items():
        if p is not None:
            out[prefix + name] = p.detach()
    non_persistent = d.get("_non_persistent_buffers_set") or set()
    for name, b in (d.get("_buffers") or {}).items():
        if b is not None and name not in non_persistent:
            out[prefix + name] = b.detach()
    for name, m in (d.get("_modules") or {}).items():
        if m is not None and _is_module_like(m):
            _walk_module(m, prefix + name + ".", out, stack)
    stack.discard(id(obj))


def _module_state(obj, stubbed):
    if isinstance(obj, torch.nn.Module) and not stubbed:
        return OrderedDict(obj.state_dict())
    out = OrderedDict()
    _walk_module(obj, "", out, set())
    return out


def extract_state(obj, stubbed, path):
    """Returns (state_dict, args) from whatever torch.load returned."""
    args = None
    for _ in range(3):  # a wrapper may wrap a wrapper ({'model': {'state_dict': ...}})
        if _is_module_like(obj):
            return _module_state(obj, stubbed), args
        if not isinstance(obj, dict):
            break
        if args is None and obj.get("args") is not None:
            args = obj["args"]
        for key in ("model", "state_dict", "model_state_dict"):
            if key in obj and (isinstance(obj[key], dict) or _is_module_like(obj[key])):
                obj = obj[key]
                break
        else:
            tensors = OrderedDict((k, v) for k, v in obj.items()
                                  if isinstance(k, str) and torch.is_tensor(v))
            if tensors:
                return tensors, args
            break
    raise ExportError(f"{path}: no state_dict found (expected a state_dict, a dict holding one "
                      "under 'model', 'state_dict' or 'model_state_dict', or a pickled nn.Module)")


def args_get(args, *names):
    """An int-valued setting from the checkpoint's 'args' (Namespace, dict or stub)."""
    if args is None:
        return None
    if isinstance(args, dict):
        table = args
    elif hasattr(args, "__dict__"):
        table = vars(args)
    else:
        return None
    for name in names:
        v = table.get(name)
        if isinstance(v, (list, tuple)) and v and all(x == v[0] for x in v):
            v = v[0]  # e.g. img_size (224, 224)
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            return v
        if isinstance(v, str) and v.isdigit():
            return int(v)
    return None


# ---------------------------------------------------------------------------------------------
# Normalising the state dict


def normalise_names(sd):
    out = OrderedDict()
    for name, t in sd.items():
        new = name
        for prefix in ("module.", "_orig_mod."):  # DataParallel/DDP, torch.compile
            while new.startswith(prefix):
                new = new[len(prefix):]
        if new in out:
            raise ExportError(f"{name}: duplicate of {new} after stripping the wrapper prefix")
        if not torch.is_tensor(t):
            raise ExportError(f"{name}: not a tensor")
        out[new] = t.detach().cpu()
    return out


def far_prefixes(sd):
    """'blocks.N.attn.' for every block with an LSTM, in block order."""
    found = set()
    for name in sd:
        m = re.match(r"^(blocks\.(\d+)\.attn\.)lstm\.", name)
        if m:
            found.add((int(m.group(2)), m.group(1)))
    return [p for _, p in sorted(found)]


def apply_masks(sd, far):
    """Multiply mask tensors (names containing 'mask') into their weights, then drop them."""
    masks = [n for n in sd if "mask" in n.rsplit(".", 1)[-1].lower()]
    for mname in masks:
        mask = sd[mname]
        targets = []
        if mname.endswith("_mask"):  # torch.nn.utils.prune: W_orig * W_mask
            base = mname[:-len("_mask")]
            if base + "_orig" in sd:
                orig = sd[base + "_orig"]
                _check_mask_shape(mname, mask, base + "_orig", orig)
                _rename(sd, base + "_orig", base, orig * mask.to(orig.dtype))
                del sd[mname]
                continue
            if base in sd:
                targets = [base]
        if not targets:
            owner = next((p for p in far if mname.startswith(p)), None)
            leaf = mname.rsplit(".", 1)[-1].lower()
            if owner is not None:
                rev = "reverse" in leaf or "bwd" in leaf or "backward" in leaf
                fwd = "forward" in leaf or "fwd" in leaf
                sfx = [s for s in LSTM_SUFFIXES
                       if not ((rev and s == "") or (fwd and s == "_reverse"))]
                if "head" in leaf:
                    targets = [owner + "head_proj.weight"]
                elif "ih" in leaf:
                    targets = [owner + "lstm.weight_ih_l0" + s for s in sfx]
                elif "hh" in leaf:
                    targets = [owner + "lstm.weight_hh_l0" + s for s in sfx]
        targets = [t for t in targets if t in sd]
        if not targets:
            raise ExportError(f"{mname}: mask tensor whose weight is unknown (expected W_mask "
                              "next to W or W_orig, or mask_ih/mask_hh/mask_head in a FAR block)")
        for tname in targets:
            _check_mask_shape(mname, mask, tname, sd[tname])
            sd[tname] = sd[tname] * mask.to(sd[tname].dtype)
        del sd[mname]


def _rename(sd, old, new, value):
    """Replace entry OLD by NEW = VALUE at the same position."""
    items = [(new, value) if k == old else (k, v) for k, v in sd.items()]
    sd.clear()
    sd.update(items)


def _check_mask_shape(mname, mask, tname, t):
    if tuple(mask.shape) != tuple(t.shape):
        raise ExportError(f"{mname}: mask shape {list(mask.shape)} does not match {tname} "
                          f"{list(t.shape)}")


# ---------------------------------------------------------------------------------------------
# Structure checks and metadata


def need(sd, name, shape, what=""):
    """Require tensor NAME with SHAPE (None entries match any size); returns its shape."""
    if name not in sd:
        raise ExportError(f"{name}: missing{(' (' + what + ')') if what else ''}")
    got = tuple(sd[name].shape)
    if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
        want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        raise ExportError(f"{name}: shape {list(got)}, expected {want}")
    return got


def optional(sd, name, shape):
    if name in sd:
        need(sd, name, shape)


def infer_structure(sd, opts, args):
    """Check the timm names and shapes; return the metadata dict (values still ints)."""
    d, c, p, p2 = need(sd, "patch_embed.proj.weight", (None, None, None, None),
                       "patch embedding [D, C, p, p]")
    if p != p2:
        raise ExportError(f"patch_embed.proj.weight: non-square patch {p}x{p2} is not supported")
    optional(sd, "patch_embed.proj.bias", (d,))
    need(sd, "cls_token", (1, 1, d))
    dist = "dist_token" in sd
    if dist:
        need(sd, "dist_token", (1, 1, d))
    _, tokens, _ = need(sd, "pos_embed", (1, None, d))

    # Blocks.
    idx = sorted({int(m.group(1)) for m in (re.match(r"^blocks\.(\d+)\.", n) for n in sd) if m})
    if not idx:
        raise ExportError("blocks.0.norm1.weight: missing (no transformer blocks)")
    for want, got in enumerate(idx):
        if want != got:
            raise ExportError(f"blocks.{want}.norm1.weight: missing (blocks are numbered "
                              f"{idx[0]}..{idx[-1]} with gaps)")
    depth = len(idx)

    # Heads.
    heads = opts.heads
    src = "--heads"
    if heads is None:
        heads, src = args_get(args, "num_heads", "heads"), "the checkpoint's args.num_heads"
    if heads is None:
        heads, src = STANDARD_HEADS.get(d), f"the standard DeiT width {d}"
    if heads is None:
        raise ExportError(f"cls_token: embed_dim {d} is not a standard DeiT width "
                          f"({', '.join(f'{k}->{v}' for k, v in STANDARD_HEADS.items())}) and "
                          "the checkpoint has no args.num_heads; pass --heads N")
    if heads <= 0 or d % heads:
        raise ExportError(f"cls_token: embed_dim {d} is not divisible by num_heads {heads} "
                          f"(from {src})")

    # Geometry: option > checkpoint args > shapes; all must agree with the shapes.
    patch = opts.patch_size or args_get(args, "patch_size")
    if patch is not None and patch != p:
        raise ExportError(f"patch_embed.proj.weight: patch size {p} in the weights, {patch} "
                          "given")
    in_chans = opts.in_chans or args_get(args, "in_chans")
    if in_chans is not None and in_chans != c:
        raise ExportError(f"patch_embed.proj.weight: {c} input channels in the weights, "
                          f"{in_chans} given")
    prefix = 1 + int(dist)
    grid_n = tokens - prefix
    img = opts.img_size or args_get(args, "img_size", "input_size")
    if img is not None:
        if img % p:
            raise ExportError(f"pos_embed: image size {img} is not a multiple of patch size {p}")
        if (img // p) ** 2 != grid_n:
            raise ExportError(f"pos_embed: {tokens} positions, but image {img} / patch {p} "
                              f"gives {(img // p) ** 2} patches + {prefix}")
    else:
        g = math.isqrt(max(grid_n, 0))
        if grid_n <= 0 or g * g != grid_n:
            raise ExportError(f"pos_embed: {tokens} positions minus {prefix} is not a square "
                              "patch grid; pass --img-size")
        img = g * p

    far_blocks = []
    for b in idx:
        pre = f"blocks.{b}."
        need(sd, pre + "norm1.weight", (d,))
        need(sd, pre + "norm1.bias", (d,))
        need(sd, pre + "norm2.weight", (d,))
        need(sd, pre + "norm2.bias", (d,))
        hidden, _ = need(sd, pre + "mlp.fc1.weight", (None, d))
        optional(sd, pre + "mlp.fc1.bias", (hidden,))
        need(sd, pre + "mlp.fc2.weight", (d, hidden))
        optional(sd, pre + "mlp.fc2.bias", (d,))
        a = pre + "attn."
        is_far = any(n.startswith(a + "lstm.") for n in sd)
        if is_far:
            if a + "qkv.weight" in sd:
                raise ExportError(f"{a}qkv.weight: block {b} has both attention and FAR tensors")
            check_far_block(sd, a, d, heads)
            far_blocks.append(b)
        else:
            if a + "qkv.weight" not in sd:
                raise ExportError(f"{a}qkv.weight: missing (block {b} is neither attention nor "
                                  "FAR)")
            need(sd, a + "qkv.weight", (3 * d, d))
            optional(sd, a + "qkv.bias", (3 * d,))
            need(sd, a + "proj.weight", (d, d))
            optional(sd, a + "proj.bias", (d,))

    need(sd, "norm.weight", (d,))
    need(sd, "norm.bias", (d,))
    classes, _ = need(sd, "head.weight", (None, d), "classifier")
    optional(sd, "head.bias", (classes,))
    if "head_dist.weight" in sd:
        need(sd, "head_dist.weight", (classes, d))
        optional(sd, "head_dist.bias", (classes,))

    return OrderedDict([
        ("num_heads", heads), ("img_size", img), ("patch_size", p), ("in_chans", c),
        ("num_classes", classes), ("depth", depth), ("embed_dim", d),
    ]), far_blocks


FAR_KNOWN = ("pre_proj.weight", "pre_proj.bias", "head_proj.weight", "head_proj.bias",
             "post_proj.weight", "post_proj.bias") + tuple(
    f"lstm.{p}{s}" for s in LSTM_SUFFIXES for p in LSTM_PARAMS)


def check_far_block(sd, a, d, heads):
    # Older FAR code names the reused attention projection attn.proj; imcsim calls it post_proj.
    for leaf in ("weight", "bias"):
        if a + "proj." + leaf in sd and a + "post_proj." + leaf not in sd:
            _rename(sd, a + "proj." + leaf, a + "post_proj." + leaf, sd[a + "proj." + leaf])
    for n in sd:
        if n.startswith(a) and n[len(a):] not in FAR_KNOWN:
            raise ExportError(f"{n}: unsupported tensor in a FAR block (expected pre_proj, "
                              "lstm, head_proj, post_proj)")
    need(sd, a + "pre_proj.weight", (d, d))
    optional(sd, a + "pre_proj.bias", (d,))
    g4, _ = need(sd, a + "lstm.weight_ih_l0", (None, d))
    if g4 % 4:
        raise ExportError(f"{a}lstm.weight_ih_l0: {g4} rows is not 4 gates x hidden")
    h = g4 // 4
    if h % heads:
        raise ExportError(f"{a}lstm.weight_ih_l0: hidden size {h} is not divisible by "
                          f"num_heads {heads}")
    for s in LSTM_SUFFIXES:
        need(sd, a + "lstm.weight_ih_l0" + s, (4 * h, d))
        need(sd, a + "lstm.weight_hh_l0" + s, (4 * h, h))
        need(sd, a + "lstm.bias_ih_l0" + s, (4 * h,))
        need(sd, a + "lstm.bias_hh_l0" + s, (4 * h,))
    dout, _ = need(sd, a + "head_proj.weight", (None, 2 * h))
    if dout % heads:
        raise ExportError(f"{a}head_proj.weight: {dout} outputs is not divisible by num_heads "
                          f"{heads}")
    need(sd, a + "head_proj.bias", (dout,))
    need(sd, a + "post_proj.weight", (d, dout))
    optional(sd, a + "post_proj.bias", (d,))
    check_block_diagonal(sd, a, heads)


def _first_nonzero(t):
    nz = torch.nonzero(t)
    return tuple(int(v) for v in nz[0]) if len(nz) else None


def check_block_diagonal(sd, a, heads):
    """Per head and gate, LSTM rows may only read their own head's columns; head_proj rows of
    head h only h's forward and backward slices."""
    gate_names = "ifgo"
    for s in LSTM_SUFFIXES:
        for which in ("weight_ih_l0", "weight_hh_l0"):
            name = f"{a}lstm.{which}{s}"
            w = sd[name]
            rows, cols = w.shape
            hh, cin = rows // 4 // heads, cols // heads
            off = torch.ones(rows, cols, dtype=torch.bool)
            for g in range(4):
                for hd in range(heads):
                    r0 = g * (rows // 4) + hd * hh
                    off[r0:r0 + hh, hd * cin:(hd + 1) * cin] = False
            bad = _first_nonzero(w * off)
            if bad:
                r, col = bad
                g, hd = r // (rows // 4), (r % (rows // 4)) // hh
                raise ExportError(
                    f"{name}: non-zero entry [{r}, {col}] outside the per-head block diagonal "
                    f"(gate {gate_names[g]}, head {hd} reads column {col} of head {col // cin}; "
                    f"num_heads {heads}): an unmasked checkpoint or a wrong --heads?")
    name = a + "head_proj.weight"
    w = sd[name]
    dout, h2 = w.shape
    h, ho, hh = h2 // 2, dout // heads, h2 // 2 // heads
    off = torch.ones(dout, h2, dtype=torch.bool)
    for hd in range(heads):
        off[hd * ho:(hd + 1) * ho, hd * hh:(hd + 1) * hh] = False
        off[hd * ho:(hd + 1) * ho, h + hd * hh:h + (hd + 1) * hh] = False
    bad = _first_nonzero(w * off)
    if bad:
        r, col = bad
        raise ExportError(f"{name}: non-zero entry [{r}, {col}] outside head {r // ho}'s forward "
                          f"and backward slices (num_heads {heads}): an unmasked checkpoint or a "
                          "wrong --heads?")


# ---------------------------------------------------------------------------------------------
# Split form


def split_far_block(sd, a, heads):
    """Per-head, per-direction dense LSTMs with removable hidden units dropped.

    Hidden unit j of a head and direction is removed when dropping it provably leaves every
    output unchanged:
      * its W_ih and W_hh rows are zero in all four gates and its g-gate bias b_ih + b_hh is
        zero, so its cell and hidden state stay exactly 0 (FAR's pruning zeroes the rows; all
        biases zero is the common case), or
      * nothing reads it: its W_hh column and its head_proj column are zero.
    Returns (OrderedDict of lstm tensors, OrderedDict of head_proj tensors, kept counts,
    count of zero-weight units that had to be kept because of their biases)."""
    f32 = {s: {p: sd[f"{a}lstm.{p}{s}"].float() for p in LSTM_PARAMS} for s in LSTM_SUFFIXES}
    hp_w = sd[a + "head_proj.weight"].float()
    hp_b = sd[a + "head_proj.bias"].float()
    h = f32[""]["weight_hh_l0"].shape[1]
    d_in = f32[""]["weight_ih_l0"].shape[1]
    hh, cin = h // heads, d_in // heads
    ho = hp_w.shape[0] // heads
    lstm_out, hp_out, kept, stuck = OrderedDict(), OrderedDict(), [], 0
    for hd in range(heads):
        units = slice(hd * hh, (hd + 1) * hh)
        cols_hp = []
        for di, s in enumerate(LSTM_SUFFIXES):
            t = f32[s]
            wih = t["weight_ih_l0"].view(4, h, d_in)[:, units, hd * cin:(hd + 1) * cin]
            whh = t["weight_hh_l0"].view(4, h, h)[:, units, units]
            bih = t["bias_ih_l0"].view(4, h)[:, units]
            bhh = t["bias_hh_l0"].view(4, h)[:, units]
            hp = hp_w[hd * ho:(hd + 1) * ho, di * h + hd * hh:di * h + (hd + 1) * hh]
            rows_zero = (wih == 0).all(dim=2).all(dim=0) & (whh == 0).all(dim=2).all(dim=0)
            silent = rows_zero & ((bih[2] + bhh[2]) == 0)
            unread = (whh == 0).all(dim=1).all(dim=0) & (hp == 0).all(dim=0)
            keep = torch.nonzero(~(silent | unread)).flatten()
            stuck += int((rows_zero & ~silent & ~unread).sum())
            k = len(keep)
            name = f"{a}lstm.{hd}."
            lstm_out[name + "weight_ih_l0" + s] = wih[:, keep, :].reshape(4 * k, cin)
            lstm_out[name + "weight_hh_l0" + s] = whh[:, keep][:, :, keep].reshape(4 * k, k)
            lstm_out[name + "bias_ih_l0" + s] = bih[:, keep].reshape(4 * k)
            lstm_out[name + "bias_hh_l0" + s] = bhh[:, keep].reshape(4 * k)
            cols_hp.append(hp[:, keep])
            kept.append(k)
        hp_out[f"{a}head_proj.{hd}.weight"] = torch.cat(cols_hp, dim=1)
        hp_out[f"{a}head_proj.{hd}.bias"] = hp_b[hd * ho:(hd + 1) * ho]
    return lstm_out, hp_out, kept, stuck


# ---------------------------------------------------------------------------------------------
# Writing


def tensor_bytes(name, t, dtype_key):
    tdt, _ = DTYPES[dtype_key]
    src = t.detach().cpu()
    if not src.is_floating_point():
        raise ExportError(f"{name}: dtype {src.dtype} is not a floating-point tensor")
    if not bool(torch.isfinite(src).all()):
        raise ExportError(f"{name}: contains NaN or infinity")
    out = src.to(tdt).contiguous()
    if not bool(torch.isfinite(out).all()):
        raise ExportError(f"{name}: values overflow {dtype_key} (largest |x| = "
                          f"{float(src.abs().max()):g}); use --dtype f32")
    if tdt == torch.bfloat16:
        return out.view(torch.int16).numpy().astype("<i2").tobytes()
    return out.numpy().astype("<f4" if tdt == torch.float32 else "<f2").tobytes()


def write_safetensors(path, tensors, metadata, dtype_key):
    """Header first (sizes follow from the shapes), then each tensor converted as it is written,
    into a temporary file renamed into place: a failure leaves no partial OUT."""
    _, tag = DTYPES[dtype_key]
    size = 4 if tag == "F32" else 2
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((k, str(v)) for k, v in metadata.items())
    offset = 0
    for name, t in tensors.items():
        n = t.numel() * size
        header[name] = OrderedDict([("dtype", tag), ("shape", [int(s) for s in t.shape]),
                                    ("data_offsets", [offset, offset + n])])
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # data section 8-byte aligned
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".export_far.", dir=directory)
    except OSError as exc:
        raise ExportError(f"{path}: cannot create a file in {directory}: "
                          f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for name, t in tensors.items():
                blob = tensor_bytes(name, t, dtype_key)
                if len(blob) != header[name]["data_offsets"][1] - header[name]["data_offsets"][0]:
                    raise ExportError(f"{name}: internal size mismatch")
                f.write(blob)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return offset


# ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{PROG}: error: {message} (see --help)\n")
        sys.exit(2)


def parse_args(argv):
    ap = _Parser(prog=PROG, description="Export a PyTorch DeiT or FAR vision transformer "
                 "(timm VisionTransformer names) to an imcsim model file (safetensors).")
    ap.add_argument("checkpoint", metavar="CHECKPOINT",
                    help="torch.save()d state_dict, {'model'|'state_dict'|'model_state_dict': "
                         "...} or whole nn.Module")
    ap.add_argument("out", metavar="OUT.bin", help="model file to write (safetensors)")
    ap.add_argument("--heads", type=int, metavar="N",
                    help="attention heads (default: checkpoint args, else 192->3, 384->6, "
                         "768->12)")
    ap.add_argument("--img-size", type=int, metavar="S", help="input image size in pixels "
                    "(default: checkpoint args, else from pos_embed)")
    ap.add_argument("--patch-size", type=int, metavar="P", help="patch size (checked against "
                    "patch_embed.proj.weight)")
    ap.add_argument("--in-chans", type=int, metavar="C", help="input channels (checked against "
                    "patch_embed.proj.weight)")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f32",
                    help="element type of every tensor (default f32)")
    ap.add_argument("--split-heads", action="store_true",
                    help="write FAR blocks as one dense LSTM per head and direction, pruned "
                         "hidden units removed (default: the masked single-LSTM form)")
    ap.add_argument("--name", help="model_name metadata (default: the checkpoint file stem)")
    opts = ap.parse_args(argv)
    for key in ("heads", "img_size", "patch_size", "in_chans"):
        v = getattr(opts, key)
        if v is not None and v <= 0:
            ap.error(f"--{key.replace('_', '-')} must be positive, not {v}")
    return opts


def export(opts):
    obj, stubbed = load_checkpoint(opts.checkpoint)
    if stubbed:
        warn(f"read the pickled module without importing {', '.join(sorted(set(stubbed)))}")
    sd, args = extract_state(obj, stubbed, opts.checkpoint)
    sd = normalise_names(sd)
    far = far_prefixes(sd)
    apply_masks(sd, far)
    meta, far_blocks = infer_structure(sd, opts, args)
    heads = meta["num_heads"]

    out = OrderedDict()
    if opts.split_heads and far:
        splits = {}
        for a in far:
            lstm_t, hp_t, kept, stuck = split_far_block(sd, a, heads)
            splits[a] = (lstm_t, hp_t)
            if stuck:
                warn(f"{a[:-1]}: kept {stuck} hidden unit(s) whose weights are all zero but "
                     "whose biases give a non-zero state that head_proj or the recurrence reads "
                     "(dropping them would change the outputs)")
        emitted = set()
        for name, t in sd.items():
            a = next((p for p in far if name.startswith(p)), None)
            if a is not None and name.startswith(a + "lstm."):
                if (a, "lstm") not in emitted:
                    out.update(splits[a][0])
                    emitted.add((a, "lstm"))
                continue
            if a is not None and name.startswith(a + "head_proj."):
                if (a, "hp") not in emitted:
                    out.update(splits[a][1])
                    emitted.add((a, "hp"))
                continue
            out[name] = t
    else:
        out = sd

    name = opts.name or os.path.splitext(os.path.basename(opts.checkpoint))[0]
    metadata = OrderedDict([("format", "imcsim-model"), ("format_version", "1")])
    metadata.update(meta)
    metadata["model_name"] = name
    metadata["source"] = "tools/export_far.py"
    metadata["far_blocks"] = ",".join(str(b) for b in far_blocks)
    metadata["far_form"] = "split" if opts.split_heads else "masked"

    known = re.compile(r"^(patch_embed\.proj\.(weight|bias)|cls_token|dist_token|pos_embed|"
                       r"norm\.(weight|bias)|head(_dist)?\.(weight|bias)|"
                       r"blocks\.\d+\.(norm[12]|mlp\.fc[12]|attn\.(qkv|proj|pre_proj|"
                       r"post_proj|head_proj(\.\d+)?))\.(weight|bias)|"
                       r"blocks\.\d+\.attn\.lstm\.(\d+\.)?(weight|bias)_(ih|hh)_l0(_reverse)?)$")
    for n in out:
        if not known.match(n):
            warn(f"{n}: not part of the imcsim model format; exported as is")
    write_safetensors(opts.out, out, metadata, opts.dtype)


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        export(opts)
    except ExportError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        sys.stderr.write(f"{PROG}: error: {where}{exc.strerror or exc}\n")
        return 2
    except Exception as exc:  # noqa: BLE001 - keep the one-line contract for surprises too
        sys.stderr.write(f"{PROG}: error: internal error: {_one_line(exc)}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
