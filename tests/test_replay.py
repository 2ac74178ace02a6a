"""The replay-buffer state, picture and widget, fed by a TorchRL Collector as in lesson 10."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from tensordict import TensorDict
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer, TensorDictReplayBuffer
from torchrl.data.replay_buffers import SamplerWithoutReplacement, SliceSampler

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
    assert "LazyTensorStorage 3/8 filled, RandomSampler" in text and "obs" in text
    assert "<details" in show(rb).to_html()


def test_a_bad_buffer_fails_in_the_learner_cell():
    with pytest.raises(TypeError, match="expected a TorchRL ReplayBuffer"):
        watch_buffer([1, 2, 3])


def test_is_replay_buffer_and_bad_input():
    assert is_replay_buffer(ReplayBuffer(storage=LazyTensorStorage(2)))
    assert not is_replay_buffer([1, 2])
    with pytest.raises(TypeError, match="expected a TorchRL ReplayBuffer"):
        plot_buffer([1, 2])
