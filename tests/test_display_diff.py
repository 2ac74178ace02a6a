"""diff on what a pixel-based policy call changes (issue 11, item 10): unchanged large keys
are compared, never previewed."""

from __future__ import annotations

import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule
from torch import nn

import rltutor
from rltutor.display import _tensordict


def pixel_td() -> TensorDict:
    torch.manual_seed(0)
    return TensorDict(pixels=torch.randint(0, 255, (400, 600, 3), dtype=torch.uint8),
                      observation=torch.randn(4), done=torch.zeros(1, dtype=torch.bool))


def test_diff_builds_no_preview_for_unchanged_pixels(monkeypatch):
    previewed = []
    original = _tensordict.preview_tensor

    def counting(tensor, *args):
        previewed.append(tensor.numel())
        return original(tensor, *args)

    monkeypatch.setattr(_tensordict, "preview_tensor", counting)
    policy = TensorDictModule(nn.Linear(4, 2), in_keys=["observation"], out_keys=["action"])
    before = pixel_td()
    text = rltutor.to_text(rltutor.diff(before, policy(before.clone())))
    assert "1 added, 0 removed, 0 changed, 3 unchanged" in text
    assert previewed == [2]  # the action only; not 720,000 pixel values, twice


def test_diff_still_previews_what_it_shows():
    before = pixel_td()
    after = before.clone()
    after["pixels"][0, 0, 0] += 1
    text = rltutor.to_text(rltutor.diff(before, after))
    assert "pixels" in text and "value: 1/720000 values differ" in text
    same = rltutor.to_text(rltutor.diff(before, before.clone(), show_same=True))
    assert "min 0" in same and "max 254" in same  # shown, so previewed


def test_diff_counts_nan_as_unchanged_and_negative_zero_as_equal():
    before = TensorDict(x=torch.tensor([float("nan"), 1.0]), z=torch.zeros(3))
    after = TensorDict(x=torch.tensor([float("nan"), 1.0]), z=-torch.zeros(3))
    assert "0 changed, 2 unchanged" in rltutor.to_text(rltutor.diff(before, after))
