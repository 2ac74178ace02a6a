"""Checks for lesson 13 (PPO trains a shared-trunk actor-critic on Pendulum).

>>> from rltutor.exercises import lesson13 as ex
>>> ex.check_gae_by_hand(None).status
'not done yet'
>>> ex.five_steps()["next", "terminated"].flatten().tolist()
[False, False, True, False, False]
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase

from rltutor.exercises import Feedback, correct, exercise, not_done, wrong

__all__ = ["check_gae_by_hand", "check_ratios", "check_separate_agent", "clip_fraction",
           "critic_step_action_change", "five_steps", "probability_ratios", "stretch"]

# (gamma, lmbda) pairs the GAE check tries: the lesson's, and one that tells λ from 1 - λ
SETTINGS = ((0.9, 0.95), (0.99, 0.8))


def stretch(steps: int, *, seed: int, terminated_at: tuple[int, ...] = (),
            truncated_at: tuple[int, ...] = ()) -> TensorDictBase:
    """A made-up stretch of experience with values already in it, for checking GAE.

    Args:
        steps: its length T (every entry has shape ``[T, 1]``).
        seed: the seed of its numbers (a generator of its own: the global RNG is untouched).
        terminated_at: steps after which the episode really ended.
        truncated_at: steps after which a time limit cut the episode.

    >>> stretch(4, seed=0, truncated_at=(1,))["next", "done"].flatten().tolist()
    [False, True, False, False]
    """
    g = torch.Generator().manual_seed(seed)
    terminated = torch.zeros(steps, 1, dtype=torch.bool)
    truncated = torch.zeros(steps, 1, dtype=torch.bool)
    terminated[list(terminated_at)] = True
    truncated[list(truncated_at)] = True
    return TensorDict({
        "state_value": torch.randn(steps, 1, generator=g),
        "next": {"state_value": torch.randn(steps, 1, generator=g),
                 "reward": torch.randn(steps, 1, generator=g),
                 "terminated": terminated, "truncated": truncated,
                 "done": terminated | truncated},
    }, batch_size=[steps])


def five_steps() -> TensorDictBase:
    """The lesson's 5-step stretch: an episode terminates after step 2.

    >>> five_steps().batch_size
    torch.Size([5])
    """
    return stretch(5, seed=13, terminated_at=(2,))


def _gae(td: TensorDictBase, gamma: float, lmbda: float, *, bootstrap: str = "terminated",
         reset: str | None = "done", one_step: bool = False) -> torch.Tensor:
    """GAE written out, with switches for the usual slips (used to name a wrong answer)."""
    value, next_value = td["state_value"], td["next", "state_value"]
    keep = 1.0 if bootstrap is None else (~td["next", bootstrap]).float()
    delta = td["next", "reward"] + gamma * keep * next_value - value
    if one_step:
        return delta
    carry = 1.0 if reset is None else (~td["next", reset]).float()
    out, running = torch.zeros_like(delta), torch.zeros_like(delta[0])
    for t in reversed(range(len(delta))):
        running = delta[t] + gamma * lmbda * carry[t] * running if reset else \
            delta[t] + gamma * lmbda * running
        out[t] = running
    return out


def _truth(td: TensorDictBase, gamma: float, lmbda: float) -> torch.Tensor:
    from torchrl.objectives.value.functional import generalized_advantage_estimate

    advantage, _ = generalized_advantage_estimate(
        gamma, lmbda, td["state_value"], td["next", "state_value"], td["next", "reward"],
        td["next", "done"], td["next", "terminated"], time_dim=-2)
    return advantage


def _checking_stretches() -> list[TensorDictBase]:
    return [five_steps(), stretch(12, seed=1, terminated_at=(4,), truncated_at=(8,)),
            stretch(9, seed=2, truncated_at=(3,), terminated_at=(7,))]


@exercise("write `gae_by_hand(td, gamma, lmbda)` and run the check")
def check_gae_by_hand(gae_by_hand: Any) -> Feedback:
    """Does ``gae_by_hand`` give TorchRL's GAE advantages, episode ends included?

    >>> check_gae_by_hand(lambda td, gamma, lmbda: td["next", "reward"]).status
    'wrong'
    """
    if not callable(gae_by_hand):
        return wrong(f"`gae_by_hand` is a {type(gae_by_hand).__name__}, not a function",
                     "def gae_by_hand(td, gamma, lmbda): ... return the advantages")
    for td in _checking_stretches():
        for gamma, lmbda in SETTINGS:
            answer = gae_by_hand(td.clone(), gamma, lmbda)
            if answer is None:
                return not_done("gae_by_hand returns None: write its body, then run the "
                                "check again")
            if not isinstance(answer, torch.Tensor):
                return wrong(f"gae_by_hand returned a {type(answer).__name__}; expected a "
                             "tensor", "return a [T, 1] tensor, one advantage per step")
            steps = td.numel()
            if answer.numel() != steps:
                return wrong(f"gae_by_hand returned {answer.numel()} numbers for {steps} "
                             f"steps (shape {tuple(answer.shape)})",
                             "one advantage per step, shaped like td['next', 'reward']")
            answer = answer.detach().reshape(steps, 1).float()
            truth = _truth(td, gamma, lmbda)
            if torch.allclose(answer, truth, atol=1e-5):
                continue
            return _name_the_slip(answer, td, gamma, lmbda, truth)
    return correct(
        "your advantages match TorchRL's GAE on 3 stretches and 2 settings of (γ, λ), "
        "including an episode that terminated (no future value after it) and one cut by "
        "a time limit (the value after it still counts, but the sum restarts)."
    )


def _name_the_slip(answer: torch.Tensor, td: TensorDictBase, gamma: float, lmbda: float,
                   truth: torch.Tensor) -> Feedback:
    def close(**slip: Any) -> bool:
        return torch.allclose(answer, _gae(td, gamma, lmbda, **slip), atol=1e-5)

    if close(one_step=True):
        return wrong("these are one-step TD errors δ_t: the λ-weighted sum of later δ's is "
                     "missing", "A_t = δ_t + γλ A_{t+1}, computed backwards from the last step")
    if close(bootstrap=None):
        return wrong("after the terminated step you still added γ V(next): a terminated "
                     "episode has no future",
                     "multiply the next value by (1 - terminated)")
    if close(bootstrap="done"):
        return wrong("you dropped the next value after a time-limit cut too (you used "
                     "'done' where 'terminated' belongs)",
                     "the state after a truncation still has a future: bootstrap unless "
                     "terminated")
    if close(reset=None):
        return wrong("your running sum crosses an episode end: the advantage of the last "
                     "step of an episode includes the next episode's δ's",
                     "multiply the carried sum by (1 - done) at each step")
    if close(reset="terminated"):
        return wrong("your sum restarts after a terminated step but runs on across the "
                     "time-limit cut", "restart at every episode end: use 'done' there")
    if torch.allclose(answer, _gae(td, gamma, 1 - lmbda), atol=1e-5):
        return wrong("you weighted the later δ's by γ(1 - λ) instead of γλ",
                     "A_t = δ_t + γλ A_{t+1}")
    bad = (answer - truth).abs().argmax().item()
    return wrong(
        f"with γ={gamma}, λ={lmbda} on a {td.numel()}-step stretch, step {bad} is "
        f"{answer.flatten()[bad].item():.4f}, expected {truth.flatten()[bad].item():.4f}",
        "go backwards from the last step; check which flag stops the bootstrap and which "
        "one restarts the sum",
    )


# --- exercise 2: separate trunks ----------------------------------------------------------


def _shared_numbers(agent: Any) -> int:
    policy_ids = {id(p) for p in agent.get_policy_operator().parameters()}
    return sum(p.numel() for p in agent.get_value_operator().parameters()
               if id(p) in policy_ids)


def critic_step_action_change(agent: Any, env: Any, *, seed: int = 0) -> float:
    """How far one Adam step on ``ClipPPOLoss``'s critic term alone moves the greedy action.

    Runs on a deep copy of ``agent`` (the agent itself is not changed) and a 64-step
    rollout of ``env`` seeded with ``seed``, with the global RNG forked.

    Args:
        agent: an actor-critic with ``get_policy_operator()`` / ``get_value_operator()``.
        env: a Pendulum environment the loop does not step.
        seed: the rollout's seed.

    Returns:
        The largest change of the greedy action over the rollout's observations.
    """
    from torchrl.envs.utils import ExplorationType, set_exploration_type
    from torchrl.objectives import ClipPPOLoss
    from torchrl.objectives.value import GAE

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        agent = copy.deepcopy(agent)
        policy, value = agent.get_policy_operator(), agent.get_value_operator()
        env.set_seed(seed)
        with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
            batch = GAE(gamma=0.9, lmbda=0.95, value_network=value)(env.rollout(64, policy))
        loss_fn = ClipPPOLoss(policy, value, loss_critic_type="l2")
        optimizer = torch.optim.Adam(loss_fn.parameters(), lr=1e-2)

        def greedy() -> torch.Tensor:
            with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
                return policy(batch.clone())["action"]

        before = greedy()
        optimizer.zero_grad()
        loss_fn.loss_critic(batch)[0].mean().backward()
        optimizer.step()
        return (greedy() - before).abs().max().item()


def _lesson_like_shared_agent(spec: Any) -> Any:
    from tensordict.nn import NormalParamExtractor, TensorDictModule
    from torch import nn
    from torchrl.modules import (
        MLP,
        ActorValueOperator,
        ProbabilisticActor,
        TanhNormal,
        ValueOperator,
    )

    with torch.random.fork_rng():
        torch.manual_seed(0)
        trunk = TensorDictModule(MLP(in_features=3, out_features=64, num_cells=[64],
                                     activation_class=nn.Tanh, activate_last_layer=True),
                                 in_keys=["observation"], out_keys=["hidden"])
        head = ProbabilisticActor(
            TensorDictModule(nn.Sequential(nn.Linear(64, 2), NormalParamExtractor()),
                             in_keys=["hidden"], out_keys=["loc", "scale"]),
            in_keys=["loc", "scale"], spec=spec, distribution_class=TanhNormal,
            distribution_kwargs={"low": -2.0, "high": 2.0}, return_log_prob=True)
        return ActorValueOperator(trunk, head, ValueOperator(nn.Linear(64, 1),
                                                             in_keys=["hidden"]))


@exercise("set `separate_agent` to your ActorCriticWrapper")
def check_separate_agent(separate_agent: Any, critic_step_moves_action: Any = None, *,
                         env: Any = None) -> Feedback:
    """Is ``separate_agent`` an actor-critic with nothing shared, and was the prediction right?

    >>> check_separate_agent(None).status
    'not done yet'
    """
    for getter in ("get_policy_operator", "get_value_operator"):
        if not hasattr(separate_agent, getter):
            return wrong(f"`separate_agent` is a {type(separate_agent).__name__}, which has "
                         f"no {getter}()",
                         "wrap an actor and a critic together, as lesson 09 did")
    shared = _shared_numbers(separate_agent)
    if shared:
        return wrong(f"its policy and value operators share {shared} numbers: that is a "
                     "shared trunk, like the lesson's agent",
                     "give the actor and the critic a network each, both reading "
                     "'observation', and wrap the two")
    policy, value = separate_agent.get_policy_operator(), separate_agent.get_value_operator()
    with torch.random.fork_rng(), torch.no_grad():
        td = env.reset()
        written = value(policy(td.clone()))
    missing = [k for k in ("action", "action_log_prob", "state_value") if k not in written.keys()]
    if missing:
        return wrong(f"running the policy then the value operator wrote no {missing}",
                     "PPO needs the action's log-probability (return_log_prob=True) and a "
                     "ValueOperator writing 'state_value'")
    if critic_step_moves_action is None or critic_step_moves_action is Ellipsis:
        return not_done("the agent is right; now set `critic_step_moves_action` to your "
                        "prediction (True or False), then run the check again")
    if not isinstance(critic_step_moves_action, bool):
        return wrong(f"`critic_step_moves_action` is {critic_step_moves_action!r}; expected "
                     "True or False")
    moved = critic_step_action_change(separate_agent, env) > 1e-6
    shared_moved = critic_step_action_change(_lesson_like_shared_agent(env.action_spec), env)
    how_far = "not at all" if not moved else "by a measurable amount"
    measured = (f"measured: one Adam step on the critic's term moved your agent's greedy "
                f"action {how_far}, and a shared-trunk agent like the lesson's by up to "
                f"{shared_moved:.3f}")
    if moved:
        return wrong(measured + ": something in your actor is trained by the critic's loss",
                     "the actor's network must not be part of the critic")
    if critic_step_moves_action:
        return wrong(f"you predicted it would move; {measured}",
                     "which parameters does the critic's gradient reach when the two "
                     "networks share nothing?")
    return correct(f"right: {measured}. With separate networks the critic's error reaches "
                   "only the critic; in a shared trunk it reshapes the features the policy "
                   "reads, so the action moves too.")


# --- exercise 3: the probability ratio ----------------------------------------------------


def probability_ratios(actor: Any, batch: TensorDictBase) -> torch.Tensor:
    """π_new(a|s) / π_old(a|s) for every transition of ``batch``, flattened.

    Args:
        actor: the policy now (a probabilistic actor with ``get_dist``).
        batch: collected transitions with ``action`` and ``action_log_prob``.
    """
    flat = batch.reshape(-1)
    with torch.no_grad():
        new = actor.get_dist(flat.clone()).log_prob(flat["action"])
    return (new.reshape(-1) - flat["action_log_prob"].reshape(-1)).exp()


def clip_fraction(policy: Any, value: Any, batch: TensorDictBase, clip_epsilon: float) -> float:
    """The share of ``batch`` that ``ClipPPOLoss(clip_epsilon=...)`` reports clipped.

    Args:
        policy: the policy operator.
        value: the value operator.
        batch: collected transitions with an ``advantage``.
        clip_epsilon: PPO's ε.
    """
    from torchrl.objectives import ClipPPOLoss

    loss_fn = ClipPPOLoss(policy, value, clip_epsilon=clip_epsilon, entropy_bonus=False)
    with torch.no_grad():
        return loss_fn(batch.reshape(-1).clone())["clip_fraction"].item()


@exercise("write `ratios(td)` and run the check")
def check_ratios(ratios: Any, loss_fn: Any, batch: Any) -> Feedback:
    """Does ``ratios(td)`` give π_new/π_old, the ratio whose clipping ClipPPOLoss reports?

    >>> check_ratios(None, None, None).status
    'not done yet'
    """
    if not callable(ratios):
        return wrong(f"`ratios` is a {type(ratios).__name__}, not a function",
                     "def ratios(td): ... return one ratio per transition")
    with torch.random.fork_rng():
        answer = ratios(batch.reshape(-1).clone())
    if answer is None:
        return not_done("ratios returns None: write its body, then run the check again")
    if not isinstance(answer, torch.Tensor):
        return wrong(f"ratios returned a {type(answer).__name__}; expected a tensor",
                     "return a tensor with one ratio per transition")
    n = batch.numel()
    if answer.numel() != n:
        return wrong(f"ratios returned {answer.numel()} numbers for {n} transitions",
                     "one ratio per transition: keep the batch's shape, or flatten it")
    answer = answer.detach().reshape(-1).float()
    truth = probability_ratios(loss_fn.actor_network, batch)
    if not torch.allclose(answer, truth, rtol=1e-3, atol=1e-5):
        if torch.allclose(answer, truth.log(), rtol=1e-3, atol=1e-5):
            return wrong("these are log-ratios (new log-prob minus old), not ratios",
                         "the ratio of two probabilities is the exp of the difference of "
                         "their logs")
        if torch.allclose(answer, 1 / truth, rtol=1e-3, atol=1e-5):
            return wrong("your ratio is upside down: old over new",
                         "PPO's ratio is the new policy's probability over the old one's")
        if torch.allclose(answer, torch.ones_like(answer), atol=1e-6):
            return wrong("every ratio is 1: you compared the old log-probability with "
                         "itself", "the new log-probability comes from the policy's "
                         "distribution now, on the batch's observations")
        return wrong(f"the ratios differ from π_new/π_old by up to "
                     f"{(answer - truth).abs().max().item():.3g}",
                     "score the action the collector took (not a new sample or the mode) "
                     "under the policy's distribution now")
    policy, value = loss_fn.actor_network, loss_fn.critic_network
    shares = []
    for eps in (0.1, 0.2, 0.3):
        mine = ((answer - 1).abs() > eps).float().mean().item()
        theirs = clip_fraction(policy, value, batch, eps)
        if abs(mine - theirs) > 2 / n:
            return wrong(f"at ε={eps} your ratios put {mine:.1%} outside [1-ε, 1+ε], but "
                         f"ClipPPOLoss clips {theirs:.1%}")
        shares.append(f"ε={eps}: {theirs:.0%}")
    return correct(f"your {n} ratios are PPO's; outside [1-ε, 1+ε], as ClipPPOLoss reports: "
                   + ", ".join(shares) + ". A smaller ε clips more of the batch.")
