"""Lesson 12's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.data.replay_buffers import RandomSampler, SliceSampler
from torchrl.envs import (
    Compose,
    RandomCropTensorDict,
    RenameTransform,
    Reward2GoTransform,
)
from torchrl.modules import (
    DecisionTransformer,
    DecisionTransformerInferenceWrapper,
    DTActor,
    ProbabilisticActor,
    TanhDelta,
)

from rltutor.addons import offline
from rltutor.exercises import lesson12 as ex

KEYS = ["observation", "action", "return_to_go"]


sol = load_solution("12_decision_transformer")


def make_actor(context: int = 4) -> ProbabilisticActor:
    # the lesson's actor, untrained: the checks look at plumbing, not at skill
    offline.quiet_token_id_warning()
    torch.manual_seed(0)
    config = DecisionTransformer.DTConfig(n_embd=16, n_layer=1, n_head=2, n_inner=32,
                                          n_positions=3 * context, resid_pdrop=0.0,
                                          attn_pdrop=0.0)
    scale = TensorDictModule(lambda rtg: rtg / 100, in_keys=["return_to_go_cat"],
                             out_keys=["return_to_go_scaled"])
    net = TensorDictModule(DTActor(state_dim=3, action_dim=1, transformer_config=config),
                           in_keys=["observation_cat", "action_cat", "return_to_go_scaled"],
                           out_keys=["param"])
    return ProbabilisticActor(TensorDictSequential(scale, net), in_keys=["param"],
                              out_keys=["action"], distribution_class=TanhDelta,
                              distribution_kwargs={"low": -2.0, "high": 2.0}).eval()


def wrap(actor, *, keys: bool = True) -> DecisionTransformerInferenceWrapper:
    policy = DecisionTransformerInferenceWrapper(actor, inference_context=4)
    if keys:
        policy.set_tensor_keys(observation="observation_cat", action="action_cat",
                               return_to_go="return_to_go_cat")
    return policy


@pytest.fixture(scope="module")
def actor():
    return make_actor()


@pytest.fixture(scope="module")
def data():
    env = offline.make_low_gravity_pendulum(steps=20, seed=0)
    episodes = offline.make_offline_dataset(env, efforts=(0.5, 1.0), episodes_per_effort=3,
                                            steps=20)
    r2g = Reward2GoTransform(gamma=1.0, in_keys=[("next", "reward")], out_keys=["return_to_go"])
    return r2g.inv(episodes)


def make_buffer(data, *, crop: int = 8, batch_size: int = 32, copy: bool = True,
                sample_dim: int = -1) -> ReplayBuffer:
    buffer = ReplayBuffer(
        storage=LazyTensorStorage(len(data)), batch_size=batch_size,
        transform=Compose(RandomCropTensorDict(crop, sample_dim=sample_dim),
                          RenameTransform(in_keys=KEYS, out_keys=[f"{k}_cat" for k in KEYS],
                                          create_copy=copy)))
    buffer.extend(data)
    return buffer


# ------------------------------------------------------------------ check_ceiling

FEW_TARGETS = (-600, -100, 400)  # the checker's sweep, made short for the tests


@pytest.fixture()
def few_targets(monkeypatch):
    monkeypatch.setattr(ex, "CEILING_TARGETS", FEW_TARGETS)


@pytest.fixture(scope="module")
def policy(actor):
    return wrap(actor)


@pytest.fixture(scope="module")
def ceilings(policy):
    both = {start: ex.ceiling(policy, start=start, targets=FEW_TARGETS)[0] for start in (0, 3)}
    assert abs(both[0] - both[3]) > 2 * ex.CEILING_TOLERANCE  # the starts differ: the test bites
    return both


def test_ceiling_unanswered_is_not_done(policy):
    assert ex.check_ceiling(None, policy=policy).status == "not done yet"


def test_ceiling_solution_passes(policy, few_targets, ceilings):
    feedback = ex.check_ceiling(sol.solve_ceiling(policy, targets=FEW_TARGETS), policy=policy)
    assert feedback.passed, feedback
    assert "start 0" in feedback.message and "start 3" in feedback.message


def test_ceiling_mistake_start_3s_ceiling_fails(policy, few_targets, ceilings):
    # the likeliest slip: the lesson's start (seed 3) measured, not start 0
    feedback = ex.check_ceiling(ceilings[3], policy=policy)
    assert feedback.status == "wrong" and "lesson's start" in feedback.message
    assert f"{ceilings[0]:.0f}" not in str(feedback)  # the answer is not handed over


def test_ceiling_mistake_a_target_not_a_return_fails(policy, few_targets, ceilings):
    assert "above 0" in ex.check_ceiling(400, policy=policy).message
    feedback = ex.check_ceiling(ceilings[0] + 100, policy=policy)
    assert feedback.status == "wrong" and "sum of its rewards" in feedback.hint
    feedback = ex.check_ceiling(ceilings[0] - 100, policy=policy)
    assert feedback.status == "wrong" and "higher targets" in feedback.hint


def test_ceiling_nearest_cell_fails(policy, few_targets, ceilings):
    # the nearest cells: the lesson's three targets played from seed 3 (play's default),
    # or the starts table read at column 3, adapted to "the most it earns"
    copied = offline.achieved_returns(policy, targets=[-600, -300, -100], seeds=[3]).max().item()
    feedback = ex.check_ceiling(copied, policy=policy)
    assert feedback.status == "wrong" and "seed 3" in feedback.message


# ------------------------------------------------------------------ check_slice_windows


def slice_buffer(data, *, sampler=None, flat: bool = True) -> ReplayBuffer:
    stored = data.reshape(-1) if flat else data
    buffer = ReplayBuffer(storage=LazyTensorStorage(len(stored)), batch_size=64,
                          sampler=sampler if sampler is not None else SliceSampler(slice_len=4))
    buffer.extend(stored)
    return buffer


def renamed(windows):
    for key in KEYS:
        windows[f"{key}_cat"] = windows[key]
    return windows


def test_slice_windows_unanswered_is_not_done(data):
    assert ex.check_slice_windows(None, None, data=data).status == "not done yet"
    assert ex.check_slice_windows(slice_buffer(data), None, data=data).status == "not done yet"


def test_slice_windows_solution_passes(data):
    buffer, to_windows = sol.solve_slice_windows(data)
    feedback = ex.check_slice_windows(buffer, to_windows, data=data)
    assert feedback.passed, feedback


def test_slice_windows_nearest_cell_fails(data):
    # the lesson's buffer cell with its numbers changed: whole episodes, cropped
    feedback = ex.check_slice_windows(make_buffer(data, crop=4, batch_size=16),
                                      lambda sample: sample, data=data)
    assert feedback.status == "wrong" and "one per episode" in feedback.message
    assert "SliceSampler" not in str(feedback)  # named by what it does, not handed over


def test_slice_windows_mistake_random_steps_fails(data):
    buffer = slice_buffer(data, sampler=RandomSampler())
    feedback = ex.check_slice_windows(buffer, lambda s: renamed(s.reshape(16, 4)), data=data)
    assert feedback.status == "wrong" and "RandomSampler" in feedback.message


@pytest.mark.parametrize(
    ("to_windows", "expected"),
    [
        (lambda s: renamed(s.reshape(4, 16)), "not (16, 4)"),  # time and slices swapped
        (lambda s: s.reshape(16, 4), "no ['observation_cat'"),  # not renamed
        (lambda s: renamed(s.reshape(16, 4)[torch.randperm(16)][:, torch.tensor([1, 0, 2, 3])]),
         "consecutive"),  # steps out of order
        (lambda s: s["observation"], "not a TensorDict"),
        (42, "not a function"),
    ],
)
def test_slice_windows_mistake_in_to_windows_fails(data, to_windows, expected):
    feedback = ex.check_slice_windows(slice_buffer(data), to_windows, data=data)
    assert feedback.status == "wrong" and expected in str(feedback), feedback


def test_slice_windows_checker_keeps_the_global_rng(data):
    buffer, to_windows = sol.solve_slice_windows(data)
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    ex.check_slice_windows(buffer, to_windows, data=data)
    assert torch.equal(torch.rand(1), expected)
