"""imcsim's shipped non-DeiT models, as PyTorch modules for tools/imcsim-import.

    tools/imcsim-import tools/zoo.py:vgg8 --input 1x3x32x32 -o vgg8.bin

Full shapes (make bench; README "Your own model"):
  vgg8            NeuroSim's VGG-8 for 32 x 32 CIFAR images (DNN+NeuroSim's usual example:
                  conv 128, 128, pool, 256, 256, pool, 512, 512, pool, fc 1024, fc 10; 3 x 3
                  kernels, padding 1, ReLU)
  resnet18        ResNet-18 (He et al., CVPR 2016, Table 1: basic blocks [2, 2, 2, 2] of 64,
                  128, 256, 512 channels), in the CIFAR form: a 3 x 3 stem, no max pool, 10 classes
  lstm_lm         a two-layer LSTM language model (Zaremba et al. 2014's medium model: 650
                  units, 35 steps) reading token ids through a 650-wide embedding and giving the
                  next token's scores after the last step, over a 10,000-word vocabulary
                  (import with --input 1x35 --tokens)
  bert_layer      one BERT-base encoder layer (Devlin et al. 2019: 768 wide, 12 heads, FFN
                  3072, post-norm, GELU) over 128 tokens, its mean token through a classifier
  vit_ls          a small ViT with LayerScale (Touvron et al., CaiT, ICCV 2021: x + gamma *
                  f(x)), DeiT-Ti's shapes: 192 wide, 3 heads, depth 12, 224 px images
The small_* functions are the same architectures at seeded small shapes whose inputs are square
images (token ids for small_lstm_lm), and small_gru a stacked bidirectional GRU, for the tests (tools/graph_ref.py writes tests/data/ref_*.safetensors from them).
"""
import torch
import torch.nn as nn


class VGG8(nn.Module):
    def __init__(self, widths=(128, 256, 512), fc=1024, classes=10, img=32):
        super().__init__()
        layers, c = [], 3
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, w, 3, padding=1),
                       nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        side = img // 2 ** len(widths)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, fc), nn.ReLU(),
                                        nn.Linear(fc, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, width=64, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        blocks, c = [], width
        for i, mult in enumerate((1, 2, 4, 8)):
            w = width * mult
            blocks += [BasicBlock(c, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            c = w
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        y = self.layers(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.pool(y), 1))


class LSTMLM(nn.Module):
    """Token ids in ([batch, steps], imported with --tokens), their embeddings through two LSTM
    layers, next-token scores after the last step out."""

    def __init__(self, embed=650, hidden=650, vocab=10000):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x):
        y = self.lstm(self.embed(x))[0]
        return self.decoder(y[:, -1])


class GRUClassifier(nn.Module):
    """A stacked bidirectional GRU over a one-channel image's rows, its last step classified."""

    def __init__(self, features=16, hidden=12, classes=10):
        super().__init__()
        self.gru = nn.GRU(features, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        y = self.gru(torch.flatten(x, 1, 2))[0]
        return self.fc(y[:, -1])


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n = x.shape[0], x.shape[1]
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.hd).permute(0, 2, 3, 1, 4)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        s = (q @ k.transpose(-2, -1)) * self.hd ** -0.5
        y = (s.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, -1)
        return self.proj(y)


class BertLayer(nn.Module):
    """A post-norm encoder layer over the rows of a one-channel image [1, tokens, dim], its mean
    token through a classifier."""

    def __init__(self, dim=768, heads=12, ffn=3072, classes=2):
        super().__init__()
        self.attention = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim, eps=1e-12)
        self.intermediate = nn.Linear(dim, ffn)
        self.act = nn.GELU()
        self.output = nn.Linear(ffn, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-12)
        self.classifier = nn.Linear(dim, classes)

    def forward(self, x):
        x = torch.flatten(x, 1, 2)
        x = self.norm1(x + self.attention(x))
        x = self.norm2(x + self.output(self.act(self.intermediate(x))))
        return self.classifier(x.mean(dim=1))


class LayerScaleBlock(nn.Module):
    def __init__(self, dim, heads, init=0.1):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.ls1 = nn.Parameter(init * torch.ones(dim))
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * dim, dim)
        self.ls2 = nn.Parameter(init * torch.ones(dim))

    def forward(self, x):
        x = x + self.ls1 * self.attn(self.norm1(x))
        return x + self.ls2 * self.fc2(self.act(self.fc1(self.norm2(x))))


class ViTLayerScale(nn.Module):
    def __init__(self, img=224, patch=16, dim=192, heads=3, depth=12, classes=1000):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, (img // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[LayerScaleBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def vgg8():
    return VGG8()


def resnet18():
    return ResNet18()


def lstm_lm():
    return LSTMLM()


def bert_layer():
    return BertLayer()


def vit_ls():
    return ViTLayerScale()


# ---- small seeded shapes for the tests: square image inputs, 10 classes ------------------------

def small_vgg8():
    return VGG8(widths=(8, 16, 32), fc=64)


def small_resnet18():
    return ResNet18(width=4)


def small_lstm_lm():
    return LSTMLM(embed=16, hidden=24, vocab=10)


def small_gru():
    return GRUClassifier()


def small_bert_layer():
    return BertLayer(dim=16, heads=2, ffn=48, classes=10)


def small_vit_ls():
    return ViTLayerScale(img=32, patch=8, dim=24, heads=3, depth=2, classes=10)
