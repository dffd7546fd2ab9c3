"""Shared helpers of the AdaIN tests (not a test module)."""

from __future__ import annotations

import torch

import zoo


def spread_adain():
    """A small AdaIN whose random weights carry the input through: He initialisation so that random
    features pass the signal on, and a last layer scaled to spread the output over [0, 1], so that
    clamping hides no difference between two implementations."""
    torch.manual_seed(0)
    m = zoo.build("adain", encoder_width=0.25, decoder_width=0.25).eval()
    with torch.no_grad():
        for conv in (mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)):
            torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            conv.bias.zero_()
        last = m.decoder.stages[-1].conv1_1.conv
        y = m(torch.rand(2, 3, 32, 32), torch.rand(1, 3, 32, 32))
        last.weight.mul_(0.2 / y.std())
        last.bias.fill_(0.5)
    return m
