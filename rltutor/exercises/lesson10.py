"""Checks for lesson 10 (losses and replay).

>>> from rltutor.exercises import lesson10 as ex
>>> ex.check_gae_by_hand(None, None).status
'not done yet'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.objectives.value import GAE

from rltutor._kinds import is_replay_buffer
from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_episodes", "check_gae_by_hand", "gae_cases"]

STEPS = 5
SETTINGS = ((0.99, 0.95), (0.9, 0.5))  # (gamma, lmbda): the lesson's, and one more
MASK_KEY = ("collector", "mask")
TRAJ_KEY = ("collector", "traj_ids")


def _gae(reward: torch.Tensor, value: torch.Tensor, next_value: torch.Tensor,
         done: torch.Tensor, gamma: float, lmbda: float) -> torch.Tensor:
    """TorchRL's GAE on precomputed values (no value network): the reference answer."""
    td = TensorDict({"state_value": value,
                     "next": {"state_value": next_value, "reward": reward, "done": done,
                              "terminated": done}}, batch_size=[len(reward)])
    return GAE(gamma=gamma, lmbda=lmbda, value_network=None)(td)["advantage"]


def gae_cases(batch: TensorDictBase | None = None) -> list[dict[str, Any]]:
    """The inputs the check feeds ``gae_by_hand``: 5 steps of ``batch`` and 5 made-up steps
    with an episode end at step 2, each at two (gamma, lmbda) settings.

    Args:
        batch: a batch with ``state_value`` and ``("next", "state_value")`` (GAE's output).

    >>> [case["done"].flatten().tolist() for case in gae_cases()][0]
    [False, False, True, False, False]
    """
    with torch.random.fork_rng():  # the learner's random stream stays as it was
        torch.manual_seed(0)
        made_up = {"reward": torch.randn(STEPS, 1), "value": torch.randn(STEPS, 1),
                   "next_value": torch.randn(STEPS, 1),
                   "done": torch.tensor([[False], [False], [True], [False], [False]])}
    inputs = [made_up]
    if batch is not None:
        inputs.insert(0, {"reward": batch["next", "reward"][:STEPS],
                          "value": batch["state_value"][:STEPS],
                          "next_value": batch["next", "state_value"][:STEPS],
                          "done": batch["next", "done"][:STEPS]})
    return [dict(case, gamma=gamma, lmbda=lmbda) for case in inputs
            for gamma, lmbda in SETTINGS]


