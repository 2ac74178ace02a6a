"""Checks for lesson 08 (batched environments, devices, collectors).

    >>> from rltutor.exercises import lesson08 as ex
    >>> ex.check_parallel_timing(None, None).status
    'not done yet'
"""

from __future__ import annotations

import time
from typing import Any

import torch
from tensordict import TensorDictBase
from torchrl.envs import EnvBase, GymEnv, Transform, TransformedEnv

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["REASONS", "SlowStep", "check_best_steps", "check_parallel_timing",
           "make_slow_pendulum"]

NUM_ENVS = 4
STEPS = 20
SLOW_DELAY = 0.05  # seconds added to every step of make_slow_pendulum
KEYS = (("serial", "pendulum"), ("parallel", "pendulum"), ("serial", "slow"),
        ("parallel", "slow"))
REASONS = {
    "a": "ParallelEnv is always faster: four processes do four times the work.",
    "b": "A ParallelEnv step sends the action to every worker and waits for all four "
         "answers; the four steps run at the same time. That pays off when one step costs "
         "more than the round trip to a worker (the slow env); for a cheap step, the round "
         "trip is most of the time.",
    "c": "SerialEnv is always faster: worker processes only add overhead.",
    "d": "The slow env gains because ParallelEnv's workers skip the 50 ms wait.",
}


class SlowStep(Transform):
    """Makes every step of an environment ``delay`` seconds slower (an expensive simulator).

    Args:
        delay: seconds to wait in each step.

    >>> env = TransformedEnv(GymEnv("Pendulum-v1"), SlowStep(delay=0.01))
    >>> start = time.perf_counter(); _ = env.rollout(3); time.perf_counter() - start >= 0.03
    True
    """

    def __init__(self, delay: float = SLOW_DELAY) -> None:
        super().__init__()
        self.delay = delay

    def _step(self, tensordict: TensorDictBase,
              next_tensordict: TensorDictBase) -> TensorDictBase:
        time.sleep(self.delay)
        return next_tensordict


def make_slow_pendulum() -> EnvBase:
    """A Pendulum whose every step takes 50 ms longer; importable, so any start method works.

    >>> make_slow_pendulum().batch_size
    torch.Size([])
    """
    return TransformedEnv(GymEnv("Pendulum-v1"), SlowStep(SLOW_DELAY))


@exercise("set `best_steps` to one step index per environment")
def check_best_steps(best_steps: Any, rollout_td: TensorDictBase) -> Feedback:
    """Is ``best_steps`` the step of each environment's highest reward (batch is [env, time])?

    >>> from tensordict import TensorDict
    >>> rewards = -torch.arange(20.0).reshape(4, 5, 1).flip(1)  # best at the last step
    >>> rollout_td = TensorDict({"next": {"reward": rewards}}, batch_size=[4, 5])
    >>> check_best_steps(torch.tensor([4, 4, 4, 4]), rollout_td).status
    'correct'
    >>> print(check_best_steps(torch.tensor([3, 3, 3, 3, 3]), rollout_td).hint)
    the first batch dimension is the environment, the second is time: reduce over time
    """
    rewards = rollout_td["next", "reward"].squeeze(-1)  # [envs, time]
    envs, steps = rewards.shape
    if not isinstance(best_steps, torch.Tensor):
        try:
            best_steps = torch.as_tensor(best_steps)
        except (TypeError, ValueError, RuntimeError):
            return wrong(f"expected a tensor of step indices, got a "
                         f"{type(best_steps).__name__}", "one step index per environment")
    answer = best_steps.reshape(-1)
    if answer.is_floating_point() and answer.numel() == envs * steps:
        return wrong(f"these are all {envs * steps} rewards; the exercise asks for one step "
                     "index per environment", "find where each environment's reward peaks")
    if answer.is_floating_point() and not torch.equal(answer, answer.round()):
        return wrong(f"{answer.tolist()[:5]} are not step indices (whole numbers)",
                     "the *position* of the highest reward, not the reward itself")
    if answer.numel() == steps and steps != envs:
        return wrong(f"{steps} values, one per *step*: for each step, the environment with "
                     "the highest reward",
                     "the first batch dimension is the environment, the second is time: "
                     "reduce over time")
    if answer.numel() != envs:
        return wrong(f"{answer.numel()} values; expected {envs}, one per environment",
                     "reduce the time dimension of the [envs, time] rewards")
    best = rewards.max(dim=1).values
    reached = rewards.gather(1, answer.long().clamp(0, steps - 1).reshape(-1, 1)).reshape(-1)
    if bool(((answer < 0) | (answer >= steps)).any()):
        return wrong(f"step indices run from 0 to {steps - 1}; you gave {answer.tolist()}",
                     "the index along the time dimension")
    if torch.allclose(reached, best):
        return correct(f"steps {answer.long().tolist()}: the time index of each row's best "
                       "reward, one per environment.")
    lowest = rewards.gather(1, rewards.argmin(dim=1, keepdim=True)).reshape(-1)
    if torch.allclose(reached, lowest):
        return wrong("these are the steps of each environment's *lowest* reward",
                     "Pendulum's rewards are never positive: the best is the closest to 0")
    return wrong(f"at these steps the rewards are {[round(x, 3) for x in reached.tolist()]}; "
                 f"each environment did better elsewhere",
                 "the index of the maximum along time, for each environment")


