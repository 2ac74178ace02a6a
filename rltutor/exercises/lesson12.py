"""Checks for lesson 12 (the Decision Transformer: acting for a target, context windows).

>>> from rltutor.exercises import lesson12 as ex
>>> ex.check_new_target(None, None, actor=None).status
'not done yet'
>>> ex.check_context_buffer(None, None, data=None).status
'not done yet'
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from tensordict import TensorDictBase

from rltutor.exercises import Feedback, correct, exercise, is_unanswered, not_done, wrong
from rltutor.offline import CONTEXT_KEYS

__all__ = ["LESSON_SEED", "NEW_TARGET", "check_context_buffer", "check_new_target"]

NEW_TARGET = -250.0  # exercise 1's target return
LESSON_SEED = 3  # the start the lesson's slider uses (make_dt_env's seed)
_KEYS_HINT = ("policy.set_tensor_keys(observation='observation_cat', action='action_cat', "
              "return_to_go='return_to_go_cat')")


def _model_context(actor: Any) -> int | None:
    """The window length the actor's GPT-2 accepts (its positions / 3 tokens per step)."""
    for module in actor.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "n_positions"):
            return int(config.n_positions) // 3
    return None


@exercise("set `new_policy` to a DecisionTransformerInferenceWrapper around `actor`")
def check_new_target(new_policy: Any, new_env: Any, *, actor: Any) -> Feedback:
    """Do ``new_policy`` and ``new_env`` ask the trained ``actor`` for a return of -250?

    Args:
        new_policy: the learner's inference wrapper.
        new_env: the learner's environment (target return -250, context stacks).
        actor: the lesson's trained actor (the one the wrapper must hold).

    The likeliest slip, handing over the trained actor itself, is caught first:

    >>> from torchrl.envs import GymEnv
    >>> print(check_new_target(torch.nn.Linear(3, 1), GymEnv("Pendulum-v1"), actor=None))
    ✗ Not yet right: new_policy is a Linear, not a DecisionTransformerInferenceWrapper
      Hint: new_policy = DecisionTransformerInferenceWrapper(actor, inference_context=K)
    """
    from torchrl.modules import DecisionTransformerInferenceWrapper

    if is_unanswered(new_env):
        return not_done("set `new_env` to an environment whose TargetReturn asks for -250")
    if not isinstance(new_policy, DecisionTransformerInferenceWrapper):
        return wrong(f"new_policy is a {type(new_policy).__name__}, not a "
                     "DecisionTransformerInferenceWrapper",
                     "new_policy = DecisionTransformerInferenceWrapper(actor, inference_context=K)")
    if new_policy.td_module is not actor:
        return wrong("the wrapper holds another actor than the one trained above",
                     "pass the trained `actor` itself: "
                     "DecisionTransformerInferenceWrapper(actor, ...)")
    keys = {"observation": new_policy.observation_key, "action": new_policy.action_key,
            "return_to_go": new_policy.return_to_go_key}
    if keys != CONTEXT_KEYS:
        return wrong(f"the wrapper reads {keys}, not the environment's stacks", _KEYS_HINT)
    if not hasattr(new_env, "rollout"):
        return wrong(f"new_env is a {type(new_env).__name__}, not a TorchRL environment",
                     "build it like make_dt_env(...) with TargetReturn(-250.0, ...)")
    start = new_env.reset()
    missing = [k for k in CONTEXT_KEYS.values() if k not in start.keys()]
    if "return_to_go" not in start.keys() or missing:
        return wrong(f"the environment's reset has no {missing or ['return_to_go']}",
                     "use the four transforms of make_dt_env: TargetReturn, TensorDictPrimer, "
                     "UnsqueezeTransform, CatFrames")
    first = start["return_to_go"].reshape(-1)[0].item()
    if abs(first - NEW_TARGET) > 1e-3:
        scaled = " (the actor divides by 100 itself: give the return in the reward's units)"
        return wrong(f"the target at reset is {first:g}, not {NEW_TARGET:g}"
                     + (scaled if abs(first * 100 - NEW_TARGET) < 1e-2 else ""),
                     "TargetReturn(-250.0, out_keys=['return_to_go'])")
    window = start[CONTEXT_KEYS["observation"]].shape[-2]
    expected = _model_context(actor)
    if expected is not None and window != expected:
        return wrong(f"the environment stacks {window} steps, the model was trained on {expected}",
                     f"CatFrames(N={expected}, ...)")
    new_env.set_seed(LESSON_SEED)  # the slider's start, whatever reset above did
    with torch.no_grad():
        rollout_td = new_env.rollout(100, new_policy)
    rtg, reward = rollout_td["return_to_go"], rollout_td["next", "reward"]
    if rollout_td.batch_size[0] > 1 and not torch.allclose(rtg[1:], rtg[:-1] - reward[:-1],
                                                           atol=1e-3):
        return wrong("the return-to-go does not shrink by each reward",
                     "TargetReturn's mode must be 'reduce' (the default), not 'constant'")
    # the environment's next stack must end with the action just taken
    last_actions = rollout_td["next", CONTEXT_KEYS["action"]][:, -1]
    if not torch.allclose(last_actions, rollout_td["action"], atol=1e-6):
        return wrong("the stack of actions does not hold the previous actions",
                     "add TensorDictPrimer(base.full_action_spec) before the stacking transforms")
    achieved = reward.sum().item()
    return correct(f"asked for {NEW_TARGET:g}, the policy earned {achieved:.0f} in "
                   f"{rollout_td.batch_size[0]} steps from the slider's start (seed "
                   f"{LESSON_SEED}), with the same weights as before.")