def _variants(case: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The answers of typical mistakes, for one case."""
    r, v, nv, d = case["reward"], case["value"], case["next_value"], case["done"]
    gamma, lmbda = case["gamma"], case["lmbda"]
    delta = r + gamma * nv * (~d) - v
    return {
        "delta": delta,
        "no_lambda": _gae(r, v, nv, d, gamma, 1.0),
        "no_done": _gae(r, v, nv, torch.zeros_like(d), gamma, lmbda),
        "value_target": _gae(r, v, nv, d, gamma, lmbda) + v,
    }


_MISTAKES = {
    "delta": ("these are the one-step surprises delta_t alone",
              "the advantage also adds the later deltas: A_t = delta_t + gamma * lmbda * "
              "A_(t+1), going backwards"),
    "no_lambda": ("later deltas are weighted by gamma per step, without lmbda",
                  "each step back multiplies by gamma * lmbda, not gamma alone"),
    "no_done": ("right where no episode ends, wrong before an end: your sum runs on into the "
                "next episode",
                "after a step whose done is True, count the next value and the later "
                "advantage as 0"),
    "value_target": ("these are value targets (advantage + value), what the critic should "
                     "have predicted",
                     "the advantage is how much better than the critic's value: subtract it"),
}


@exercise("set `gae_by_hand` to your function gae_by_hand(reward, value, next_value, done, "
          "gamma, lmbda)")
def check_gae_by_hand(gae_by_hand: Any, batch: TensorDictBase | None) -> Feedback:
    """Does the learner's function give TorchRL's ``GAE`` advantages, ends included?

    >>> check_gae_by_hand(torch.zeros(5, 1), None).status
    'wrong'
    """
    if isinstance(gae_by_hand, (torch.Tensor, TensorDictBase)):
        return wrong("`gae_by_hand` is a tensor; the exercise asks for a function that "
                     "computes advantages from rewards and values",
                     "def gae_by_hand(reward, value, next_value, done, gamma, lmbda): ...")
    if not isinstance(gae_by_hand, Callable):
        return wrong(f"`gae_by_hand` is a {type(gae_by_hand).__name__}, not a function",
                     "def gae_by_hand(reward, value, next_value, done, gamma, lmbda): ...")
    refused = RuntimeError("the check replaced GAE while your function ran")
    for case in gae_cases(batch):
        truth = _gae(**case)
        with mock.patch.object(GAE, "forward", side_effect=refused):
            try:
                answer = gae_by_hand(**{k: v.clone() if isinstance(v, torch.Tensor) else v
                                        for k, v in case.items()})
            except RuntimeError as error:
                if error is not refused:
                    raise
                return wrong("your function calls TorchRL's GAE; the exercise asks you to "
                             "compute the advantage yourself, then compare with GAE",
                             "two formulas: delta_t, then A_t backwards")
        if not isinstance(answer, torch.Tensor) or answer.numel() != truth.numel():
            kind = (f"{answer.numel()} numbers" if isinstance(answer, torch.Tensor)
                    else f"a {type(answer).__name__}")
            return wrong(f"your function returned {kind}; expected {STEPS} advantages",
                         "return one advantage per step, shaped like reward")
        answer = answer.detach().reshape(truth.shape).to(truth.dtype)
        if torch.allclose(answer, truth, atol=1e-4):
            continue
        where = ("the made-up steps with an episode end at step 2" if bool(case["done"].any())
                 else "the first 5 steps of the batch")
        setting = f"gamma={case['gamma']}, lmbda={case['lmbda']}"
        for name, variant in _variants(case).items():
            if torch.allclose(answer, variant, atol=1e-4):
                message, hint = _MISTAKES[name]
                return wrong(f"on {where} ({setting}): {message}", hint)
        bad = (~torch.isclose(answer, truth, atol=1e-4)).flatten().nonzero().flatten()
        return wrong(f"on {where} ({setting}): wrong at steps {bad.tolist()}",
                     "delta_t = r_t + gamma * V(s_t+1) * (not done) - V(s_t); go backwards")
    return correct(f"your advantages match TorchRL's GAE on {len(gae_cases(batch))} cases, "
                   "episode end included: GAE is lesson 09's backward sum, run over the "
                   "critic's surprises instead of the rewards.")


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
    if width != longest:
        return wrong(f"rows are {width} steps long; the longest trajectory has {longest}",
                     "pad every row to the longest trajectory, no further")
    mask = episodes[MASK_KEY].reshape(rows, width).bool()
    if not torch.equal(mask, mask.cummin(dim=1).values):
        return wrong("the mask has gaps: padding sits between real steps",
                     "real steps first, then padding, in every row")
    by_id = {traj: (start, length) for traj, start, length in trajectories}
    for row in range(rows):
        ids = episodes[TRAJ_KEY][row][mask[row]].reshape(-1).unique().tolist()
        if len(ids) != 1:
            return wrong(f"row {row} holds steps of trajectories {ids}",
                         "each row must hold exactly one trajectory")
        start, length = by_id.get(ids[0], (0, -1))
        real = episodes["observation"][row][mask[row]]
        if (len(real) != length
                or not torch.equal(real, data["observation"][start:start + length])):
            return wrong(f"row {row} is not trajectory {ids[0]}'s {length} steps in order",
                         "keep every step of a trajectory, in the order it was collected")
    return correct(f"{rows} trajectories, one per row, padded to {longest} steps; the mask "
                   f"marks {int(mask.sum())} real steps, as many as the data holds.")
