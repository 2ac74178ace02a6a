"""TensorDict views on data as TorchRL hands it out: ragged lazy stacks, pixel-sized keys
(issue 11, items 8 and 9)."""

from __future__ import annotations

import re

import torch
from tensordict import LazyStackedTensorDict, TensorDict
from tensordict.nn import TensorDictModule
from torch import nn

import rltutor


def ragged_stack() -> LazyStackedTensorDict:
    """Two episodes' worth of data whose members disagree on shape, as lazy_stack keeps them."""
    first = TensorDict(obs=torch.zeros(3), frame=torch.zeros(4, 4),
                       agent=TensorDict(hidden=torch.zeros(2)))
    second = TensorDict(obs=torch.ones(5), frame=torch.ones(4, 4),
                        agent=TensorDict(hidden=torch.zeros(4)))
    return LazyStackedTensorDict.lazy_stack([first, second])


def test_ragged_lazy_stack_shows_each_members_shape():
    text = rltutor.to_text(ragged_stack(), width=100)
    assert "lazy stack of 2 along dim 0" in text
    assert re.search(r"obs +\[2 \| -1\] +float32 +cpu +members: \[3\], \[5\]", text)
    assert re.search(r"hidden +\[2 \| -1\] .*members: \[2\], \[4\]", text)
    assert re.search(r"frame +\[2 \| 4 4\] .*min 0 +mean 0.5 +max 1", text)  # stacks fine
    assert "members: [3], [5]" in rltutor.to_html(ragged_stack())


def test_ragged_lazy_stack_diff_compares_members():
    before = ragged_stack()
    after = before.clone()
    after.tensordicts[1]["obs"] += 1
    text = rltutor.to_text(rltutor.diff(before, after))
    assert "1 changed, 2 unchanged" in text
    assert re.search(r"~ +obs +\[2 \| -1\] +float32 +value: members differ", text)


def test_many_ragged_members_are_summarised():
    stack = LazyStackedTensorDict.lazy_stack([TensorDict(obs=torch.zeros(i + 1))
                                              for i in range(6)])
    assert "… (6 distinct shapes in 6)" in rltutor.to_text(stack, width=100)


def pixel_rollout_like() -> TensorDict:
    """What a rollout with from_pixels=True holds: a wide image key next to small ones."""
    torch.manual_seed(0)
    return TensorDict(
        observation=torch.randn(1000, 3) * 1234.5678,
        pixels=torch.zeros(1000, 3, 240, 320, 3, dtype=torch.uint8),
        reward=torch.randn(1000, 1),
        batch_size=[1000],
    )


def number_cut(line: str) -> bool:
    """A number cut at the line's end: ``max 0.…`` or ``mean -1.2e+…``."""
    return bool(re.search(r"[\d.e+-]…$", line))


def test_to_text_width_100_never_cuts_a_number():
    for module in (None, TensorDictModule(nn.Linear(3, 1), in_keys=["observation"],
                                          out_keys=["reward"])):
        lines = rltutor.to_text(pixel_rollout_like(), width=100, module=module).splitlines()
        assert all(len(line) <= 100 for line in lines)
        assert not any(number_cut(line) for line in lines), lines
        row = next(line for line in lines if "observation" in line)
        assert re.search(r"min -?[\d.e+]+ .*max -?[\d.e+]+$", row.rstrip()), row


def test_a_long_note_does_not_widen_the_columns_of_other_rows():
    lines = rltutor.to_text(pixel_rollout_like(), width=100).splitlines()
    obs = next(line for line in lines if "observation" in line)
    pixels = next(line for line in lines if "pixels" in line)
    assert "no preview: 691,200,000 values" in pixels
    # the note starts in the min column; observation's min/mean/max are all there
    assert pixels.index("no preview") == obs.index("min ")
    assert " mean " in obs and " max " in obs


def test_a_wide_shape_column_drops_the_mean_before_cutting_numbers():
    td = TensorDict(observation=torch.randn(10, 3) * 1234.5678,
                    state=torch.zeros(10, 2, 64, 64, 4, 7), reward=torch.randn(10, 1),
                    batch_size=[10])
    policy = TensorDictModule(nn.Linear(3, 1), in_keys=["observation"], out_keys=["reward"])
    lines = rltutor.to_text(td, width=100, module=policy).splitlines()
    assert not any(number_cut(line) for line in lines), lines
    assert all("max " in line for line in lines if "observation" in line or "reward" in line)
    # with room, the mean is there
    wide = rltutor.to_text(td, width=140, module=policy)
    assert " mean " in wide
