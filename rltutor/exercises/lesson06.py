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
from rltutor.exercises import Feedback, correct, exercise, is_unanswered, not_done, wrong

__all__ = ["check_episode_replay", "check_gru_policy"]


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
    findings = check_policy(gru_policy, gru_env)
    if findings:
        first = findings[0]
        return wrong(first.what, f"{first.fix}  ({first.why})")
    gru_env.set_seed(0)
    with torch.no_grad():
        rollout_td = gru_env.rollout(20, gru_policy)
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


@exercise("set `replayed_memory` to policy(...)['memory'] computed in one call on two_episodes")
def check_episode_replay(replayed_memory: Any, two_episodes: TensorDictBase,
                         policy: Any) -> Feedback:
    """Is ``replayed_memory`` the memory the policy had while acting, rebuilt in one call?

    ``two_episodes`` holds only ``position`` and ``is_init`` (two episodes back to back);
    the check steps ``policy`` through it to find the memory it had while acting.

    >>> check_episode_replay(None, None, None).status  # the learner's cell still holds None
    'not done yet'
    """
    if isinstance(replayed_memory, TensorDictBase):
        return wrong("you gave a TensorDict, not the tensor",
                     "take the 'memory' entry of the output: out['memory']")
    if not isinstance(replayed_memory, torch.Tensor):
        return wrong(f"expected a tensor, got a {type(replayed_memory).__name__}",
                     "call the policy on two_episodes inside `with set_recurrent_mode(True):`")
    expected = _step_by_step(policy, two_episodes)
    if replayed_memory.shape != expected.shape:
        return wrong(f"shape {tuple(replayed_memory.shape)}, expected {tuple(expected.shape)}",
                     "call the policy once on all of two_episodes (its batch dimension is time)")
    value = replayed_memory.detach()
    if torch.allclose(value, expected, atol=1e-5):
        return correct(f"one recurrent call over {expected.shape[-1]} steps rebuilt the memory "
                       "of both episodes from positions and is_init alone.")
    starts = two_episodes["is_init"].reshape(-1).nonzero().flatten().tolist()
    if len(starts) > 1 and torch.allclose(value[: starts[1]], expected[: starts[1]], atol=1e-5):
        return wrong(f"the first episode is right, but from step {starts[1]} on the memory "
                     "differs: it did not restart with the second episode",
                     "keep 'is_init' in the input: recurrent mode resets the state where it "
                     "is True")
    with torch.no_grad(), _recurrent(False):
        forgetful = policy(two_episodes.clone())["memory"]
    if torch.allclose(value, forgetful, atol=1e-5):
        return wrong("that is sequential mode: each of the stored steps was read as an "
                     "unrelated single step starting from a zero state",
                     "wrap the call in `with set_recurrent_mode(True):` so the LSTM runs "
                     "through time")
    return wrong("the values differ from the memory the policy had while acting",
                 "call policy(two_episodes.clone()) under set_recurrent_mode(True) and take "
                 "'memory'")


def _recurrent(mode: bool) -> Any:
    from torchrl.modules import set_recurrent_mode

    return set_recurrent_mode(mode)
