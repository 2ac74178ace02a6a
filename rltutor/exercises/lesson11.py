"""Checks for lesson 11 (a first training loop: DQN on CartPole).

>>> from rltutor.exercises import lesson11 as ex
>>> ex.check_half_way_updates(None).status
'not done yet'
>>> ex.check_half_way_updates(69).status
'correct'
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from tensordict import TensorDictBase

from rltutor.exercises import Feedback, correct, exercise, not_done, wrong

__all__ = ["GAMMA", "check_half_way_updates", "check_td_target", "observed_half_way"]

GAMMA = 0.99  # the lesson's discount (loss_fn.make_value_estimator(gamma=0.99))


def observed_half_way(tau: float = 0.01, *, limit: int = 10_000) -> int:
    """Count the ``SoftUpdate(tau=tau)`` steps until a target copy has closed half its gap.

    Observed on a real ``DQNLoss``, not computed from a formula: the online weights jump
    by 1 and stay put, and the target copy follows.

    Args:
        tau: the share of the remaining gap each update closes (``eps`` = 1 - tau).
        limit: give up after this many updates.

    >>> observed_half_way(0.1)
    7
    """
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.data import OneHot
    from torchrl.modules import QValueModule
    from torchrl.objectives import DQNLoss, SoftUpdate

    spec = OneHot(2)
    net = TensorDictModule(torch.nn.Linear(1, 2), in_keys=["observation"],
                           out_keys=["action_value"])
    loss = DQNLoss(TensorDictSequential(net, QValueModule(spec=spec)), action_space=spec,
                   delay_value=True)
    updater = SoftUpdate(loss, tau=tau)
    with torch.no_grad():
        for p in loss.parameters():
            p.add_(1.0)
    for step in range(1, limit + 1):
        updater.step()
        pairs = zip(loss.value_network_params.values(True, True),
                    loss.target_value_network_params.values(True, True))
        if max((o - t).abs().max().item() for o, t in pairs) < 0.5:
            return step
    raise RuntimeError(f"the target copy did not get half-way in {limit} updates")


@exercise("set `half_way_updates` to your prediction: a whole number of updates")
def check_half_way_updates(half_way_updates: Any) -> Feedback:
    """Is the prediction the number of SoftUpdate(tau=0.01) steps to close half the gap?

    >>> check_half_way_updates(50).status
    'wrong'
    """
    if isinstance(half_way_updates, bool) or not isinstance(half_way_updates, numbers.Real):
        return wrong(
            f"`half_way_updates` is a {type(half_way_updates).__name__}; expected a number",
            "a count of target_updater.step() calls, e.g. 10",
        )
    truth = observed_half_way(0.01)
    guess = half_way_updates
    if guess != int(guess):
        return wrong(
            f"{guess} is not a whole number of updates",
            "round up: the answer is the first update after which less than half is left",
        )
    guess = int(guess)
    if guess == truth:
        return correct(
            f"{truth} updates: each one leaves 0.99 of the gap, and 0.99^{truth} = "
            f"{0.99 ** truth:.4f} is the first power below one half (ln 0.5 / ln 0.99 = "
            "68.97)."
        )
    if guess == 50:
        return wrong(
            "50 would be right if every update closed 1 % of the *first* gap",
            "each update closes 1 % of what is *left*: after n updates 0.99^n of the gap "
            "remains; find the first n with 0.99^n < 0.5",
        )
    if guess == 100:
        return wrong(
            "100 = 1 / (1 - 0.99) is the time constant; after 100 updates only "
            f"0.99^100 = {0.99 ** 100:.2f} of the gap is left, well past half-way",
            "find the first n with 0.99^n < 0.5 (logarithms help)",
        )
    if guess in (1, 2):
        return wrong(
            "tau=0.01 is the share of the gap closed per update, not 99 % of the way "
            "(older code writes eps = 1 - tau = 0.99: the share of the old target *kept*)",
            "target = 0.99 x target + 0.01 x online: 1 % of the gap closes per update",
        )
    direction = "too few" if guess < truth else "too many"
    return wrong(
        f"{guess} updates is {direction}: after {guess} updates 0.99^{guess} = "
        f"{0.99 ** guess:.4f} of the gap is left",
        "find the first n with 0.99^n < 0.5",
    )


def _checking_batch(buffer: Any) -> TensorDictBase:
    """Transitions from ``buffer``: every terminated one, up to 200 others, and (whether or
    not training ever reached 500 steps) some marked truncated, as at CartPole's time limit.
    """
    stored = buffer[: len(buffer)]
    terminated = stored["next", "terminated"].reshape(-1)
    ended = terminated.nonzero().reshape(-1)[:100]
    others = (~terminated).nonzero().reshape(-1)
    others = others[:: max(1, len(others) // 200)][:200]
    batch = stored[torch.cat([ended, others])].clone()
    ongoing = (~batch["next", "terminated"].reshape(-1)).nonzero().reshape(-1)
    cut = ongoing[::4]  # a time limit ends these: done and truncated, not terminated
    batch["next", "truncated"][cut] = True
    batch["next", "done"][cut] = True
    return batch


def _target(batch: TensorDictBase, loss_fn: Any, *, params: Any, mask: str | None,
            gamma: float = GAMMA) -> torch.Tensor:
    with torch.no_grad(), params.to_module(loss_fn.value_network):
        next_values = loss_fn.value_network(batch["next"].clone())["action_value"]
    best_next = next_values.max(-1, keepdim=True).values
    keep = 1.0 if mask is None else (~batch["next", mask]).float()
    return (batch["next", "reward"] + gamma * keep * best_next).reshape(-1)


@exercise("write `td_target(batch)` and run the check")
def check_td_target(td_target: Any, loss_fn: Any, buffer: Any) -> Feedback:
    """Does ``td_target(batch)`` compute reward + 0.99 x max target Q(next) where not terminated?

    >>> check_td_target(None, None, None).status
    'not done yet'
    """
    if not callable(td_target):
        return wrong(
            f"`td_target` is a {type(td_target).__name__}, not a function",
            "def td_target(batch): ... return the targets",
        )
    batch = _checking_batch(buffer)
    answer = td_target(batch.clone())
    if answer is None:  # the lesson's stub: still to write
        return not_done("td_target returns None: write its body, then run the check again")
    if not isinstance(answer, torch.Tensor):
        return wrong(f"td_target returned a {type(answer).__name__}; expected a tensor",
                     "return reward + gamma * ... as a tensor")
    n = batch.numel()
    if answer.numel() != n:
        return wrong(
            f"td_target returned {answer.numel()} numbers for {n} transitions "
            f"(shape {tuple(answer.shape)})",
            "take the max over the last dimension (the 2 actions): one target per transition",
        )
    answer = answer.detach().reshape(-1).float()
    target_params = loss_fn.target_value_network_params
    truth = _target(batch, loss_fn, params=target_params, mask="terminated")
    if torch.allclose(answer, truth, atol=1e-4):
        ended = int(batch["next", "terminated"].sum())
        cut = int(batch["next", "truncated"].sum())
        return correct(
            f"all {n} targets match, including {ended} terminated transitions (reward "
            f"only) and {cut} truncated ones (still bootstrapped: the pole was up)."
        )
    close = lambda other: torch.allclose(answer, other, atol=1e-4)  # noqa: E731
    if close(_target(batch, loss_fn, params=target_params, mask="done")):
        return wrong(
            "your targets drop the bootstrap on truncated transitions too (you masked "
            "with 'done')",
            "at a time limit the pole is still up and the future still counts: mask with "
            "('next', 'terminated') only",
        )
    if close(_target(batch, loss_fn, params=target_params, mask=None)):
        return wrong(
            "your targets bootstrap everywhere, even where the pole fell",
            "multiply the next value by (~batch['next', 'terminated']).float()",
        )
    if close(batch["next", "reward"].reshape(-1).float()):
        return wrong(
            "your targets are the reward alone: nothing of the next state's value",
            "add 0.99 x the largest action value the target copy gives batch['next'] "
            "(and bootstrap only where the episode did not terminate)",
        )
    online = loss_fn.value_network_params
    if close(_target(batch, loss_fn, params=online, mask=None)):
        return wrong(
            "two things differ from DQN's target: these values come from the *online* "
            "network, and they bootstrap even where the pole fell",
            "run the value network with the target copy's parameters swapped in, and keep "
            "the next value only where the episode did not terminate",
        )
    if close(_target(batch, loss_fn, params=online, mask="terminated")):
        return wrong(
            "these are the targets of the *online* network, the one being trained",
            "run the value network inside "
            "`with loss_fn.target_value_network_params.to_module(loss_fn.value_network):`",
        )
    if close(_target(batch, loss_fn, params=target_params, mask="terminated", gamma=1.0)):
        return wrong("you left out the discount", f"multiply the next value by gamma = {GAMMA}")
    bad = (answer - truth).abs().argmax().item()
    return wrong(
        f"the targets differ, by up to {(answer - truth).abs().max().item():.3g} "
        f"(transition {bad}: yours {answer[bad].item():.4g}, expected {truth[bad].item():.4g})",
        "reward + 0.99 x (max over actions of the target network's action_value on "
        "batch['next']) x (1 - terminated)",
    )
