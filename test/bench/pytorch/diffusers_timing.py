"""PyTorch side of `npm run bench -- models`: diffusers' own UNet2DConditionModel and AutoencoderKL, built
from their SD1.5 configs with random weights (timings do not depend on the values), timed on this machine
at the latent size and batch the ONNX side uses. Prints one JSON line.

diffusers is not a dependency: pass the folder holding its `diffusers` package source (a checkout of a
release that supports the installed torch, e.g. 0.21 for Debian's torch 1.13) as the first argument.
Packages that only its hub and file-loading code imports (huggingface_hub, safetensors, ...) are stood
in for by empty modules when absent; nothing here downloads or reads weights.
"""
import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
import types


class _Anything:
    """Stands in for any name an absent package would export (classes, functions, constants)."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __getattr__(self, name):
        return _Anything()

    def __mro_entries__(self, bases):
        return (object,)


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        if name.startswith('is_') and name.endswith('_available'):
            return lambda *a, **k: False
        if name.isupper() or name.endswith('_home'):
            return os.path.join(os.sep, 'nonexistent', name.lower())  # paths and patterns of the hub's constants
        return _Anything()


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Empty modules for absent top-level packages in `names` (and their submodules)."""

    def __init__(self, names):
        self.names = names

    def find_spec(self, fullname, path, target=None):
        if fullname.split('.')[0] in self.names:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def _version_module():
    """A minimal packaging.version: parse() gives comparable release tuples."""
    import re

    class Version:
        def __init__(self, text):
            self.text = str(text)
            parts = re.findall(r'\d+', self.text.split('+')[0])[:3]
            self.release = tuple(int(p) for p in parts) + (0,) * (3 - len(parts))
            self.base_version = '.'.join(str(p) for p in self.release)
            self.major, self.minor, self.micro = self.release

        def _key(self, other):
            return other.release if isinstance(other, Version) else Version(other).release

        def __lt__(self, o): return self.release < self._key(o)
        def __le__(self, o): return self.release <= self._key(o)
        def __gt__(self, o): return self.release > self._key(o)
        def __ge__(self, o): return self.release >= self._key(o)
        def __eq__(self, o): return self.release == self._key(o)
        def __hash__(self): return hash(self.release)
        def __str__(self): return self.text

    module = types.ModuleType('packaging.version')
    module.Version = Version
    module.parse = Version
    module.InvalidVersion = ValueError
    package = types.ModuleType('packaging')
    package.__path__ = []
    package.version = module
    return package, module


def _install_stubs():
    absent = []
    for name in ['huggingface_hub', 'safetensors', 'filelock', 'regex', 'importlib_metadata', 'requests', 'tqdm']:
        try:
            __import__(name)
        except ImportError:
            absent.append(name)
    try:
        import packaging.version  # noqa: F401
    except ImportError:
        package, module = _version_module()
        sys.modules['packaging'] = package
        sys.modules['packaging.version'] = module
        absent.append('packaging')
    sys.meta_path.insert(0, _StubFinder(set(absent) - {'packaging'}))
    return absent


def _timed(fn, runs):
    fn()  # warm-up: first calls allocate and pick kernels
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return {'wall': walls, 'cpu': cpus}


def main():
    source, threads, size, batch, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    stubbed = _install_stubs()
    sys.path.insert(0, source)
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    import diffusers
    from diffusers.models.unet_2d_condition import UNet2DConditionModel
    from diffusers.models.autoencoder_kl import AutoencoderKL

    out = {'torch': torch.__version__, 'diffusers': getattr(diffusers, '__version__', '?'), 'threads': threads, 'stubbed': stubbed}
    latent = size // 8
    with torch.no_grad():
        # SD1.5's unet/config.json: the class defaults with a 768-wide context and 8 heads.
        unet = UNet2DConditionModel(sample_size=latent, cross_attention_dim=768, attention_head_dim=8).eval()
        out['unetParameters'] = sum(p.numel() for p in unet.parameters())
        sample = torch.randn(batch, 4, latent, latent)
        context = torch.randn(batch, 77, 768)
        t = torch.tensor([501])
        out['unetStep'] = _timed(lambda: unet(sample, t, encoder_hidden_states=context), runs)
        del unet
        # SD1.5's vae/config.json.
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, sample_size=size,
            block_out_channels=(128, 256, 512, 512),
            down_block_types=('DownEncoderBlock2D',) * 4, up_block_types=('UpDecoderBlock2D',) * 4,
        ).eval()
        out['vaeParameters'] = sum(p.numel() for p in vae.parameters())
        image = torch.randn(1, 3, size, size)
        z = torch.randn(1, 4, latent, latent)
        out['vaeEncode'] = _timed(lambda: vae.encode(image).latent_dist.mean, runs)
        out['vaeDecode'] = _timed(lambda: vae.decode(z).sample, runs)
    out['peakRssMiB'] = __import__('resource').getrusage(__import__('resource').RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == '__main__':
    main()
