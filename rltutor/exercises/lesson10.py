"""Checks for lesson 10 (losses and replay).

>>> from rltutor.exercises import lesson10 as ex
>>> ex.check_dqn_loss_by_hand(None, None, None).status
'not done yet'
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import torch
from tensordict import TensorDictBase
from torchrl.objectives import DQNLoss

from rltutor._kinds import is_replay_buffer
from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_dqn_loss_by_hand", "check_episodes"]

GAMMAS = (0.99, 0.5)  # the loss's default, and one more so no constant passes
MASK_KEY = ("collector", "mask")
TRAJ_KEY = ("collector", "traj_ids")


def _reference(q_actor: Any, batch: TensorDictBase, gamma: float) -> torch.Tensor:
    """TorchRL's DQNLoss (no target copy) at this gamma: the number to match."""
    loss = DQNLoss(q_actor, action_space="one_hot", delay_value=False)
    loss.make_value_estimator(gamma=gamma)
    return loss(batch.clone())["loss"]


def _variants(q_actor: Any, batch: TensorDictBase, gamma: float) -> dict[str, torch.Tensor]:
    """The numbers that typical slips give, for naming a wrong answer."""
    with torch.no_grad():
        q = q_actor(batch.clone())["action_value"]
        q_next = q_actor(batch["next"].clone())["action_value"].max(-1).values
    q_taken = (q * batch["action"]).sum(-1)
    reward = batch["next", "reward"].squeeze(-1)
    alive = (~batch["next", "terminated"].squeeze(-1)).to(q.dtype)
    target = reward + gamma * alive * q_next
    return {
        "no_terminated": (q_taken - (reward + gamma * q_next)).pow(2).mean(),
        "same_state": (q_taken - (reward + gamma * alive * q.max(-1).values)).pow(2).mean(),
        "max_not_taken": (q.max(-1).values - target).pow(2).mean(),
        "not_squared": (q_taken - target).abs().mean(),
    }


_MISTAKES = {
    "no_terminated": ("your target adds gamma * max Q(s', a') after steps that ended the "
                      "episode", "after a terminated step nothing follows: count that term "
                      "as 0 there (('next', 'terminated'))"),
    "same_state": ("your target's max is taken over Q(s, .), the state the action was taken "
                   "in", "the target looks one step ahead: the Q-values of next.observation"),
    "max_not_taken": ("your prediction is the best Q-value in s, not the Q-value of the "
                      "action that was taken", "pick the action_value entry that the "
                      "one-hot 'action' marks"),
    "not_squared": ("that is the mean absolute difference", "DQNLoss's default is the mean "
                    "of the squared differences"),
}


