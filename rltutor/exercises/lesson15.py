"""Checks for lesson 15 (silent bugs: why isn't it learning?).

The exercise hands the learner the parts of a DQN run on CartPole with one silent bug
(:func:`mystery_parts`); the learner writes ``fixed_parts(seed)``. The check runs
``check_training`` on the fixed parts, then trains them briefly on two seeds with the
lesson's loop (:func:`train`) and judges the greedy returns.

>>> from rltutor.exercises import lesson15 as ex
>>> ex.check_fixed_parts(None).status
'not done yet'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rltutor.diagnostics import check_training
from rltutor.envs import make_env
from rltutor.exercises import Feedback, correct, exercise, wrong
from rltutor.training import evaluate

__all__ = ["BEST_RETURN", "FRAMES", "SEEDS", "check_fixed_parts", "mystery_parts", "train"]

# the lesson's budget: 2,000 frames, 500 of warm-up, 4 updates per batch of 10 frames
FRAMES, FRAMES_PER_BATCH, WARMUP_FRAMES = 2_000, 10, 500
UPDATES_PER_BATCH, BATCH_SIZE, LR, EVAL_EVERY = 4, 128, 2.5e-3, 500
SEEDS = (0, 1)  # the check trains the learner's parts on each
BEST_RETURN = 150.0  # a fixed run's best greedy return reaches this on each seed
_KEYS = ("policy", "env", "exploration", "loss", "optimizer", "target_updater", "collector",
         "buffer", "update")


def _update(batch: Any, loss: Any, optimizer: Any, target_updater: Any) -> None:
    value_loss = loss(batch)["loss"]
    optimizer.zero_grad()
    value_loss.backward()
    optimizer.step()
    target_updater.step()


def mystery_parts(seed: int = 0) -> dict[str, Any]:
    """The parts of a DQN run on CartPole with one silent bug, and its ``update``.

    Args:
        seed: seeds torch, the env and the buffer's generator.

    >>> sorted(mystery_parts(0))[:3]
    ['buffer', 'collector', 'env']
    """
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.collectors import Collector
    from torchrl.data import LazyTensorStorage, ReplayBuffer
    from torchrl.modules import MLP, EGreedyModule, QValueModule
    from torchrl.objectives import DQNLoss, SoftUpdate

    torch.manual_seed(seed)
    env = make_env("CartPole-v1", seed=seed)
    value_net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[64, 64]),
                                 in_keys=["observation"], out_keys=["action_value"])
    policy = TensorDictSequential(value_net, QValueModule(spec=env.action_spec))
    exploration = EGreedyModule(spec=env.action_spec, eps_init=1.0, eps_end=0.05,
                                annealing_num_steps=FRAMES)
    loss = DQNLoss(policy, action_space=env.action_spec, delay_value=True)
    target_updater = SoftUpdate(loss, tau=0.01)
    # later the author switched to double DQN (the target copy picks the next action's
    # value, the online network picks the action)
    loss = DQNLoss(policy, action_space=env.action_spec, delay_value=True, double_dqn=True)
    collector = Collector(env, TensorDictSequential(policy, exploration), total_frames=FRAMES,
                          frames_per_batch=FRAMES_PER_BATCH,
                          auto_register_policy_transforms=False)
    buffer = ReplayBuffer(storage=LazyTensorStorage(FRAMES), batch_size=BATCH_SIZE,
                          generator=torch.Generator().manual_seed(seed))
    return dict(policy=policy, env=env, exploration=exploration, loss=loss,
                optimizer=torch.optim.Adam(loss.parameters(), lr=LR),
                target_updater=target_updater, collector=collector, buffer=buffer,
                update=_update)


def train(policy: Any, env: Any, exploration: Any, loss: Any, optimizer: Any,
          target_updater: Any, collector: Any, buffer: Any, *,
          update: Callable[..., Any]) -> list[float]:
    """The lesson's loop: the greedy return (3 seeded episodes) every 500 frames.

    Args:
        policy: the greedy policy (evaluated).
        env: the env the collector steps (not used here: the collector has it).
        exploration: the exploration module, stepped by the frames collected.
        loss: the loss module.
        optimizer: the optimizer.
        target_updater: the target updater.
        collector: the collector (a ``Collector`` over ``total_frames``).
        buffer: the replay buffer.
        update: ``update(batch, loss, optimizer, target_updater)``.

    >>> callable(train)
    True
    """
    eval_env, curve, frames = make_env("CartPole-v1"), [], 0
    for batch in collector:
        buffer.extend(batch)
        frames += batch.numel()
        exploration.step(batch.numel())
        if frames >= WARMUP_FRAMES:
            for _ in range(UPDATES_PER_BATCH):
                update(buffer.sample(), loss, optimizer, target_updater)
        if frames % EVAL_EVERY == 0:
            curve.append(evaluate(eval_env, policy, episodes=3, seed=1000))
    collector.shutdown()
    return curve


def _run(fixed_parts: Callable[[int], Any], seed: int) -> tuple[Any, list[float] | str]:
    parts = fixed_parts(seed)
    if not isinstance(parts, dict):
        return None, (f"fixed_parts({seed}) returned {type(parts).__name__}; it should "
                      "return a dict like ex.mystery_parts(seed)")
    missing = [key for key in _KEYS if key not in parts]
    if missing:
        return None, f"fixed_parts({seed}) has no {', '.join(map(repr, missing))}"
    found = check_training(**{k: parts[k] for k in _KEYS}, total_frames=FRAMES)
    if found:
        return found, ""
    if not getattr(parts["loss"], "double_dqn", False):
        return None, (f"fixed_parts({seed})['loss'] is not the mystery's double-DQN loss: the "
                      "exercise is to fix the mystery's loop, not to swap in another one")
    return None, train(**{k: parts[k] for k in _KEYS})


@exercise("write `fixed_parts(seed)`: the mystery's parts with the bug fixed")
def check_fixed_parts(fixed_parts: Any) -> Feedback:
    """Does ``fixed_parts`` pass ``check_training`` and learn on seeds 0 and 1?

    The learner's global random state is left as it was.

    Args:
        fixed_parts: the learner's function of a seed, returning the parts (a dict).

    >>> check_fixed_parts(...).status
    'not done yet'
    """
    if not callable(fixed_parts):
        return wrong(f"fixed_parts should be a function of a seed, got "
                     f"{type(fixed_parts).__name__}",
                     "def fixed_parts(seed): ... return dict(policy=..., ..., update=...)")
    bests = []
    with torch.random.fork_rng(devices=[]):
        for seed in SEEDS:
            found, curve = _run(fixed_parts, seed)
            if found:
                return wrong(f"check_training still finds: {found[0].what}",
                             "read its 'why'; which part does the loop step, and which "
                             "part does the loss use?")
            if isinstance(curve, str):
                return wrong(curve, "keep the keys of ex.mystery_parts(seed)")
            bests.append(max(curve))
    if min(bests) < BEST_RETURN:
        return wrong(f"the check finds nothing now, but the best greedy returns on seeds "
                     f"{list(SEEDS)} were {[round(b) for b in bests]}; a fixed run reaches "
                     f"{BEST_RETURN:.0f} on each",
                     "keep the mystery's settings (its double DQN loss, lr, budget); "
                     "fix the one bug only")
    return correct(f"no finding, and the best greedy returns on seeds {list(SEEDS)} were "
                   f"{[round(b) for b in bests]} within {FRAMES:,} frames")
