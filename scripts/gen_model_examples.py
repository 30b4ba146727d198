"""Regenerate the model-file examples of `tconvcalc check` from torch (2.13, CPU):

    python scripts/gen_model_examples.py

* examples/dcgan-printout.txt: what print(model) prints for a DCGAN generator built from nn.Sequential;
* examples/vae-decoder-printout.txt: a convolutional VAE decoder for 28x28 images (output_padding restores the
  encoder's odd sizes);
* examples/decoder-printout.txt: the printout of a three-module encoder/decoder (the README's --emit example);
* examples/unet-tiny.onnx: a small U-Net with a concat skip, exported by torch.onnx.export with a dynamic batch
  and spatial size (a few thousand weights, so that the file stays small).

tests/test_model_examples.py checks both against torch and ONNX Runtime.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def dcgan() -> nn.Module:
    """A DCGAN generator from a 100-d latent vector to a 64x64 RGB image."""
    torch.manual_seed(0)

    def up(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))

    return nn.Sequential(
        nn.Linear(100, 256 * 4 * 4, bias=False),
        nn.Unflatten(1, (256, 4, 4)),
        nn.BatchNorm2d(256),
        nn.ReLU(True),
        up(256, 128),
        up(128, 64),
        up(64, 32),
        nn.ConvTranspose2d(32, 3, 4, 2, 1, bias=False),
        nn.Tanh(),
    )


def vae_decoder() -> nn.Module:
    """A VAE decoder from a 16-d latent vector to a 1x28x28 image: Linear, Unflatten, then ConvTransposes whose
    output_padding gives 7 -> 14 -> 28 (without it, 13 and 25)."""
    return nn.Sequential(
        nn.Linear(16, 64 * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),
        nn.GroupNorm(8, 32),
        nn.SiLU(),
        nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1),
        nn.SiLU(),
        nn.Conv2d(16, 1, 3, padding=1),
        nn.Sigmoid(),
    )


def decoder() -> nn.Module:
    """A stride-2 Conv and the ConvTranspose that undoes it, one pixel short (no output_padding)."""
    return nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.ConvTranspose2d(16, 3, 3, 2, 1))


class TinyUNet(nn.Module):
    """Two levels, a concat skip, a ConvTranspose back up."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.enc1(x)
        return self.dec(torch.cat([self.up(self.enc2(skip)), skip], dim=1))


def main() -> None:
    (EXAMPLES / "dcgan-printout.txt").write_text(str(dcgan()) + "\n")
    (EXAMPLES / "decoder-printout.txt").write_text(str(decoder()) + "\n")
    (EXAMPLES / "vae-decoder-printout.txt").write_text(str(vae_decoder()) + "\n")
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter is deprecated; the new one needs onnxscript
        torch.onnx.export(
            TinyUNet().eval(),
            (torch.zeros(1, 3, 64, 64),),
            str(EXAMPLES / "unet-tiny.onnx"),
            dynamo=False,
            input_names=["image"],
            output_names=["mask"],
            dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "mask": {0: "N", 2: "H", 3: "W"}},
        )


if __name__ == "__main__":
    main()
