"""Checks for lesson 09 (actor-critic).

>>> from rltutor.exercises import lesson09 as ex
>>> ex.check_shared_agent(None, None).status
'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase
from torch import nn
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import ActorCriticOperator, ActorCriticWrapper, ActorValueOperator

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_return_to_go", "check_shared_agent", "return_to_go_with_ends"]


def _keys(module: Any) -> set[Any]:
    return set(getattr(module, "in_keys", ()) or ())


def _trunk_feeds_heads(agent: ActorValueOperator) -> Feedback | None:
    trunk, policy_head, value_head = agent.module[0], agent.module[1], agent.module[2]
    features = set(trunk.out_keys)
    for name, head in (("policy head", policy_head), ("value head", value_head)):
        if not _keys(head) & features:
            return wrong(
                f"your {name} reads {sorted(map(str, _keys(head)))}, none of which the trunk "
                f"writes ({sorted(map(str, features))}): the trunk is not shared with it",
                f"make the {name} read the trunk's out_key, e.g. in_keys={sorted(features)!r}",
            )
    return None


def _value_follows_trunk(agent: ActorValueOperator, td: TensorDictBase) -> bool:
    """Nudge the trunk through the policy operator; does the value operator notice?"""
    policy_op, value_op = agent.get_policy_operator(), agent.get_value_operator()
    trunk_params = [p for p in policy_op.module[0].parameters() if p.is_floating_point()]
    saved = [p.detach().clone() for p in trunk_params]
    with torch.no_grad():
        before = value_op(td.clone())["state_value"].clone()
        for p in trunk_params:
            p.add_(0.5)
        after = value_op(td.clone())["state_value"].clone()
        for p, original in zip(trunk_params, saved):
            p.copy_(original)  # exactly as it was: add then subtract may round
    return not torch.allclose(before, after)


def _first_linear(module: Any) -> nn.Linear | None:
    return next((m for m in module.modules() if isinstance(m, nn.Linear)), None)


def _shape_mismatch(agent: ActorValueOperator, td: TensorDictBase) -> Feedback | None:
    """Run the trunk, then each head; a layer that gets the wrong width is named."""
    trunk, policy_head, value_head = agent.module[0], agent.module[1], agent.module[2]
    n_obs = td["observation"].shape[-1]
    for name, part in (("trunk", trunk), ("policy head", policy_head),
                       ("value head", value_head)):
        try:
            with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
                td = part(td)
        except RuntimeError as error:
            if "mat1 and mat2" not in str(error):
                raise
            layer = _first_linear(part)
            expects = f"{layer.in_features} numbers" if layer is not None else "another width"
            if name == "trunk":
                return wrong(
                    f"your trunk's first layer expects {expects}, but a CartPole "
                    f"observation has {n_obs} (Pendulum's has 3: a copy of the Pendulum "
                    "agent keeps its sizes)",
                    "size the trunk's input from the environment: "
                    "env.observation_spec['observation'].shape[-1]",
                )
            return wrong(
                f"your {name}'s first layer expects {expects}, but the trunk's features "
                "have another width",
                f"give the {name}'s first layer in_features = the trunk's out_features",
            )
    return None


@exercise("set `cartpole_agent` to an ActorValueOperator(trunk, policy_head, value_head)")
def check_shared_agent(agent: Any, env: Any) -> Feedback:
    """Is ``agent`` an ActorValueOperator whose two heads read a trunk they really share?

    >>> check_shared_agent(None, None).status
    'not done yet'
    """
    if isinstance(agent, ActorCriticWrapper):
        return wrong(
            "an ActorCriticWrapper bundles two separate networks: nothing is shared",
            "use ActorValueOperator(trunk, policy_head, value_head)",
        )
    if isinstance(agent, ActorCriticOperator):
        return wrong(
            "an ActorCriticOperator's critic reads the action and writes "
            "state_action_value; this exercise asks for a state value",
            "use ActorValueOperator(trunk, policy_head, value_head)",
        )
    if not isinstance(agent, ActorValueOperator):
        kind = "TensorDict module" if isinstance(agent, TensorDictModuleBase) else "object"
        return wrong(
            f"your answer is a {type(agent).__name__} ({kind}), not an ActorValueOperator",
            "ActorValueOperator(trunk, policy_head, value_head), from torchrl.modules",
        )
    problem = _trunk_feeds_heads(agent)
    if problem is not None:
        return problem
    with torch.random.fork_rng():  # the learner's random stream stays as it was
        torch.manual_seed(0)
        problem = _shape_mismatch(agent, env.reset())
        if problem is not None:
            return problem
        with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
            td = agent(env.reset())
    for key in ("action", "state_value"):
        if key not in td.keys():
            return wrong(
                f"running your agent wrote no {key!r}; it wrote "
                f"{sorted(map(str, agent.out_keys))}",
                "the policy head must write 'action' (a ProbabilisticActor) and the value "
                "head 'state_value' (a ValueOperator does by default)",
            )
    if not bool(env.action_spec.is_in(td["action"])):
        return wrong(
            f"the action {td['action'].tolist()} is not a legal CartPole action "
            "(a one-hot vector of 2)",
            "use OneHotCategorical on 'logits' and pass spec=env.action_spec",
        )
    if td["state_value"].shape[-1:] != torch.Size([1]):
        return wrong(
            f"state_value has shape {tuple(td['state_value'].shape)}; a state value is one "
            "number per state",
            "give the value head's last layer out_features=1",
        )
    if not _value_follows_trunk(agent, env.reset()):
        return wrong(
            "changing the trunk through get_policy_operator() does not change "
            "get_value_operator()'s state_value: the value head ignores the trunk",
            "make the value head read the trunk's features",
        )
    return correct(
        "the trunk is shared: a change made through the policy operator moves the value "
        "operator's state_value, and the agent writes a legal one-hot action."
    )


def return_to_go_with_ends(rewards: torch.Tensor, done: torch.Tensor,
                           gamma: float) -> torch.Tensor:
    """Discounted sum of the rewards still to come in the same episode.

    >>> r = torch.ones(3, 1)
    >>> return_to_go_with_ends(r, torch.tensor([[False], [True], [False]]), 0.5).flatten()
    tensor([1.5000, 1.0000, 1.0000])
    """
    returns = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * (~done[t]).to(rewards.dtype)
        returns[t] = running
    return returns


@exercise("set `cartpole_returns` to a [60, 1] tensor of discounted return-to-go")
def check_return_to_go(returns: Any, rollout_td: TensorDictBase, gamma: float) -> Feedback:
    """Does ``returns`` restart the discounted sum at every episode end?

    >>> check_return_to_go(None, None, 0.9).status
    'not done yet'
    """
    rewards, done = rollout_td["next", "reward"], rollout_td["next", "done"]
    truth = return_to_go_with_ends(rewards, done, gamma)
    if not isinstance(returns, torch.Tensor):
        return wrong(f"`cartpole_returns` is a {type(returns).__name__}, not a tensor",
                     "build it with torch.zeros_like(rewards) and fill it backwards")
    if returns.shape != truth.shape:
        return wrong(
            f"shape {tuple(returns.shape)}, expected {tuple(truth.shape)} like the rewards",
            "keep the rewards' shape: zeros_like(cartpole_td['next', 'reward'])",
        )
    returns = returns.to(truth.dtype)
    if torch.allclose(returns, truth, atol=1e-4):
        ends = int(done.sum())
        return correct(f"the sum restarts at each of the {ends} episode ends.")
    ignored = return_to_go_with_ends(rewards, torch.zeros_like(done), gamma)
    if torch.allclose(returns, ignored, atol=1e-4):
        root = rollout_td.get("done", None)
        if root is not None and not bool(root.any()):
            return wrong(
                "your sums never restart: they match a sum that ignores every episode end. "
                "If you reset on cartpole_td['done'], that is the wrong flag: the root "
                "'done' says whether the episode had ended *before* the step, and after "
                f"each automatic reset it is False (here at all {len(root)} steps)",
                "the flag that says 'this step ended the episode' is written with the "
                "step's result, beside its reward",
            )
        return wrong(
            "your sums run across episode ends: a step before a fall also counts the "
            "rewards of the next episode",
            "where next/done is True, the running sum must start again from that reward",
        )
    late = torch.cat([torch.zeros_like(done[:1]), done[:-1]])
    if torch.allclose(returns, return_to_go_with_ends(rewards, late, gamma), atol=1e-4):
        return wrong(
            "your sum restarts one step late: the step that ended an episode still adds "
            "the first rewards of the next one",
            "cut the sum at the step whose own done flag is True, not at the step after",
        )
    undiscounted = return_to_go_with_ends(rewards, done, 1.0)
    if torch.allclose(returns, undiscounted, atol=1e-4):
        return wrong(f"these are plain sums; each later reward should be weighted by "
                     f"gamma = {gamma} per step",
                     "running = reward + gamma * running")
    bad = (~torch.isclose(returns, truth, atol=1e-4)).flatten().nonzero().flatten().tolist()
    return wrong(f"wrong at steps {bad[:8]}{' ...' if len(bad) > 8 else ''}",
                 "go backwards: running = reward[t] + gamma * running, reset after an end")
