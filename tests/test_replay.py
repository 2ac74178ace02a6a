"""The replay-buffer state, picture and widget, fed by a TorchRL Collector as in lesson 10."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from tensordict import TensorDict
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer, TensorDictReplayBuffer
from torchrl.data.replay_buffers import (
    SamplerWithoutReplacement,
    SliceSampler,
    SliceSamplerWithoutReplacement,
)

from rltutor.display import show, to_text
from rltutor.policies import make_qvalue_policy
from rltutor.replay import (
    buffer_state,
    buffer_summary,
    is_replay_buffer,
    plot_buffer,
    sample_indices,
    watch_buffer,
)

logging.getLogger("torchrl").setLevel(logging.WARNING)


def _data(n: int, traj: int = 0) -> TensorDict:
    return TensorDict(obs=torch.arange(n, dtype=torch.float32)[:, None],
                      collector=TensorDict(traj_ids=torch.full((n,), traj), batch_size=[n]),
                      batch_size=[n])


def test_state_counts_fill_and_trajectories():
    rb = ReplayBuffer(storage=LazyTensorStorage(10), batch_size=3)
    rb.extend(_data(4, traj=0))
    rb.extend(_data(2, traj=1))
    state = buffer_state(rb)
    assert (state.capacity, state.filled, state.sampler) == (10, 6, "RandomSampler")
    assert state.traj_ids.tolist() == [0, 0, 0, 0, 1, 1]
    assert "6 / 10 slots (60%)" in buffer_summary(state)
    assert "2 trajectories" in buffer_summary(state)


def test_sample_indices_accepts_every_form_sample_takes():
    rb = TensorDictReplayBuffer(storage=LazyTensorStorage(10), batch_size=4)
    rb.extend(_data(5))
    td_sample = rb.sample()
    assert sample_indices(td_sample).tolist() == td_sample["index"].tolist()
    plain = ReplayBuffer(storage=LazyTensorStorage(10), batch_size=4)
    plain.extend(_data(5))
    data, info = plain.sample(return_info=True)
    assert sample_indices((data, info)).tolist() == info["index"].tolist()
    assert sample_indices(info).tolist() == info["index"].tolist()
    assert sample_indices((torch.tensor([1, 2]),)).tolist() == [1, 2]  # a SliceSampler's
    with pytest.raises(ValueError, match="carries no 'index'"):
        sample_indices(data)  # a plain buffer's sample alone cannot say where it came from
    with pytest.raises(TypeError, match="sample must be"):
        sample_indices("0, 1")


def test_indices_from_another_buffer_are_refused():
    rb = ReplayBuffer(storage=LazyTensorStorage(10))
    rb.extend(_data(3))
    with pytest.raises(ValueError, match="holds 3 entries"):
        buffer_state(rb, sample=torch.tensor([7]))


def test_without_replacement_reports_what_is_left_in_the_pass():
    rb = ReplayBuffer(storage=LazyTensorStorage(10), sampler=SamplerWithoutReplacement(),
                      batch_size=2)
    rb.extend(_data(6))
    assert "no pass started yet" in buffer_summary(buffer_state(rb))
    first = rb.sample(return_info=True)
    assert "4 slots not yet drawn" in buffer_summary(buffer_state(rb, sample=first))


def test_figure_marks_the_sampled_slots_and_updates_in_place():
    rb = ReplayBuffer(storage=LazyTensorStorage(120), batch_size=4)
    rb.extend(_data(60, traj=2))
    fig = plot_buffer(rb, sample=torch.tensor([0, 5, 5, 59]))
    offsets = fig.dots.get_offsets()
    assert sorted(map(tuple, np.asarray(offsets).tolist())) == [(0, 0), (5, 0), (9, 1)]
    assert list(fig.dots.get_sizes()) == [10, 22, 10]  # slot 5 was taken twice
    cells = fig.image.get_array()
    assert cells.shape[:2] == (3, 50) and not np.allclose(cells[0, 0], cells[2, 0])
    image = fig.image
    rb.extend(_data(30, traj=3))
    fig.update(buffer_state(rb))
    assert fig.image is image and len(fig.dots.get_offsets()) == 0
    assert fig.to_png()[:4] == b"\x89PNG"


def test_widget_follows_a_collector_and_survives_a_bad_sample(cartpole):
    rb = ReplayBuffer(storage=LazyTensorStorage(200), batch_size=16)
    view = watch_buffer(rb)
    collector = Collector(cartpole, make_qvalue_policy(cartpole), frames_per_batch=50,
                          total_frames=100, auto_register_policy_transforms=False)
    fills = []
    for batch in collector:
        rb.extend(batch)
        view.update(rb.sample(return_info=True))
        fills.append(view.state.filled)
    collector.shutdown()
    assert fills == [50, 100] and view.state.last_sample.size == 16
    assert view.state.traj_ids is not None  # coloured by the collector's trajectory ids
    png = view.picture.value
    view.update("not a sample")
    assert isinstance(view.last_error, TypeError) and "sample must be" in view.error.value
    assert view.picture.value == png  # the last good picture stays
    assert view._repr_mimebundle_()["image/png"]  # a still for pages without widget state
    view.update()
    assert view.last_error is None and view.error.value == ""


def test_slice_sampler_takes_whole_pieces_of_one_trajectory():
    rb = ReplayBuffer(storage=LazyTensorStorage(100),
                      sampler=SliceSampler(slice_len=5, traj_key=("collector", "traj_ids")),
                      batch_size=10)
    rb.extend(torch.cat([_data(20, traj=0), _data(20, traj=1)]))
    sample, info = rb.sample(return_info=True)
    ids = sample["collector", "traj_ids"].reshape(2, 5)
    assert (ids == ids[:, :1]).all()  # each slice stays inside one trajectory
    assert "slices of 5 steps" in buffer_summary(buffer_state(rb, sample=(sample, info)))


def test_show_draws_the_stored_data_under_the_buffer_facts():
    rb = ReplayBuffer(storage=LazyTensorStorage(8))
    assert "nothing stored yet" in to_text(rb)
    rb.extend(_data(3))
    text = to_text(rb)
    assert text.splitlines()[0].startswith("ReplayBuffer  batch [3]")
    assert "RandomSampler, LazyTensorStorage 3/8 filled" in text and "obs" in text
    assert "<details" in show(rb).to_html()


def test_a_bad_buffer_fails_in_the_learner_cell():
    with pytest.raises(TypeError, match="expected a TorchRL ReplayBuffer"):
        watch_buffer([1, 2, 3])


def test_is_replay_buffer_and_bad_input():
    assert is_replay_buffer(ReplayBuffer(storage=LazyTensorStorage(2)))
    assert not is_replay_buffer([1, 2])
    with pytest.raises(TypeError, match="expected a TorchRL ReplayBuffer"):
        plot_buffer([1, 2])


# ---- issue 28, buffers: built as TorchRL's own replay-buffer examples build them


def _envs_side_by_side(envs: int, steps: int) -> TensorDict:
    """A batch of ``envs`` envs, ``steps`` steps each, as a batched collector gives it."""
    data = TensorDict(obs=torch.randn(envs, steps, 3), batch_size=[envs, steps])
    data["collector", "traj_ids"] = torch.arange(envs)[:, None].expand(envs, steps).clone()
    return data


def test_storage_with_two_dims_widget_follows_torchrl_rounding_its_size():
    rb = TensorDictReplayBuffer(storage=LazyTensorStorage(100, ndim=2), batch_size=8)
    view = watch_buffer(rb)  # drawn for 100 slots, before TorchRL knows there are 3 envs
    rb.extend(_envs_side_by_side(3, 10))
    assert rb.storage.max_size == 102  # 34 rows of 3 envs: TorchRL rounded the size up
    view.update(rb.sample())
    assert view.last_error is None and view.error.value == ""
    assert (view.state.capacity, view.state.filled) == (102, 30)
    assert view.state.last_sample.size == 8


def test_storage_with_two_dims_sample_lands_on_its_row_and_column():
    rb = TensorDictReplayBuffer(storage=LazyTensorStorage(100, ndim=2), batch_size=32)
    rb.extend(_envs_side_by_side(3, 10))
    stored = rb.storage[:30]["collector", "traj_ids"].reshape(-1)  # slot -> its env's id
    for sample in (rb.sample(), rb.sample(return_info=True)):  # index as [N, 2], or a tuple
        data = sample[0] if isinstance(sample, tuple) else sample
        state = buffer_state(rb, sample=sample)
        # each sampled step's own trajectory id is the one stored in the slot it is dotted on
        np.testing.assert_array_equal(stored[state.last_sample].numpy(),
                                      data["collector", "traj_ids"].numpy())
        np.testing.assert_array_equal(state.traj_ids[state.last_sample],
                                      data["collector", "traj_ids"].numpy())
    assert len(set(state.last_sample % 3)) == 3  # all three envs' columns, not row numbers
    fig = plot_buffer(rb, sample=sample)
    slots = np.unique(state.last_sample)
    np.testing.assert_array_equal(fig.dots.get_offsets(), np.c_[slots % 50, slots // 50])


def test_a_row_col_index_without_the_storage_shape_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="pass storage_shape, or use buffer_state"):
        sample_indices((torch.tensor([0, 1]), torch.tensor([2, 0])))


def test_to_text_keeps_the_sampler_name_at_width_100():
    sampler = SliceSamplerWithoutReplacement(num_slices=2, traj_key=("collector", "traj_ids"))
    rb = TensorDictReplayBuffer(storage=LazyTensorStorage(1000), sampler=sampler, batch_size=8)
    rb.extend(torch.cat([_data(20, traj=0), _data(20, traj=1)]))
    head = to_text(rb, width=100).splitlines()[0]
    assert len(head) <= 100 and "SliceSamplerWithoutReplacement," in head


def test_slice_sampler_with_its_own_traj_key_is_coloured_by_trajectory():
    # as TorchRL's docs write it: the trajectory id under a key of the user's choosing
    rb = TensorDictReplayBuffer(storage=LazyTensorStorage(100),
                                sampler=SliceSampler(num_slices=2, traj_key="episode"),
                                batch_size=8)
    rb.extend(TensorDict(obs=torch.randn(40, 3), episode=torch.arange(40) // 10,
                         batch_size=[40]))
    state = buffer_state(rb, sample=rb.sample())
    np.testing.assert_array_equal(state.traj_ids, np.arange(40) // 10)
    assert "4 trajectories" in buffer_summary(state)
    cells = plot_buffer(rb).image.get_array().reshape(-1, 4)
    assert len({tuple(c) for c in cells[[0, 10, 20, 30]]}) == 4  # one colour per episode
    assert buffer_state(rb, traj_key=None).traj_ids is None  # None still means: no colours