@exercise("set `buffer_8` to a ReplayBuffer whose samples are windows of 8 steps")
def check_context_buffer(
    buffer_8: Any, tokens_8: Any, *, data: TensorDictBase, context: int = 8
) -> Feedback:
    """Does ``buffer_8`` sample windows of ``context`` consecutive steps of ``data`` episodes?

    Args:
        buffer_8: the learner's replay buffer.
        tokens_8: the learner's count of tokens the transformer reads per sample.
        data: the lesson's episodes ``[episodes, time]`` with ``return_to_go``.
        context: the window length asked for.

    A buffer that stores whole episodes but does not crop them samples whole episodes:

    >>> from tensordict import TensorDict
    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> data = TensorDict(observation=torch.randn(2, 20, 3), batch_size=[2, 20])
    >>> buffer = ReplayBuffer(storage=LazyTensorStorage(2), batch_size=32)
    >>> indices = buffer.extend(data)
    >>> print(check_context_buffer(buffer, 24, data=data))
    ✗ Not yet right: a sample has batch size (32, 20): windows of 20 steps, not 8
      Hint: RandomCropTensorDict(8, sample_dim=-1) cuts 8 steps along time (the last dimension)
    """
    from torchrl.data import ReplayBuffer

    if not isinstance(buffer_8, ReplayBuffer):
        return wrong(f"buffer_8 is a {type(buffer_8).__name__}, not a ReplayBuffer",
                     "ReplayBuffer(storage=LazyTensorStorage(len(data)), batch_size=32, "
                     "transform=Compose(RandomCropTensorDict(8, sample_dim=-1), "
                     "RenameTransform(...)))")
    if len(buffer_8) == 0:
        return wrong("the buffer is empty", "buffer_8.extend(data)")
    torch.manual_seed(0)
    sample = buffer_8.sample()
    if sample.batch_dims != 2 or sample.batch_size[1] != context:
        return wrong(f"a sample has batch size {tuple(sample.batch_size)}: windows of "
                     f"{sample.batch_size[-1]} steps, not {context}",
                     f"RandomCropTensorDict({context}, sample_dim=-1) cuts {context} steps "
                     "along time (the last dimension)")
    if sample.batch_size[0] != 32:
        return wrong(f"{sample.batch_size[0]} windows per sample, not 32", "batch_size=32")
    missing = [k for k in (*CONTEXT_KEYS.values(), "action") if k not in sample.keys()]
    if missing:
        hint = ("RenameTransform(..., create_copy=True) keeps `action` as the loss's target"
                if missing == ["action"] else
                "RenameTransform(in_keys=['observation', 'action', 'return_to_go'], out_keys=["
                "'observation_cat', 'action_cat', 'return_to_go_cat'], create_copy=True)")
        return wrong(f"a sample has no {missing}", hint)
    if not _windows_of(sample, data):
        return wrong("the windows are not consecutive steps of the lesson's episodes",
                     "extend the buffer with `data` and crop along time (sample_dim=-1)")
    if is_unanswered(tokens_8):
        return not_done("the buffer is right; now set `tokens_8` to the number of tokens "
                        "the transformer reads per sample")
    if not isinstance(tokens_8, numbers.Integral) or isinstance(tokens_8, bool):
        return wrong(f"tokens_8 is {tokens_8!r}: give a whole number", "steps x tokens per step")
    if tokens_8 == context:
        return wrong(f"{context} is the number of steps, not tokens",
                     "each step is three tokens: R̂, s and a")
    if tokens_8 != 3 * context:
        return wrong(f"{tokens_8} tokens is not what the model reads", "steps x tokens per step")
    return correct(f"windows of {context} steps, {3 * context} tokens each: the model's "
                   f"config needs n_positions >= {3 * context} (ours has {3 * 4}), and every "
                   "update costs more (attention grows with the square of the tokens).")


def _windows_of(sample: TensorDictBase, data: TensorDictBase) -> bool:
    """Is every sampled window ``context`` consecutive steps of one episode of ``data``?"""
    observations = data["observation"]  # [episodes, time, 3]
    context = sample.batch_size[1]
    for window in sample[CONTEXT_KEYS["observation"]]:
        hits = (observations - window[0]).abs().amax(-1) < 1e-6  # where the window starts
        found = False
        for episode, start in hits.nonzero().tolist():
            stop = start + context
            if stop <= observations.shape[1] and torch.allclose(
                observations[episode, start:stop], window, atol=1e-6
            ):
                found = True
                break
        if not found:
            return False
    return True
