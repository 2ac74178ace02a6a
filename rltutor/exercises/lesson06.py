"""Checks for lesson 06 (recurrent policies: primer, state in the TensorDict, recurrent mode).

    >>> from rltutor.exercises import lesson06 as ex
    >>> ex.check_gru_policy(None, None).status
    'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase

from rltutor.diagnostics import check_policy
from rltutor.envs import env_id
from rltutor.exercises import Feedback, correct, exercise, is_unanswered, not_done, wrong

__all__ = ["check_gru_policy", "check_side_by_side"]


def _fresh_copy(env: Any) -> Any:
    """A new env of the same gymnasium id with copies of ``env``'s transforms.

    Checks step this copy, so the learner's env keeps its seed and state.
    """
    from torchrl.envs import GymEnv, TransformedEnv


    base = GymEnv(env_id(env))
    transform = getattr(env, "transform", None)
    return base if transform is None else TransformedEnv(base, transform.clone())


def _recurrent_modules(policy: Any) -> list[Any]:
    from torchrl.modules import GRUModule, LSTMModule

    return [m for m in policy.modules() if isinstance(m, (GRUModule, LSTMModule))]


@exercise("set `gru_policy` to a TensorDictSequential that starts with a GRUModule")
def check_gru_policy(gru_policy: Any, gru_env: Any) -> Feedback:
    """Is ``gru_policy`` a GRU policy reading ``position`` whose state ``gru_env`` carries?

    >>> from tensordict.nn import TensorDictModule, TensorDictSequential
    >>> from torchrl.envs import GymEnv, InitTracker, TransformedEnv, UnaryTransform
    >>> from torchrl.modules import GRUModule
    >>> env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    >>> env = env.append_transform(UnaryTransform(
    ...     in_keys=["observation"], out_keys=["position"], fn=lambda obs: obs[..., :2]))
    >>> gru = GRUModule(input_size=2, hidden_size=16, in_key="position", out_key="memory")
    >>> head = TensorDictModule(torch.nn.Linear(16, 1), in_keys=["memory"], out_keys=["action"])
    >>> policy = TensorDictSequential(gru, head)
    >>> check_gru_policy(policy, env).status  # no primer yet: the state is not carried
    'wrong'
    >>> env = env.append_transform(gru.make_tensordict_primer())
    >>> check_gru_policy(policy, env).status
    'correct'
    """
    from torchrl.modules import GRUModule

    if is_unanswered(gru_env):
        return not_done("set `gru_env` to make_pomdp_env() with the GRU's primer appended")
    if not isinstance(gru_policy, TensorDictModuleBase):
        return wrong(f"gru_policy is a {type(gru_policy).__name__}, not a TensorDict module",
                     "wrap the GRUModule and the head in TensorDictSequential(gru, head)")
    if not hasattr(gru_env, "rollout"):
        return wrong(f"gru_env is a {type(gru_env).__name__}, not a TorchRL environment",
                     "start from env = make_pomdp_env()")
    recurrent = _recurrent_modules(gru_policy)
    if not any(isinstance(m, GRUModule) for m in recurrent):
        found = type(recurrent[0]).__name__ if recurrent else "no recurrent module"
        return wrong(f"the policy contains {found}, not a GRUModule",
                     "GRUModule(input_size=2, hidden_size=16, in_key='position', "
                     "out_key='memory')")
    gru = next(m for m in recurrent if isinstance(m, GRUModule))
    if "observation" in [k for k in gru_policy.in_keys if isinstance(k, str)]:
        return wrong("the policy reads 'observation', which includes the hidden velocity",
                     "read 'position' (in_key='position') so memory is needed")
    # everything below runs on a copy: the learner's env and torch's generator keep
    # their state (a check that reseeded them would change the lesson's next outputs)
    with torch.random.fork_rng():
        env = _fresh_copy(gru_env)
        findings = check_policy(gru_policy, env)
        if findings:
            first = findings[0]
            return wrong(first.what, f"{first.fix}  ({first.why})")
        env.set_seed(0)
        with torch.no_grad():
            rollout_td = env.rollout(20, gru_policy)
    if "action" not in rollout_td.keys():
        return wrong("the rollout has no 'action'", "the head's out_keys must be ['action']")
    state_key = next(k for k in gru.in_keys if k != gru.in_keys[0] and k != "is_init")
    carried = torch.allclose(rollout_td[state_key][1:], rollout_td["next", state_key][:-1])
    if not carried:
        return wrong(f"'{state_key}' read at step t is not the one written at step t-1",
                     "append gru.make_tensordict_primer() to the env your rollout uses")
    return correct(f"the GRU's '{state_key}' travels from step to step through the "
                   "TensorDict: your policy has memory.")


def _step_by_step(policy: Any, trajectory: TensorDictBase) -> torch.Tensor:
    """The policy's ``memory`` at each step of ``trajectory``, stepping as a rollout does.

    The state written under ``next`` at step t is read at step t + 1; the module itself
    resets it to zeros where ``is_init`` is True.
    """
    from torchrl.modules import set_recurrent_mode

    carried = None
    outputs = []
    with torch.no_grad(), set_recurrent_mode(False):
        for t in range(trajectory.shape[-1]):
            step = trajectory[..., t].clone()
            if carried is not None:
                step.update(carried)
            out = policy(step)
            outputs.append(out["memory"])
            carried = out["next"].select(*[k for k in out["next"].keys()
                                           if str(k).startswith("recurrent_state")])
    return torch.stack(outputs, dim=trajectory.ndim - 1)


def _episodes(flat: TensorDictBase) -> list[TensorDictBase]:
    """The episodes stored one after another in ``flat``, cut where ``is_init`` is True."""
    starts = flat["is_init"].reshape(-1).nonzero().flatten().tolist()
    ends = [*starts[1:], flat.shape[0]]
    return [flat[a:b] for a, b in zip(starts, ends)]


def _check_layout(side_by_side: Any, episodes: list[TensorDictBase]) -> Feedback | None:
    rows, longest = len(episodes), max(e.shape[0] for e in episodes)
    lengths = [e.shape[0] for e in episodes]
    if not isinstance(side_by_side, TensorDictBase):
        return wrong(f"side_by_side is a {type(side_by_side).__name__}, not a TensorDict",
                     "keep the episodes in a TensorDict: the policy reads it")
    shape = tuple(side_by_side.batch_size)
    if shape == (sum(lengths),):
        return wrong(f"side_by_side has batch {list(shape)}: the episodes are still one after "
                     "another, not side by side",
                     f"one row per episode: batch [{rows}, {longest}]")
    if shape == (longest, rows):
        return wrong(f"side_by_side has batch {list(shape)}: time runs along the first dim",
                     "recurrent mode reads the LAST batch dim as time: "
                     f"[{rows} episodes, {longest} steps]")
    if len(shape) == 2 and shape[0] == rows and shape[1] == min(lengths) < longest:
        return wrong(f"side_by_side has batch {list(shape)}: the longer episode was cut to "
                     "the shorter one's length",
                     "pad the short episode instead of cutting the long one, and mark the "
                     "real steps in a 'mask' entry")
    if shape != (rows, longest):
        return wrong(f"side_by_side has batch {list(shape)}, expected [{rows}, {longest}] "
                     f"({rows} episodes side by side, the longest has {longest} steps)",
                     "one row per episode, padded to the longest: a step's id must change "
                     "exactly where is_init is True")
    if "mask" not in side_by_side.keys():
        return wrong("side_by_side has no 'mask' entry: nothing says which steps are padding",
                     "TorchRL's helper in torchrl.collectors.utils writes it for you")
    mask = side_by_side["mask"].reshape(rows, longest).bool()
    if mask.sum(-1).tolist() != lengths:
        return wrong(f"'mask' marks {mask.sum(-1).tolist()} real steps per row; the episodes "
                     f"have {lengths}",
                     "one id per step, the same for every step of an episode: count the "
                     "episode starts (is_init) up to each step")
    for row, episode in enumerate(episodes):
        if not torch.equal(side_by_side["position"][row][mask[row]], episode["position"]):
            return wrong(f"row {row} does not hold episode {row}'s positions in order",
                         "one id per step, the same for every step of an episode: count "
                         "the episode starts (is_init) up to each step")
    return None


@exercise("set `side_by_side` to the two episodes as a [2, 100] TensorDict with a 'mask'")
def check_side_by_side(side_by_side: Any, replayed_memory: Any, two_episodes: TensorDictBase,
                       policy: Any) -> Feedback:
    """Is ``replayed_memory`` the memory of each episode, replayed side by side in one call?

    ``two_episodes`` holds episodes one after another (only ``position`` and ``is_init``);
    the check steps ``policy`` through each episode to find the memory it had while acting,
    and compares it with ``replayed_memory`` on the steps ``side_by_side["mask"]`` marks.

    >>> check_side_by_side(None, None, None, None).status  # the cell still holds None
    'not done yet'
    """
    episodes = _episodes(two_episodes)
    problem = _check_layout(side_by_side, episodes)
    if problem is not None:
        return problem
    if is_unanswered(replayed_memory):
        return not_done("set `replayed_memory` to the policy's 'memory' on side_by_side")
    if isinstance(replayed_memory, TensorDictBase):
        return wrong("you gave a TensorDict, not the tensor",
                     "take the 'memory' entry of the output: out['memory']")
    if not isinstance(replayed_memory, torch.Tensor):
        return wrong(f"expected a tensor, got a {type(replayed_memory).__name__}",
                     "call the policy once on side_by_side")
    rows, longest = side_by_side.batch_size
    expected = [_step_by_step(policy, episode) for episode in episodes]
    width = expected[0].shape[-1]
    if tuple(replayed_memory.shape) != (rows, longest, width):
        return wrong(f"replayed_memory has shape {tuple(replayed_memory.shape)}, expected "
                     f"{(rows, longest, width)}: one memory vector per step of each row",
                     "call the policy once on all of side_by_side")
    mask = side_by_side["mask"].reshape(rows, longest).bool()
    value = replayed_memory.detach()
    if all(torch.allclose(value[r][mask[r]], expected[r], atol=1e-5) for r in range(rows)):
        return correct(f"one call replayed {rows} episodes side by side, each from its own "
                       "start: the memory matches what the policy had while acting on every "
                       "real step. The padded steps hold memory too, computed from zeros "
                       "after each episode's end: the mask says to ignore them.")
    with torch.no_grad(), _recurrent(False):
        forgetful = policy(side_by_side.clone())["memory"]
    if torch.allclose(value, forgetful, atol=1e-5):
        return wrong("that is sequential mode: each step was read as an unrelated single "
                     "step starting from a zero state",
                     "the LSTM must run through time: recurrent mode, as in the replay above")
    if torch.allclose(value[0][mask[0]], expected[0], atol=1e-5):
        return wrong("row 0 is right, the others are not",
                     "each row must be one episode from its first step, replayed in the "
                     "same call as row 0")
    return wrong("the values differ from the memory the policy had while acting",
                 "call the policy once on side_by_side.clone() in recurrent mode and take "
                 "'memory'")


def _recurrent(mode: bool) -> Any:
    from torchrl.modules import set_recurrent_mode

    return set_recurrent_mode(mode)
