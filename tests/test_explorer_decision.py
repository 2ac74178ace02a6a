"""The explorer on an online Decision Transformer, built as TorchRL's ODT script builds it.

``OnlineDTActor`` writes ``loc``/``scale`` for every position of its context window, a
``TanhNormal`` ``ProbabilisticActor`` samples an action at each, and
``DecisionTransformerInferenceWrapper`` keeps the window's last action. The environment
holds the context: ``TargetReturn``, a ``TensorDictPrimer`` keeping the action,
``UnsqueezeTransform`` + ``CatFrames`` stacking the last steps (issue 28, item 10).
"""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import InteractionType, TensorDictModule, set_interaction_type
from torchrl.envs import (
    CatFrames,
    Compose,
    GymEnv,
    TargetReturn,
    TensorDictPrimer,
    TransformedEnv,
    UnsqueezeTransform,
)
from torchrl.modules import (
    DecisionTransformer,
    DecisionTransformerInferenceWrapper,
    OnlineDTActor,
    ProbabilisticActor,
    TanhNormal,
)

import rltutor
from rltutor._exploration import policy_profile

CONTEXT = 5
STACKED = ["observation_cat", "action_cat", "return_to_go_cat"]


@pytest.fixture(scope="module")
def online_dt():
    torch.manual_seed(0)
    base = GymEnv("Pendulum-v1")
    env = TransformedEnv(base, Compose(
        TargetReturn(-200.0, out_keys=["return_to_go"]),
        TensorDictPrimer(base.full_action_spec),  # the last action stays in the TensorDict
        UnsqueezeTransform(-2, in_keys=["observation", "action", "return_to_go"],
                           out_keys=STACKED),
        CatFrames(N=CONTEXT, dim=-2, in_keys=STACKED),
    ))
    env.set_seed(0)
    config = DecisionTransformer.DTConfig(n_embd=16, n_layer=1, n_head=2, n_inner=32,
                                          n_positions=3 * CONTEXT, resid_pdrop=0.0,
                                          attn_pdrop=0.0)
    net = TensorDictModule(OnlineDTActor(state_dim=3, action_dim=1, transformer_config=config),
                           in_keys=STACKED, out_keys=["loc", "scale"])
    actor = ProbabilisticActor(net, spec=env.action_spec, in_keys=["loc", "scale"],
                               out_keys=["action"], distribution_class=TanhNormal,
                               distribution_kwargs={"low": -2.0, "high": 2.0},
                               default_interaction_type=InteractionType.RANDOM,
                               cache_dist=False, return_log_prob=False)
    # eval(): GPT-2's embedding dropout would make every pass of the window differ
    policy = DecisionTransformerInferenceWrapper(actor, inference_context=CONTEXT).eval()
    policy.set_tensor_keys(observation="observation_cat", action="action_cat",
                           return_to_go="return_to_go_cat")
    return env, policy


def test_profile_says_the_wrapper_keeps_the_last_of_its_window(online_dt):
    _, policy = online_dt
    profile = policy_profile(policy)
    assert profile.window and profile.samples_only and not profile.replaces


def test_explorer_runs_and_its_greedy_action_is_the_wrappers(online_dt):
    env, policy = online_dt
    inputs = []  # what the wrapper read at each step, to ask it for its greedy action
    handle = policy.register_forward_pre_hook(lambda m, args: inputs.append(args[0].clone()))
    try:
        panel = rltutor.explorer(env, policy, steps=30, seed=0)
    finally:
        handle.remove()
    assert panel.last_error is None and "exploration" in panel.controls
    assert panel.stats["sampled_fraction"] == 1.0
    assert panel.stats["explored_fraction"] == 0.0  # nothing replaces the samples
    with torch.no_grad(), set_interaction_type(InteractionType.DETERMINISTIC):
        greedy = torch.stack([policy(td)["action"] for td in inputs[-30:]])
    assert torch.allclose(panel.frame.greedy, greedy, atol=1e-5)
    for exploration in ("deterministic", "mean", "random"):
        panel.controls["exploration"].value = exploration
        assert panel.last_error is None, (exploration, panel.last_error)
    assert panel.stats["differs_fraction"] == 1.0  # TanhNormal samples: never the mode
