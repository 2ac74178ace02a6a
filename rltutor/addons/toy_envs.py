"""Tiny TorchRL environments written for the lessons, when no standard one fits.

:class:`PuckEnv` (lesson 07) has an action with two parts: a discrete ``direction``
(0 pushes left, 1 pushes right) and a continuous ``force`` in [0, 1]. Its action spec
is a ``Composite``, so a policy must write both ``("action", "direction")`` and
``("action", "force")``::

    >>> env = PuckEnv(seed=0)
    >>> sorted(env.full_action_spec["action"].keys())
    ['direction', 'force']
    >>> env.rollout(3).batch_size
    torch.Size([3])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, Unbounded
from torchrl.envs import EnvBase

from rltutor.plots._picture import make_picture
from rltutor.plots._style import PALETTE, ROLES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PuckEnv", "plot_puck"]


class PuckEnv(EnvBase):
    """Push a puck along a line of length 2 until it rests on a target.

    Observation ``observation`` = ``[position, velocity, target]`` (all in [-1, 1]
    except the velocity). Action = ``direction`` (``Categorical(2)``: 0 left, 1 right)
    and ``force`` (``Bounded`` in [0, 1]). The push accelerates the puck by
    ``push * force`` in the chosen direction; friction slows it; the walls at
    +-1 stop it. Reward = ``-|position - target| - 0.05 * force`` (pushing costs a
    little). An episode is truncated after ``max_steps`` steps; it never terminates.

    Args:
        max_steps: steps per episode (positive int).
        seed: seed of the environment's own random stream (start and target).
        device: where the environment's tensors live.

    >>> env = PuckEnv(max_steps=5, seed=0)
    >>> td = env.rand_step(env.reset())
    >>> td["next", "reward"].shape
    torch.Size([1])
    """

    dt = 0.1
    push = 3.0
    friction = 1.0

    def __init__(
        self, max_steps: int = 50, *, seed: int | None = 0, device: str | torch.device = "cpu"
    ) -> None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps <= 0:
            raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
        super().__init__(device=device, batch_size=torch.Size([]))
        self.max_steps = max_steps
        self.observation_spec = Composite(
            observation=Unbounded(shape=(3,), device=self.device),
            step_count=Unbounded(shape=(1,), dtype=torch.int64, device=self.device),
        )
        self.action_spec = Composite(
            action=Composite(
                direction=Categorical(2, shape=(), device=self.device),
                force=Bounded(low=0.0, high=1.0, shape=(1,), device=self.device),
            )
        )
        self.reward_spec = Unbounded(shape=(1,), device=self.device)
        flag = Categorical(2, shape=(1,), dtype=torch.bool, device=self.device)
        self.done_spec = Composite(done=flag, terminated=flag.clone(), truncated=flag.clone())
        self._rng = torch.Generator()
        self._set_seed(seed)

    def _set_seed(self, seed: int | None) -> None:
        self._rng.manual_seed(0 if seed is None else int(seed))

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        start, target = (torch.rand(2, generator=self._rng) * 1.6 - 0.8).tolist()
        obs = torch.tensor([start, 0.0, target], device=self.device)
        return TensorDict(
            {"observation": obs, "step_count": torch.zeros(1, dtype=torch.int64,
                                                           device=self.device)},
            batch_size=self.batch_size,
            device=self.device,
        )

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        position, velocity, target = tensordict["observation"].unbind(-1)
        direction = tensordict["action", "direction"]
        force = tensordict["action", "force"].clamp(0.0, 1.0).squeeze(-1)
        sign = direction.to(force.dtype) * 2 - 1  # 0 -> -1 (left), 1 -> +1 (right)
        velocity = velocity + self.dt * (self.push * sign * force - self.friction * velocity)
        position = position + self.dt * velocity
        at_wall = position.abs() >= 1.0
        position = position.clamp(-1.0, 1.0)
        velocity = torch.where(at_wall, torch.zeros_like(velocity), velocity)
        reward = -(position - target).abs() - 0.05 * force
        step_count = tensordict["step_count"] + 1
        done = step_count >= self.max_steps
        return TensorDict(
            {
                "observation": torch.stack([position, velocity, target], -1),
                "step_count": step_count,
                "reward": reward.reshape(1),
                "done": done,
                "terminated": torch.zeros_like(done),
                "truncated": done,
            },
            batch_size=self.batch_size,
            device=self.device,
        )


def plot_puck(rollout_td: TensorDictBase) -> Figure:
    """Where the puck went and which action parts pushed it, for one ``PuckEnv`` rollout.

    Top: position and target over time. Bottom: each step's push as a bar, upwards
    for ``direction == 1`` (right), downwards for left, its height the ``force``.

    Args:
        rollout_td: a rollout of :class:`PuckEnv`.

    >>> fig = plot_puck(PuckEnv(seed=0).rollout(20))
    >>> fig.axes[0].get_ylabel()
    'position'
    """

    for key in (("next", "observation"), ("action", "direction"), ("action", "force")):
        if key not in rollout_td.keys(True):
            raise ValueError(
                f"plot_puck needs a PuckEnv rollout with {key!r}; "
                f"got keys {sorted(map(str, rollout_td.keys(True, True)))}"
            )
    obs = rollout_td["next", "observation"].detach().cpu().numpy()
    direction = rollout_td["action", "direction"].detach().cpu().reshape(-1).numpy()
    force = rollout_td["action", "force"].detach().cpu().reshape(-1).numpy()
    steps = range(1, obs.shape[0] + 1)
    fig, (top, bottom) = make_picture(2, 1, figsize=(7, 4), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    top.plot(steps, obs[:, 0], color=PALETTE[0], label="position")
    top.plot(steps, obs[:, 2], color=ROLES["target"], ls="--", label="target")
    top.set_ylim(-1.05, 1.05)
    top.set_ylabel("position")
    top.legend(loc="upper right", fontsize=8)
    signed = [f if d == 1 else -f for d, f in zip(direction.tolist(), force.tolist())]
    # right and left differ in colour and in sign (up or down): two cues
    colors = [PALETTE[2] if d == 1 else PALETTE[4] for d in direction.tolist()]
    bottom.bar(steps, signed, color=colors, width=0.8)
    bottom.axhline(0, color="black", lw=0.6)
    bottom.set_ylim(-1.05, 1.05)
    bottom.set_ylabel("push\n(right + / left -)")
    bottom.set_xlabel("step")
    return fig
