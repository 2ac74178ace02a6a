"""Views of a Decision Transformer: the inference wrapper's card and dataflow, DTActor's facts."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule
from torchrl.modules import (
    DecisionTransformer,
    DecisionTransformerInferenceWrapper,
    DTActor,
    OnlineDTActor,
    ProbabilisticActor,
    TanhDelta,
    TanhNormal,
)

import rltutor
from rltutor.addons import offline
from rltutor.display._decision import dt_wrapper_flow, is_dt_wrapper
from rltutor.display._modules import module_card
from rltutor.display._transformer import transformer_details

KEYS = ["observation_cat", "action_cat", "return_to_go_cat"]


def config() -> DecisionTransformer.DTConfig:
    offline.quiet_token_id_warning()
    return DecisionTransformer.DTConfig(n_embd=16, n_layer=2, n_head=2, n_inner=32,
                                        n_positions=15, resid_pdrop=0.0, attn_pdrop=0.0)


@pytest.fixture(scope="module")
def wrapper():
    torch.manual_seed(0)
    net = TensorDictModule(DTActor(state_dim=3, action_dim=1, transformer_config=config()),
                           in_keys=KEYS, out_keys=["param"])
    actor = ProbabilisticActor(net, in_keys=["param"], out_keys=["action"],
                               distribution_class=TanhDelta,
                               distribution_kwargs={"low": -2.0, "high": 2.0})
    policy = DecisionTransformerInferenceWrapper(actor, inference_context=3)
    policy.set_tensor_keys(observation=KEYS[0], action=KEYS[1], return_to_go=KEYS[2])
    return policy


def test_transformer_details_name_size_and_context():
    dt = DTActor(state_dim=3, action_dim=1, transformer_config=config())
    details = dict(transformer_details(dt))
    assert details["GPT-2"] == "2 layers x 2 heads, 16 wide"
    assert details["context"].startswith("up to 5 steps = 15 tokens")
    online = dict(transformer_details(OnlineDTActor(state_dim=3, action_dim=1,
                                                    transformer_config=config())))
    assert "Gaussian" in online["head"]


def test_wrapper_card_says_what_it_keeps_and_holds_the_actor(wrapper):
    assert is_dt_wrapper(wrapper) and not is_dt_wrapper(wrapper.td_module)
    text = rltutor.to_text(wrapper, width=120)
    assert text.startswith("DecisionTransformerInferenceWrapper")
    assert "inference_context 3" in text and "keeps nothing" in text
    assert "TensorDictModule(DTActor)" in text and "GPT-2 2 layers" in text


def test_wrapper_dataflow_masks_runs_the_actor_keeps_the_last_step(wrapper):
    flow = dt_wrapper_flow(wrapper)
    assert [s.name for s in flow.steps] == ["mask the window", "DTActor", "TanhDelta sample",
                                            "keep the last step"]
    assert flow.env_keys == tuple(KEYS)
    assert flow.steps[1].env_reads == ()  # the actor reads the masked window, not the env's
    assert "dataflow of DecisionTransformerInferenceWrapper" in str(rltutor.dataflow(wrapper))


def test_online_actor_card_shows_the_gaussian_head():
    net = TensorDictModule(OnlineDTActor(state_dim=3, action_dim=1, transformer_config=config()),
                           in_keys=KEYS, out_keys=["loc", "scale"])
    actor = ProbabilisticActor(net, in_keys=["loc", "scale"], out_keys=["action"],
                               distribution_class=TanhNormal)
    details = dict(module_card(actor).children[0].details)
    assert details["head"] == "Gaussian mean and std per step"
    assert "Gaussian mean and std" in rltutor.to_html(actor)