def _speedup(seconds: dict, kind: str) -> float:
    return seconds[("serial", kind)] / seconds[("parallel", kind)]


@exercise("set `seconds` to a dict of four timings and `why` to a letter of ex.REASONS")
def check_parallel_timing(seconds: Any, why: Any = None) -> Feedback:
    """Are the four timings what 20 steps of 4 envs can take, and does ``why`` explain them?

    >>> fake = {("serial", "pendulum"): 0.1, ("parallel", "pendulum"): 0.3,
    ...         ("serial", "slow"): 4.2, ("parallel", "slow"): 1.5}
    >>> check_parallel_timing(fake, "b").status
    'correct'
    """
    if not isinstance(seconds, dict) or set(seconds) != set(KEYS):
        found = sorted(seconds) if isinstance(seconds, dict) else type(seconds).__name__
        return wrong(f"`seconds` should be a dict with the keys {list(KEYS)}; got {found}",
                     'seconds[("serial", "slow")] = time.perf_counter() - start, and so on')
    if not all(isinstance(v, (int, float)) and v > 0 for v in seconds.values()):
        return wrong("every timing must be a positive number of seconds",
                     "time.perf_counter() after the rollout minus time.perf_counter() before")
    sleeps = STEPS * SLOW_DELAY  # the least that 20 steps of one slow env can take
    if seconds[("serial", "slow")] < 0.95 * NUM_ENVS * sleeps:
        return wrong(f"the slow SerialEnv took {seconds[('serial', 'slow')]:.2f} s, less than "
                     f"its {NUM_ENVS} x {STEPS} waits of {SLOW_DELAY * 1000:.0f} ms "
                     f"({NUM_ENVS * sleeps:.1f} s): it cannot have run ex.make_slow_pendulum",
                     f"SerialEnv({NUM_ENVS}, ex.make_slow_pendulum), rollout of {STEPS} steps")
    if seconds[("parallel", "slow")] < 0.95 * sleeps:
        return wrong(f"the slow ParallelEnv took {seconds[('parallel', 'slow')]:.2f} s, less "
                     f"than {STEPS} waits of {SLOW_DELAY * 1000:.0f} ms: it cannot have run "
                     "ex.make_slow_pendulum", f"ParallelEnv({NUM_ENVS}, ex.make_slow_pendulum)")
    slow = _speedup(seconds, "slow")
    if slow < 1.2:
        return wrong(f"with the slow env, ParallelEnv was only {slow:.2f}x as fast as "
                     "SerialEnv: four waits at once should give close to 4x",
                     "start the ParallelEnv (and reset it) before the timer: time the rollout "
                     "alone; and check that serial and parallel are not swapped")
    if slow > 1.1 * NUM_ENVS:
        return wrong(f"a speed-up of {slow:.1f}x with {NUM_ENVS} workers is more than they "
                     "can give", f"time {STEPS} steps of each, the same policy")
    cheap = _speedup(seconds, "pendulum")
    if why not in REASONS:
        return wrong(f"`why` is {why!r}; pick one letter of {sorted(REASONS)}",
                     "read ex.REASONS against your four numbers")
    numbers = (f"the slow env ran {slow:.1f}x as fast in parallel, the plain Pendulum "
               f"{cheap:.1f}x")
    if why == "a":
        return wrong(f"{numbers}: 'four times the work' does not explain the gap",
                     "what does a cheap step cost, next to a message to a worker and back?")
    if why == "c":
        return wrong(f"{numbers}: SerialEnv was not always faster",
                     "which of the two envs gained, and why that one?")
    if why == "d":
        return wrong(f"the slow ParallelEnv took {seconds[('parallel', 'slow')]:.2f} s, at "
                     f"least {STEPS} waits of 50 ms: the workers do wait, but at the same time",
                     "what happens to four waits that run in four processes at once?")
    return correct(f"{numbers}. Four slow steps overlap in four processes; a cheap step "
                   "costs less than its round trip to a worker.")
