"""Checks for lesson 08 (batched environments, devices, collectors).

    >>> from rltutor.exercises import lesson08 as ex
    >>> ex.check_collector(None).status
    'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_collector", "check_env2_rewards"]

NUM_ENVS = 4
FRAMES_PER_BATCH = 80
TOTAL_FRAMES = 160


@exercise("set `env2_rewards` to the 100 rewards of environment 2")
def check_env2_rewards(env2_rewards: Any, rollout_td: TensorDictBase) -> Feedback:
    """Is ``env2_rewards`` ``rollout_td["next", "reward"][2]`` (batch dims are [env, time])?

    >>> from tensordict import TensorDict
    >>> rewards = torch.arange(20.0).reshape(4, 5, 1)  # 4 environments, 5 steps each
    >>> rollout_td = TensorDict({"next": {"reward": rewards}}, batch_size=[4, 5])
    >>> check_env2_rewards(rollout_td["next", "reward"][2], rollout_td).status
    'correct'
    >>> print(check_env2_rewards(rollout_td["next", "reward"][:, 2], rollout_td))
    ✗ Not yet right: those are the 4 rewards of *step* 2, one per environment
      Hint: the first batch dimension is the environment, the second is time: index [2] (or [2, :])
    """
    rewards = rollout_td["next", "reward"]  # [envs, time, 1]
    if not isinstance(env2_rewards, torch.Tensor):
        return wrong(f"expected a tensor, got a {type(env2_rewards).__name__}",
                     "index rollout_td['next', 'reward']")
    answer = env2_rewards.reshape(-1)
    envs, steps = rewards.shape[:2]
    if answer.numel() == envs and torch.allclose(answer, rewards[:, 2].reshape(-1)):
        return wrong(f"those are the {envs} rewards of *step* 2, one per environment",
                     "the first batch dimension is the environment, the second is time: "
                     "index [2] (or [2, :])")
    if answer.numel() != steps:
        return wrong(f"{answer.numel()} values; environment 2 has {steps} steps",
                     "take one row of the [envs, time] batch")
    for i in range(envs):
        if torch.allclose(answer, rewards[i].reshape(-1)):
            if i == 2:
                return correct(f"rollout_td is [envs={envs}, time={steps}]: "
                               "row 2 is environment 2's whole episode.")
            return wrong(f"those are the rewards of environment {i}",
                         "indices start at 0: environment 2 is the third row")
    return wrong("these are not the rewards of any environment in rollout_td",
                 "rewards live under 'next': rollout_td['next', 'reward']")


@exercise("set `my_collector` to a Collector over SerialEnv(4, make_pendulum)")
def check_collector(my_collector: Any) -> Feedback:
    """Does ``my_collector`` yield [4, 20] batches (80 frames), 160 frames in total?

    >>> from torchrl.collectors import Collector
    >>> from torchrl.envs import GymEnv, SerialEnv
    >>> from torchrl.envs.utils import RandomPolicy
    >>> env = SerialEnv(4, lambda: GymEnv("Pendulum-v1"))
    >>> check_collector(Collector(env, RandomPolicy(env.action_spec), frames_per_batch=80,
    ...                           total_frames=160, auto_register_policy_transforms=True)
    ...                 ).status
    'correct'
    """
    from torchrl.collectors import BaseCollector

    if not isinstance(my_collector, BaseCollector):
        return wrong(f"my_collector is a {type(my_collector).__name__}, not a collector",
                     "from torchrl.collectors import Collector; Collector(env, policy, ...)")
    if getattr(my_collector, "_auto_register_policy_transforms", False) is None:
        my_collector.shutdown()
        return wrong("the collector was built without auto_register_policy_transforms, so "
                     "it warned (FutureWarning) about transforms the policy needs",
                     "pass auto_register_policy_transforms=True (let it add them) or False")
    try:
        batches = [batch for batch in my_collector]
    finally:
        my_collector.shutdown()
    if not batches:
        return wrong("the collector yielded no batch", "set total_frames=160")
    shape = tuple(batches[0].batch_size)
    if len(shape) != 2 or shape[0] != NUM_ENVS:
        return wrong(f"the first batch has batch_size {shape}; expected ({NUM_ENVS}, 20)",
                     f"the environment must be SerialEnv({NUM_ENVS}, make_pendulum)")
    if batches[0].numel() != FRAMES_PER_BATCH:
        return wrong(f"a batch holds {batches[0].numel()} frames, expected {FRAMES_PER_BATCH}",
                     f"frames_per_batch={FRAMES_PER_BATCH} (frames of all environments)")
    total = sum(b.numel() for b in batches)
    if total != TOTAL_FRAMES:
        return wrong(f"the collector gave {total} frames in all, expected {TOTAL_FRAMES}",
                     f"total_frames={TOTAL_FRAMES}")
    if "action" not in batches[0].keys():
        return wrong("the batches hold no 'action'", "pass the policy to the Collector")
    return correct(f"{len(batches)} batches of {shape}: {NUM_ENVS} environments x 20 steps.")
