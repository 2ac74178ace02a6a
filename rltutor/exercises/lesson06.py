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

from rltutor.exercises import Feedback, correct, exercise, is_unanswered, not_done, wrong

__all__ = ["check_gru_policy", "check_replayed_memory"]


def _recurrent_modules(policy: Any) -> list[Any]:
    from torchrl.modules import GRUModule, LSTMModule

    return [m for m in policy.modules() if isinstance(m, (GRUModule, LSTMModule))]


@exercise("set `gru_policy` to a TensorDictSequential that starts with a GRUModule")
def check_gru_policy(gru_policy: Any, gru_env: Any) -> Feedback:
    """Is ``gru_policy`` a GRU policy reading ``position`` whose state ``gru_env`` carries?

    >>> check_gru_policy(policy, env).status  # doctest: +SKIP
    'correct'
    """
    from torchrl.modules import GRUModule

    from rltutor.diagnostics import check_policy

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


@exercise("set `replayed_memory` to policy(...)['memory'] computed under set_recurrent_mode")
def check_replayed_memory(replayed_memory: Any, rollout_td: TensorDictBase) -> Feedback:
    """Is ``replayed_memory`` the rollout's ``memory``, recomputed in one recurrent call?

    >>> check_replayed_memory(rollout_td["memory"], rollout_td).status  # doctest: +SKIP
    'correct'
    """
    if isinstance(replayed_memory, TensorDictBase):
        return wrong("you gave a TensorDict, not the tensor",
                     "take the 'memory' entry of the output: out['memory']")
    if not isinstance(replayed_memory, torch.Tensor):
        return wrong(f"expected a tensor, got a {type(replayed_memory).__name__}",
                     "call the policy on the rollout inside `with set_recurrent_mode(True):`")
    expected = rollout_td["memory"]
    if replayed_memory.shape != expected.shape:
        return wrong(f"shape {tuple(replayed_memory.shape)}, expected {tuple(expected.shape)}",
                     "call the policy once on the whole rollout (its batch dimension is time)")
    if replayed_memory.data_ptr() == expected.data_ptr() or (
        replayed_memory is expected
    ):
        return wrong("that is the rollout's own 'memory' entry, not a replay",
                     "call the policy on a copy of the inputs: policy(rollout_td.select("
                     "'position', 'is_init', 'recurrent_state_h', 'recurrent_state_c').clone())")
    if not torch.allclose(replayed_memory.detach(), expected, atol=1e-5):
        return wrong("the values differ from the step-by-step rollout",
                     "run the policy under set_recurrent_mode(True) and give it the stored "
                     "recurrent_state_h/c and is_init")
    return correct(f"one recurrent call over {expected.shape[0]} steps reproduces the "
                   "step-by-step memory.")
