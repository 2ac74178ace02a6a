"""The explorer's target-return control: there for a Decision Transformer, absent otherwise."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs import TargetReturn, TransformedEnv
from torchrl.modules import (
    DecisionTransformer,
    DecisionTransformerInferenceWrapper,
    DTActor,
    ProbabilisticActor,
    TanhDelta,
)

import rltutor
from rltutor.addons import offline
from rltutor.widgets._target import (
    check_target_return,
    set_target_return,
    target_return_slider,
    target_return_transforms,
)


@pytest.fixture(scope="module")
def dt_policy():
    offline.quiet_token_id_warning()
    torch.manual_seed(0)
    config = DecisionTransformer.DTConfig(n_embd=16, n_layer=1, n_head=2, n_inner=32,
                                          n_positions=12, resid_pdrop=0.0, attn_pdrop=0.0)
    scale = TensorDictModule(lambda rtg: rtg / 100, in_keys=["return_to_go_cat"],
                             out_keys=["return_to_go_scaled"])
    net = TensorDictModule(DTActor(state_dim=3, action_dim=1, transformer_config=config),
                           in_keys=["observation_cat", "action_cat", "return_to_go_scaled"],
                           out_keys=["param"])
    actor = ProbabilisticActor(TensorDictSequential(scale, net), in_keys=["param"],
                               out_keys=["action"], distribution_class=TanhDelta,
                               distribution_kwargs={"low": -2.0, "high": 2.0}).eval()
    policy = DecisionTransformerInferenceWrapper(actor, inference_context=4)
    policy.set_tensor_keys(observation="observation_cat", action="action_cat",
                           return_to_go="return_to_go_cat")
    return policy


def test_found_through_the_stacking_transforms(dt_policy):
    env = offline.make_context_env(-100.0, context=4, steps=20)
    found = target_return_transforms(env, dt_policy)
    assert len(found) == 1 and isinstance(found[0], TargetReturn)


def test_absent_where_the_policy_reads_no_return():
    env = offline.make_context_env(-100.0, context=4, steps=20)
    plain = rltutor.make_actor(rltutor.make_env("Pendulum-v1"))
    assert target_return_transforms(env, plain) == []  # a target nobody reads
    bare = TransformedEnv(offline.make_low_gravity_pendulum(steps=20))
    assert target_return_transforms(bare, plain) == []


def test_slider_around_the_target_and_setting_it():
    env = offline.make_context_env(-100.0, context=4, steps=20)
    transforms = [t for t in env.transform if isinstance(t, TargetReturn)]
    slider = target_return_slider(transforms)
    assert (slider.value, slider.min, slider.max, slider.step) == (-100, -600, 400, 50)
    set_target_return(transforms, -250)
    assert env.reset()["return_to_go"].item() == -250.0
    with pytest.raises(ValueError, match="finite number"):
        check_target_return(float("nan"))


def test_explorer_offers_and_applies_the_target(dt_policy):
    env = offline.make_context_env(-100.0, context=4, steps=20)
    # TanhDelta acts the same under every exploration type: deterministic is the honest one
    panel = rltutor.explorer(env, dt_policy, steps=20, exploration="deterministic")
    assert "target_return" in panel.controls
    panel.controls["target_return"].value = -300.0
    assert panel.last_error is None
    assert panel.rollout_td["return_to_go"][0].item() == -300.0
    assert panel.stats["target_return"] == -300.0


def test_explorer_without_a_return_reader_has_no_target_control():
    env = rltutor.make_env("Pendulum-v1")
    panel = rltutor.explorer(env, rltutor.make_actor(env), steps=10)
    assert "target_return" not in panel.controls


def test_batched_env_is_not_asked_for_transforms_by_name():
    # a SerialEnv forwards unknown attributes to its workers: the lookup must not recurse
    from torchrl.envs import GymEnv, SerialEnv, StepCounter

    from rltutor.widgets._target import _transforms

    batched = SerialEnv(2, lambda: GymEnv("Pendulum-v1"))
    assert _transforms(batched) == []
    assert [type(t).__name__ for t in _transforms(TransformedEnv(batched, StepCounter()))] == [
        "StepCounter"]


def test_default_explorer_on_a_dt_offers_no_exploration_menu(dt_policy):
    # TanhDelta puts all its mass on one action: nothing to explore, so no menu, and the
    # default (all controls) panel runs
    env = offline.make_context_env(-100.0, context=4, steps=20)
    panel = rltutor.explorer(env, dt_policy, steps=20)
    assert "exploration" not in panel.controls and "target_return" in panel.controls
    assert panel.last_error is None