def _grads(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


@exercise("set `dqn_loss_by_hand` to your function dqn_loss_by_hand(q_actor, batch, gamma)")
def check_dqn_loss_by_hand(dqn_loss_by_hand: Any, q_actor: Any,
                           batch: TensorDictBase) -> Feedback:
    """Does the learner's function give DQNLoss's number, and its gradient, at two gammas?

    >>> check_dqn_loss_by_hand(torch.tensor(1.0), None, None).status
    'wrong'
    """
    if isinstance(dqn_loss_by_hand, (torch.Tensor, TensorDictBase, float)):
        return wrong("`dqn_loss_by_hand` is a value; the exercise asks for a function that "
                     "computes the loss from the network and the batch",
                     "def dqn_loss_by_hand(q_actor, batch, gamma): ...")
    if not callable(dqn_loss_by_hand):
        return wrong(f"`dqn_loss_by_hand` is a {type(dqn_loss_by_hand).__name__}, not a "
                     "function", "def dqn_loss_by_hand(q_actor, batch, gamma): ...")
    params = [p for p in q_actor.parameters() if p.requires_grad]
    refused = RuntimeError("the check replaced DQNLoss while your function ran")
    exploring = batch.clone()  # other actions at every other step, as an exploring policy's
    exploring["action"][::2] = exploring["action"][::2].roll(1, dims=-1)
    for batch, gamma in [(batch, g) for g in GAMMAS] + [(exploring, GAMMAS[0])]:
        with torch.random.fork_rng():
            truth = _reference(q_actor, batch, gamma)
            with mock.patch.object(DQNLoss, "forward", side_effect=refused):
                try:
                    answer = dqn_loss_by_hand(q_actor, batch.clone(), gamma)
                except RuntimeError as error:
                    if error is not refused:
                        raise
                    return wrong("your function calls TorchRL's DQNLoss; the exercise asks "
                                 "you to compute the loss from its parts, then compare",
                                 "Q(s, a) of the taken action, the target, their squared gap")
        if not isinstance(answer, torch.Tensor) or answer.numel() != 1:
            kind = (f"{answer.numel()} numbers" if isinstance(answer, torch.Tensor)
                    else f"a {type(answer).__name__}")
            return wrong(f"your function returned {kind}; a loss is one number",
                         "average over the batch: .mean()")
        where = (f"at gamma={gamma}" if batch is not exploring
                 else "on the batch with exploring actions")
        if not torch.allclose(answer.reshape(()).detach(), truth.detach(), atol=1e-4):
            for name, variant in _variants(q_actor, batch, gamma).items():
                if torch.allclose(answer.reshape(()).detach(), variant, atol=1e-4):
                    message, hint = _MISTAKES[name]
                    return wrong(f"{where}: {message}", hint)
            return wrong(f"{where} your loss is {answer.item():.4f}, DQNLoss's "
                         f"{truth.item():.4f}",
                         "target = r + gamma * max Q(s', .) (0 after a terminated step); "
                         "loss = mean of (Q(s, a) - target) ** 2")
        if not answer.requires_grad:
            return wrong("the number is right, but it carries no gradient: an optimiser "
                         "could not learn from it", "compute Q(s, a) with gradients; only "
                         "the target is computed without")
        mine, theirs = _grads(answer.reshape(()), params), _grads(truth, params)
        if not all(torch.allclose(a, b, atol=1e-5) for a, b in zip(mine, theirs)):
            return wrong("the number is right, but the gradient differs from DQNLoss's: "
                         "your target moves with the network",
                         "DQN treats the target as a fixed number: torch.no_grad() or "
                         ".detach() around it")
    return correct("the same number and the same gradient as DQNLoss, at gamma = 0.99 and "
                   "0.5 and with exploring actions: Q(s, a) chases a target that the "
                   "gradient does not touch.")


def _trajectories(data: TensorDictBase) -> list[tuple[int, int, int]]:
    """(trajectory id, first index, length) of each run of one id along flat data."""
    ids, counts = torch.unique_consecutive(data[TRAJ_KEY].reshape(-1), return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    return list(zip(ids.tolist(), starts.tolist(), counts.tolist()))


@exercise("set `episodes` to a [trajectories, time] TensorDict with a ('collector', 'mask')")
def check_episodes(episodes: Any, data: TensorDictBase) -> Feedback:
    """Is ``episodes`` the flat ``data`` cut into one padded row per trajectory?

    >>> check_episodes(None, None).status
    'not done yet'
    """
    trajectories = _trajectories(data)
    longest = max(length for _, _, length in trajectories)
    if is_replay_buffer(episodes):
        return wrong("`episodes` is a replay buffer: it samples pieces at random, while the "
                     "exercise asks for every trajectory, whole",
                     "cut the data itself: one row per trajectory id")
    if not isinstance(episodes, TensorDictBase):
        return wrong(f"`episodes` is a {type(episodes).__name__}, not a TensorDict",
                     "start from collected_300, a TensorDict")
    if episodes.batch_dims != 2:
        return wrong(f"batch_size {tuple(episodes.batch_size)}: expected two dimensions, "
                     "[trajectories, time]",
                     "one row per trajectory, padded to the longest one")
    rows, width = episodes.batch_size
    if rows != len(trajectories):
        return wrong(f"{rows} rows; the data holds {len(trajectories)} trajectories",
                     "count the distinct values of ('collector', 'traj_ids')")
    if MASK_KEY not in episodes.keys(True):
        return wrong("no mask under ('collector', 'mask'): nothing says which entries are "
                     "real steps and which are padding",
                     "a boolean [trajectories, time] entry, True on real steps")
    mask = episodes[MASK_KEY].reshape(rows, width).bool()
    row_ids = []
    for row in range(rows):
        ids = episodes[TRAJ_KEY][row][mask[row]].reshape(-1).unique().tolist()
        if len(ids) != 1:
            return wrong(f"row {row} holds steps of trajectories {ids}",
                         "each row must hold exactly one trajectory")
        row_ids.append(ids[0])
    if width != longest:
        return wrong(f"rows are {width} steps long; the longest trajectory has {longest}",
                     "pad every row to the longest trajectory, no further")
    if not torch.equal(mask, mask.cummin(dim=1).values):
        return wrong("the mask has gaps: padding sits between real steps",
                     "real steps first, then padding, in every row")
    by_id = {traj: (start, length) for traj, start, length in trajectories}
    for row, traj in enumerate(row_ids):
        ids = [traj]
        start, length = by_id.get(traj, (0, -1))
        real = episodes["observation"][row][mask[row]]
        if (len(real) != length
                or not torch.equal(real, data["observation"][start:start + length])):
            return wrong(f"row {row} is not trajectory {ids[0]}'s {length} steps in order",
                         "keep every step of a trajectory, in the order it was collected")
    return correct(f"{rows} trajectories, one per row, padded to {longest} steps; the mask "
                   f"marks {int(mask.sum())} real steps, as many as the data holds.")
