"""Converters: upstream checkpoints -> zoo Hub-repo folders.

For every layout the test writes a small model with the upstream module
names (from reading the upstream source; nothing imported from it), saves
its state dict as a pickle (.pth via torch.save) and as safetensors,
converts it with zoo.convert / `zoo convert`, loads the result strictly into
the zoo model built from the written config.json, and compares outputs on
fixed inputs with the upstream model's.

Upstream files read (commits as the search tool stores them):
pytorch/examples dcgan/main.py 00b1e34c; eriklindernoren/PyTorch-GAN
implementations/gan/gan.py 022e6aa2, wgan/wgan.py c5d6be17;
w86763777/pytorch-gan-collections source/models/sngan.py f553c71b;
POSTECH-CVLab/PyTorch-StudioGAN src/models/resnet.py 0728f032,
src/models/deep_conv.py faf09313, src/utils/model_ops.py (batchnorm_2d eps 1e-4).
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from safetensors.torch import save_file
from torch import nn

import zoo
from _gan_helpers import randomize
from zoo.cards import check_card
from zoo.convert import convert, legacy_spectral_norm_keys, read_checkpoint
from zoo.repofolder import check_repo_folder
from zoo.loading import load_state

# -- upstream-layout models, written here --------------------------------------------


class ExamplesNetG(nn.Module):  # pytorch/examples dcgan _netG, 64 px
    def __init__(self, nz, ngf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z):
        return self.main(z)


class ExamplesNetD(nn.Module):  # pytorch/examples dcgan _netD, 64 px
    def __init__(self, ndf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
        )  # fmt: skip


class ErikG(nn.Module):  # eriklindernoren implementations/gan Generator
    def __init__(self, latent_dim=100, shape=(1, 28, 28)):
        super().__init__()
        self.shape = shape

        def block(i, o, normalize=True):
            layers = [nn.Linear(i, o)]
            if normalize:
                layers.append(nn.BatchNorm1d(o, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        n = shape[0] * shape[1] * shape[2]
        self.model = nn.Sequential(
            *block(latent_dim, 128, normalize=False), *block(128, 256), *block(256, 512), *block(512, 1024),
            nn.Linear(1024, n), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z):
        return self.model(z).view(z.shape[0], *self.shape)


class W867CNNG(nn.Module):  # w86763777 sngan.Generator (M=4)
    def __init__(self, z_dim, ch=512, nc=3):
        super().__init__()
        self.ch = ch
        self.linear = nn.Linear(z_dim, 16 * ch)
        c = [ch, ch // 2, ch // 4, ch // 8]
        self.main = nn.Sequential(
            nn.BatchNorm2d(c[0]), nn.ReLU(True),
            nn.ConvTranspose2d(c[0], c[1], 4, 2, 1), nn.BatchNorm2d(c[1]), nn.ReLU(True),
            nn.ConvTranspose2d(c[1], c[2], 4, 2, 1), nn.BatchNorm2d(c[2]), nn.ReLU(True),
            nn.ConvTranspose2d(c[2], c[3], 4, 2, 1), nn.BatchNorm2d(c[3]), nn.ReLU(True),
            nn.Conv2d(c[3], nc, 3, 1, 1), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z):
        return self.main(self.linear(z).view(z.shape[0], -1, 4, 4))


class W867ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.residual = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(), nn.Upsample(scale_factor=2), nn.Conv2d(cin, cout, 3, 1, 1),
            nn.BatchNorm2d(cout), nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1),
        )  # fmt: skip
        self.shortcut = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(cin, cout, 1, 1, 0))

    def forward(self, x):
        return self.residual(x) + self.shortcut(x)


class W867ResG(nn.Module):  # w86763777 sngan.ResGenerator32 (width ch instead of 256)
    def __init__(self, z_dim, ch=256):
        super().__init__()
        self.ch = ch
        self.linear = nn.Linear(z_dim, 16 * ch)
        self.blocks = nn.Sequential(W867ResBlock(ch, ch), W867ResBlock(ch, ch), W867ResBlock(ch, ch))
        self.output = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(True), nn.Conv2d(ch, 3, 3, 1, 1), nn.Tanh())

    def forward(self, z):
        return self.output(self.blocks(self.linear(z).view(-1, self.ch, 4, 4)))


class W867CNND(nn.Module):  # w86763777 sngan.Discriminator (M=32), old-style spectral norm
    def __init__(self, ch=512):
        super().__init__()
        c = [ch // 8, ch // 4, ch // 4, ch // 2, ch // 2, ch, ch]
        layers, cin = [], 3
        for i, cout in enumerate(c):
            k, s = (4, 2) if i % 2 == 1 else (3, 1)
            layers += [nn.utils.spectral_norm(nn.Conv2d(cin, cout, k, s, 1)), nn.LeakyReLU(0.1, inplace=True)]
            cin = cout
        self.main = nn.Sequential(*layers)
        self.linear = nn.utils.spectral_norm(nn.Linear(4 * 4 * ch, 1))

    def forward(self, x):
        return self.linear(torch.flatten(self.main(x), 1))


def _bn(c):  # StudioGAN model_ops.batchnorm_2d
    return nn.BatchNorm2d(c, eps=1e-4, momentum=0.1)


class StudioGenBlock(nn.Module):  # StudioGAN resnet.GenBlock, unconditional
    def __init__(self, cin, cout, sn=False):
        super().__init__()
        wrap = nn.utils.spectral_norm if sn else (lambda m: m)
        self.bn1, self.bn2 = _bn(cin), _bn(cout)
        self.activation = nn.ReLU(inplace=True)
        self.conv2d0 = wrap(nn.Conv2d(cin, cout, 1, 1, 0))
        self.conv2d1 = wrap(nn.Conv2d(cin, cout, 3, 1, 1))
        self.conv2d2 = wrap(nn.Conv2d(cout, cout, 3, 1, 1))

    def forward(self, x):
        x0 = x
        x = self.conv2d1(F.interpolate(self.activation(self.bn1(x)), scale_factor=2, mode="nearest"))
        x = self.conv2d2(self.activation(self.bn2(x)))
        return x + self.conv2d0(F.interpolate(x0, scale_factor=2, mode="nearest"))


class StudioResG(nn.Module):  # StudioGAN resnet.Generator, img_size 32
    def __init__(self, z_dim, g_conv_dim, sn=False):
        super().__init__()
        wrap = nn.utils.spectral_norm if sn else (lambda m: m)
        self.c = g_conv_dim * 4
        self.linear0 = wrap(nn.Linear(z_dim, self.c * 16))
        self.blocks = nn.ModuleList([nn.ModuleList([StudioGenBlock(self.c, self.c, sn)]) for _ in range(3)])
        self.bn4 = _bn(self.c)
        self.activation = nn.ReLU(inplace=True)
        self.conv2d5 = wrap(nn.Conv2d(self.c, 3, 3, 1, 1))

    def forward(self, z):
        act = self.linear0(z).view(-1, self.c, 4, 4)
        for blocklist in self.blocks:
            for block in blocklist:
                act = block(act)
        return torch.tanh(self.conv2d5(self.activation(self.bn4(act))))


class StudioDeepConvBlock(nn.Module):  # StudioGAN deep_conv.GenBlock, unconditional
    def __init__(self, cin, cout):
        super().__init__()
        self.deconv0 = nn.ConvTranspose2d(cin, cout, 4, 2, 1)
        self.bn0 = _bn(cout)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.activation(self.bn0(self.deconv0(x)))


class StudioDeepConvG(nn.Module):  # StudioGAN deep_conv.Generator (widths scaled by 1/k)
    def __init__(self, z_dim, k=1):
        super().__init__()
        self.in_dims = [512 // k, 256 // k, 128 // k]
        self.out_dims = [256 // k, 128 // k, 64 // k]
        self.linear0 = nn.Linear(z_dim, self.in_dims[0] * 16)
        self.blocks = nn.ModuleList([nn.ModuleList([StudioDeepConvBlock(i, o)]) for i, o in zip(self.in_dims, self.out_dims)])
        self.conv4 = nn.Conv2d(self.out_dims[-1], 3, 3, 1, 1)

    def forward(self, z):
        act = self.linear0(z).view(-1, self.in_dims[0], 4, 4)
        for blocklist in self.blocks:
            for block in blocklist:
                act = block(act)
        return torch.tanh(self.conv4(act))


# -- helpers -------------------------------------------------------------------------


def _save_both(module, tmp_path, wrap=lambda sd: sd):
    tmp_path.mkdir(parents=True, exist_ok=True)
    sd = {k: v.clone() for k, v in module.state_dict().items()}
    pth, st = tmp_path / "upstream.pth", tmp_path / "upstream.safetensors"
    torch.save(wrap(sd), pth)
    save_file(sd, str(st))
    return pth, st


def _load_converted(out_dir):
    meta = json.loads((out_dir / "config.json").read_text())
    with torch.device("meta"):
        model = zoo.build(meta["architecture"], **meta["config"])
    load_state(model, str(out_dir / "model.safetensors"), name="converted")
    return model.eval(), meta


def _check(upstream, arch, layout, tmp_path, z, *, config=None, wrap=lambda sd: sd, atol=1e-5):
    upstream.eval()
    with torch.no_grad():
        expected = upstream(z)
    results = []
    for i, src in enumerate(_save_both(upstream, tmp_path, wrap)):
        out = tmp_path / f"out{i}"
        res = convert(arch, [src], out, layout=layout, config=config)
        model, meta = _load_converted(out)
        assert meta["source"]["layout"] == layout and meta["verified"] is False
        assert meta["weights"]["sha256"] == res.sha256
        with torch.no_grad():
            got = model(z)
        assert got.shape == expected.shape
        assert torch.allclose(got, expected, atol=atol), float((got - expected).abs().max())
        card = (out / "README.md").read_text()
        assert "Not verified here" in card and src.name in card
        assert check_card(card, needs_metrics=False) == []
        assert check_repo_folder(out, needs_metrics=False).architecture == arch
        results.append(meta)
    return results


# -- one test per layout -------------------------------------------------------------


def test_pytorch_examples_dcgan(tmp_path):
    up = ExamplesNetG(nz=12, ngf=4, nc=3)
    randomize(up, 1, scale=0.3)
    z = torch.randn(3, 12, 1, 1, generator=torch.Generator().manual_seed(0))
    metas = _check(up, "dcgan", "pytorch-examples", tmp_path, z)
    assert metas[0]["config"] == {"nz": 12, "ngf": 4, "ndf": 64, "nc": 3, "image_size": 64}


def test_pytorch_examples_old_checkpoint_without_num_batches_tracked_in_dataparallel(tmp_path):
    up = ExamplesNetG(nz=8, ngf=4, nc=1).eval()
    randomize(up, 2, scale=0.3)
    sd = {"module." + k: v for k, v in up.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save({"netG": sd, "epoch": 3}, tmp_path / "netG_epoch_3.pth")
    convert("dcgan", [tmp_path / "netG_epoch_3.pth"], tmp_path / "out")
    model, _ = _load_converted(tmp_path / "out")
    z = torch.randn(2, 8, 1, 1)
    with torch.no_grad():
        assert torch.allclose(model(z), up(z), atol=1e-5)


def test_pytorch_examples_rejects_a_discriminator(tmp_path):
    torch.save(ExamplesNetD(ndf=4, nc=3).state_dict(), tmp_path / "netD.pth")
    with pytest.raises(zoo.ConversionError, match="discriminator"):
        convert("dcgan", [tmp_path / "netD.pth"], tmp_path / "out")


def test_eriklindernoren_gan(tmp_path):
    up = ErikG()
    randomize(up, 3, scale=0.2)
    z = torch.randn(4, 100, generator=torch.Generator().manual_seed(1))
    metas = _check(up, "gan", "eriklindernoren", tmp_path, z)
    assert metas[0]["config"] == {"nz": 100, "nc": 1, "image_size": 28, "bn_eps": 0.8}


def test_eriklindernoren_wgan_and_wgan_gp(tmp_path):
    up = ErikG(latent_dim=16)
    randomize(up, 4, scale=0.2)
    z = torch.randn(2, 16)
    for arch in ("wgan", "wgan-gp"):
        metas = _check(up, arch, "eriklindernoren", tmp_path / arch, z)
        assert metas[0]["config"]["net"] == "mlp" and metas[0]["config"]["image_size"] == 28


def test_wgan_pytorch_examples_layout(tmp_path):
    up = ExamplesNetG(nz=8, ngf=4, nc=1)
    randomize(up, 5, scale=0.3)
    metas = _check(up, "wgan-gp", "pytorch-examples", tmp_path, torch.randn(2, 8, 1, 1), config={"critic_norm": "layer"})
    assert metas[0]["config"]["net"] == "dcgan" and metas[0]["config"]["critic_norm"] == "layer"


def test_w86763777_sngan_cnn(tmp_path):
    up = W867CNNG(z_dim=16, ch=32, nc=1)
    randomize(up, 6, scale=0.3)
    metas = _check(up, "sngan", "w86763777", tmp_path, torch.randn(3, 16), wrap=lambda sd: {"net_G": sd, "net_D": {}, "step": torch.tensor(5)})
    assert metas[0]["config"]["net"] == "cnn" and metas[0]["config"]["g_ch"] == 32 and metas[0]["config"]["nc"] == 1


def test_w86763777_sngan_resnet(tmp_path):
    up = W867ResG(z_dim=16, ch=16)
    randomize(up, 7, scale=0.3)
    metas = _check(up, "sngan", "w86763777", tmp_path, torch.randn(3, 16))
    assert metas[0]["config"]["net"] == "resnet" and metas[0]["config"]["g_ch"] == 16


def test_w86763777_discriminator_keys_map_onto_parametrizations(tmp_path):
    # a discriminator saved with the old torch.nn.utils.spectral_norm loads into the zoo's after renaming
    from _gan_helpers import component

    up = W867CNND(ch=32).eval()
    randomize(up, 8, scale=0.3)
    d = component("sngan", net="cnn", d_ch=32).eval()
    d.load_state_dict(legacy_spectral_norm_keys(up.state_dict()), strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(d(x), up(x).view(-1), atol=1e-5)
    torch.save(up.state_dict(), tmp_path / "netD.pth")
    with pytest.raises(zoo.ConversionError, match="discriminator"):
        convert("sngan", [tmp_path / "netD.pth"], tmp_path / "out", layout="w86763777")


def test_studiogan_resnet(tmp_path):
    up = StudioResG(z_dim=12, g_conv_dim=4)
    randomize(up, 9, scale=0.3)
    metas = _check(up, "sngan", "studiogan-resnet", tmp_path, torch.randn(2, 12), wrap=lambda sd: {"state_dict": sd, "seed": 0})
    assert metas[0]["config"]["bn_eps"] == 1e-4 and metas[0]["config"]["g_ch"] == 16


def test_studiogan_resnet_with_generator_spectral_norm_is_folded(tmp_path):
    up = StudioResG(z_dim=12, g_conv_dim=4, sn=True)
    randomize(up, 10, scale=0.3)
    _check(up, "sngan", "studiogan-resnet", tmp_path, torch.randn(2, 12), atol=1e-4)


def test_studiogan_deep_conv(tmp_path):
    up = StudioDeepConvG(z_dim=10, k=8)
    randomize(up, 11, scale=0.3)
    metas = _check(up, "sngan", "studiogan-deep-conv", tmp_path, torch.randn(2, 10))
    assert metas[0]["config"]["g_linear_bn"] is False and metas[0]["config"]["g_ch"] == 64


# -- errors and the CLI ----------------------------------------------------------------


class NotATensor:
    pass


def test_pickles_are_read_with_weights_only(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"main.0.weight": torch.zeros(1), "obj": NotATensor()}, path)
    with pytest.raises(zoo.ConversionError, match="weights_only"):
        read_checkpoint(path)


def test_layout_must_be_chosen_and_config_must_agree(tmp_path):
    up = ExamplesNetG(nz=8, ngf=4, nc=1)
    torch.save(up.state_dict(), tmp_path / "g.pth")
    with pytest.raises(zoo.ConversionError, match="--layout"):
        convert("sngan", [tmp_path / "g.pth"], tmp_path / "o1")
    with pytest.raises(zoo.ConversionError, match="no layout 'nope'"):
        convert("dcgan", [tmp_path / "g.pth"], tmp_path / "o2", layout="nope")
    with pytest.raises(zoo.ConversionError, match="nz=9 contradicts"):
        convert("dcgan", [tmp_path / "g.pth"], tmp_path / "o3", config={"nz": 9})
    with pytest.raises(zoo.ConversionError, match="not a w86763777"):
        convert("sngan", [tmp_path / "g.pth"], tmp_path / "o4", layout="w86763777")
    convert("dcgan", [tmp_path / "g.pth"], tmp_path / "o5")
    with pytest.raises(zoo.ConversionError, match="exists"):
        convert("dcgan", [tmp_path / "g.pth"], tmp_path / "o5")


def test_cli_convert(tmp_path):
    from zoo.cli_convert import convert as cmd

    up = ExamplesNetG(nz=8, ngf=4, nc=3)
    torch.save(up.state_dict(), tmp_path / "netG.pth")
    runner = CliRunner()
    out = tmp_path / "repo"
    res = runner.invoke(cmd, ["dcgan", str(tmp_path / "netG.pth"), "-o", str(out), "--config", '{"ndf": 8}', "--license", "bsd-3-clause", "--name", "dcgan.examples-test"])
    assert res.exit_code == 0, res.output
    assert "sha256" in res.output
    assert {p.name for p in out.iterdir()} == {"config.json", "model.safetensors", "README.md"}
    assert json.loads((out / "config.json").read_text())["config"]["ndf"] == 8
    assert "license: bsd-3-clause" in (out / "README.md").read_text()
    assert 'zoo.load("dcgan.examples-test")' in (out / "README.md").read_text()
    res = runner.invoke(cmd, ["dcgan", str(tmp_path / "netG.pth"), "-o", str(out), "--config", "[1]"])
    assert res.exit_code != 0 and "JSON object" in res.output
    res = runner.invoke(cmd, ["dcgan", str(tmp_path / "netG.pth"), "-o", str(out)])
    assert res.exit_code != 0 and "exists" in res.output
    res = runner.invoke(cmd, ["dcgan", str(tmp_path / "netG.pth"), "-o", str(out), "--force"])
    assert res.exit_code == 0, res.output
