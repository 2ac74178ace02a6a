"""Lesson 12's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.envs import (
    CatFrames,
    Compose,
    RandomCropTensorDict,
    RenameTransform,
    Reward2GoTransform,
    TargetReturn,
    TensorDictPrimer,
    TransformedEnv,
    UnsqueezeTransform,
)
from torchrl.modules import (
    DecisionTransformer,
    DecisionTransformerInferenceWrapper,
    DTActor,
    ProbabilisticActor,
    TanhDelta,
)

from rltutor import offline
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


def make_env(target: float = -250.0, *, mode: str = "reduce", primer: bool = True,
             context: int = 4) -> TransformedEnv:
    base = offline.make_low_gravity_pendulum(seed=3)
    transforms = [TargetReturn(target, out_keys=["return_to_go"], mode=mode)]
    if primer:
        transforms.append(TensorDictPrimer(base.full_action_spec))
    transforms += [UnsqueezeTransform(-2, in_keys=KEYS, out_keys=[f"{k}_cat" for k in KEYS]),
                   CatFrames(N=context, dim=-2, in_keys=[f"{k}_cat" for k in KEYS])]
    return TransformedEnv(base, Compose(*transforms))


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


# ------------------------------------------------------------------ check_new_target


def test_unanswered_is_not_done(actor, data):
    assert ex.check_new_target(None, None, actor=actor).status == "not done yet"
    assert ex.check_new_target(wrap(actor), None, actor=actor).status == "not done yet"
    assert ex.check_context_buffer(None, None, data=data).status == "not done yet"


def test_new_target_solution_passes(actor):
    policy, env = sol.solve_new_target(actor)
    feedback = ex.check_new_target(policy, env, actor=actor)
    assert feedback.passed, feedback
    assert "-250" in feedback.message


def test_wrapper_without_tensor_keys_is_wrong(actor):
    # the most likely slip: the wrapper still reads 'observation', not the stacks
    feedback = ex.check_new_target(wrap(actor, keys=False), make_env(), actor=actor)
    assert feedback.status == "wrong" and "set_tensor_keys" in feedback.hint


def test_target_in_scaled_units_is_wrong(actor):
    feedback = ex.check_new_target(wrap(actor), make_env(-2.5), actor=actor)
    assert feedback.status == "wrong" and "divides by 100" in feedback.message


def test_constant_target_is_wrong(actor):
    feedback = ex.check_new_target(wrap(actor), make_env(mode="constant"), actor=actor)
    assert feedback.status == "wrong" and "reduce" in feedback.hint


def test_missing_primer_is_wrong(actor):
    feedback = ex.check_new_target(wrap(actor), make_env(primer=False), actor=actor)
    assert feedback.status == "wrong"


def test_other_context_length_is_wrong(actor):
    feedback = ex.check_new_target(wrap(actor), make_env(context=8), actor=actor)
    assert feedback.status == "wrong" and "CatFrames(N=4" in feedback.hint


def test_actor_itself_or_another_actor_is_wrong(actor):
    assert "DecisionTransformerInferenceWrapper" in ex.check_new_target(
        actor, make_env(), actor=actor).message
    feedback = ex.check_new_target(wrap(make_actor()), make_env(), actor=actor)
    assert feedback.status == "wrong" and "another actor" in feedback.message


# ------------------------------------------------------------------ check_context_buffer


def test_buffer_solution_passes(data):
    buffer, tokens = sol.solve_context_buffer(data)
    feedback = ex.check_context_buffer(buffer, tokens, data=data)
    assert feedback.passed, feedback


def test_right_buffer_without_token_count_is_not_done(data):
    assert ex.check_context_buffer(make_buffer(data), None, data=data).status == "not done yet"


def test_counting_steps_not_tokens_is_wrong(data):
    feedback = ex.check_context_buffer(make_buffer(data), 8, data=data)
    assert feedback.status == "wrong" and "three tokens" in feedback.hint


def test_old_window_length_is_wrong(data):
    feedback = ex.check_context_buffer(make_buffer(data, crop=4), 24, data=data)
    assert feedback.status == "wrong" and "RandomCropTensorDict(8" in feedback.hint


def test_rename_without_copy_loses_the_target(data):
    feedback = ex.check_context_buffer(make_buffer(data, copy=False), 24, data=data)
    assert feedback.status == "wrong" and "create_copy=True" in feedback.hint


def test_wrong_batch_size_is_wrong(data):
    feedback = ex.check_context_buffer(make_buffer(data, batch_size=64), 24, data=data)
    assert feedback.status == "wrong" and "batch_size=32" in feedback.hint


def test_windows_across_shuffled_time_are_wrong(data):
    # same shapes and keys, but the steps of each episode were shuffled: no real windows
    order = torch.randperm(data.batch_size[1], generator=torch.Generator().manual_seed(0))
    shuffled = data[:, order]
    feedback = ex.check_context_buffer(make_buffer(shuffled), 24, data=data)
    assert feedback.status == "wrong" and "consecutive" in feedback.message


def test_not_a_buffer_is_wrong(data):
    feedback = ex.check_context_buffer(data, 24, data=data)
    assert feedback.status == "wrong" and "ReplayBuffer" in feedback.message
