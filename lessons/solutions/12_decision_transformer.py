"""Solutions to lesson 12's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.envs import (CatFrames, Compose, EnvBase, GymEnv, RandomCropTensorDict,
                          RenameTransform, TargetReturn, TensorDictPrimer, TransformedEnv,
                          UnsqueezeTransform)
from torchrl.modules import DecisionTransformerInferenceWrapper


def solve_new_target(actor: TensorDictModuleBase, context: int = 4
                     ) -> tuple[DecisionTransformerInferenceWrapper, EnvBase]:
    """Exercise 1: the lesson's environment asking for -250, and a wrapper reading its stacks."""
    base = GymEnv("Pendulum-v1", g=2.0, max_episode_steps=100)
    base.set_seed(3)
    keys = ["observation", "action", "return_to_go"]
    new_env = TransformedEnv(base, Compose(
        TargetReturn(-250.0, out_keys=["return_to_go"]),
        TensorDictPrimer(base.full_action_spec),
        UnsqueezeTransform(-2, in_keys=keys, out_keys=[f"{k}_cat" for k in keys]),
        CatFrames(N=context, dim=-2, in_keys=[f"{k}_cat" for k in keys]),
    ))
    new_policy = DecisionTransformerInferenceWrapper(actor, inference_context=context)
    new_policy.set_tensor_keys(observation="observation_cat", action="action_cat",
                               return_to_go="return_to_go_cat")
    return new_policy, new_env


def solve_context_buffer(data: TensorDictBase) -> tuple[ReplayBuffer, int]:
    """Exercise 2: windows of 8 steps, 32 per sample; 8 steps x 3 tokens = 24 tokens."""
    buffer_8 = ReplayBuffer(
        storage=LazyTensorStorage(len(data)), batch_size=32,
        transform=Compose(
            RandomCropTensorDict(8, sample_dim=-1),
            RenameTransform(in_keys=["observation", "action", "return_to_go"],
                            out_keys=["observation_cat", "action_cat", "return_to_go_cat"],
                            create_copy=True),
        ))
    buffer_8.extend(data)
    return buffer_8, 24
