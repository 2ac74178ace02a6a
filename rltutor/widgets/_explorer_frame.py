"""What the explorer shows for one setting of its controls: the pure core of the panel.

:func:`explorer_frame` takes the environment, the policy and the control values
(``epsilon``, ``target_return``, ``exploration``, ``device``, ``seed``, ``steps``), runs
the rollout, finds where exploring changed the action, and returns an
:class:`ExplorerFrame`: the rollout, its numbers, the summary rows, the figure and its
PNG. :class:`~rltutor.widgets.Explorer` calls it on every control change and only puts
the result into its widgets; the course site's precomputed pictures go through the same
call (the panel's own callback).

    >>> import rltutor
    >>> env = rltutor.make_env("CartPole-v1", seed=0)
    >>> policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(env), env, eps=0.5)
    >>> frame = explorer_frame(env, policy, epsilon=0.0, exploration="random", steps=20)
    >>> frame.stats["explored_fraction"], frame.png[:4]
    (0.0, b'\\x89PNG')
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from rltutor._action_band import action_bands
from rltutor._exploration import PolicyProfile, policy_profile
from rltutor._greedy import record_greedy
from rltutor._noise_band import noise_band
from rltutor._replaced import record_replaced
from rltutor._rollout_stats import rollout_stats, summary_rows
from rltutor.envs import env_id
from rltutor.plots import RolloutFigure
from rltutor.rollouts import move_to_device, rollout
from rltutor.validation import (
    check_device,
    check_epsilon,
    check_exploration,
    check_seed,
    check_steps,
)
from rltutor.widgets._target import set_target_return, target_return_transforms

__all__ = ["ExplorerFrame", "explorer_frame", "marks_and_band", "summary_html"]


@dataclass
class ExplorerFrame:
    """One picture of the explorer: what its panel shows after one control change.

    ``rollout_td``: the rollout; ``stats``: its numbers
    (:func:`rltutor._rollout_stats.rollout_stats`, plus the ``exploration`` type and,
    where they apply, ``epsilon`` and ``target_return``); ``rows``: the summary's
    ``(label, value)`` rows; ``figure``: the :class:`~rltutor.plots.RolloutFigure`;
    ``png``: the figure drawn; ``greedy``: the deterministic action per step (None for
    ``RandomPolicy``); ``timings``: seconds spent on the ``rollout``, on finding
    exploratory steps (``explored``) and on the ``redraw``.
    """

    rollout_td: Any
    stats: dict[str, Any]
    rows: list[tuple[str, str]]
    figure: RolloutFigure
    png: bytes
    greedy: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def summary_html(self) -> str:
        """The summary rows as the panel's HTML table."""
        return summary_html(self.rows)


def summary_html(rows: list[tuple[str, str]]) -> str:
    """``(label, value)`` rows as one HTML table row of label and value cells, escaped.

    Args:
        rows: the summary rows (:func:`rltutor._rollout_stats.summary_rows`).

    >>> summary_html([("total reward", "<1>")])
    '<table><tr><td class="k">total reward</td><td class="v">&lt;1&gt;</td></tr></table>'
    """
    cells = "".join(f'<td class="k">{html.escape(k)}</td><td class="v">{html.escape(v)}</td>'
                    for k, v in rows)
    return f"<table><tr>{cells}</tr></table>"


def marks_and_band(
    profile: PolicyProfile, policy: Any, td: Any, greedy: Any, replaced: torch.Tensor,
    exploration: str,
) -> tuple[torch.Tensor, Any, str]:
    """``(marks, band, band_of)``: what the rollout figure draws over the actions.

    Marks go where a module replaced the action (ε-greedy, ``RandomPolicy``). A policy
    that only samples gets no marks (every sample differs from the deterministic action)
    but the 5-95 % band of its distribution; one noise module on a deterministic actor
    gets the 5-95 % band of its noise around the unperturbed action.

    Args:
        profile: the policy's :class:`~rltutor._exploration.PolicyProfile`.
        policy: the policy that made the rollout.
        td: the rollout.
        greedy: the deterministic action per step (None for ``RandomPolicy``).
        replaced: a bool per step: a module replaced the action.
        exploration: the exploration type of the rollout.

    >>> from rltutor._exploration import PolicyProfile
    >>> marks, band, _ = marks_and_band(PolicyProfile(), None, None, None,
    ...                                 torch.tensor([True]), "random")
    >>> marks.tolist(), band
    ([True], None)
    """
    if exploration == "deterministic":
        return replaced, None, "distribution"
    if profile.samples_only:
        return torch.zeros_like(replaced), action_bands(policy, td), "distribution"
    # the noise modules act only under RANDOM (MEAN and MODE leave the action alone)
    noise = profile.noise_module
    if noise is not None and exploration == "random" and isinstance(greedy, torch.Tensor):
        band = noise_band(noise, greedy, td)
        if band is not None:
            return torch.zeros_like(replaced), band, "noise"
    return replaced, None, "distribution"


def explorer_frame(
    env: Any,
    policy: Any,
    *,
    exploration: Any = "random",
    steps: int = 200,
    seed: int = 0,
    epsilon: float | None = None,
    target_return: float | None = None,
    device: Any = None,
    profile: PolicyProfile | None = None,
    targets: list[Any] | None = None,
    figure: RolloutFigure | None = None,
) -> ExplorerFrame:
    """Apply the control values, run the rollout, and draw what the explorer shows.

    ``epsilon``, ``target_return`` and ``device`` change the policy and environment they
    are set on (the ``EGreedyModule``'s ``eps``, the ``TargetReturn`` transform's target,
    where both live), as the panel's controls do; None leaves each as it is.

    Args:
        env: the environment to roll out in.
        policy: the policy to run.
        exploration: the exploration type (``"random"``, ``"deterministic"``, ...).
        steps: steps per rollout (past episode ends: the env resets and goes on).
        seed: the rollout's seed.
        epsilon: the ε every ``EGreedyModule`` of the policy gets.
        target_return: the target every ``TargetReturn`` the policy reads gets.
        device: where policy, environment and the exploration modules' specs move.
        profile: :func:`rltutor._exploration.policy_profile` of ``policy``, if known.
        targets: the ``TargetReturn`` transforms to set, if known
            (:func:`rltutor.widgets._target.target_return_transforms`).
        figure: a figure of an earlier frame, updated in place (keeps its axis limits).
    """
    profile = policy_profile(policy) if profile is None else profile
    exploration = check_exploration(exploration).value
    steps, seed = check_steps(steps), check_seed(seed)
    if epsilon is not None:
        epsilon = check_epsilon(epsilon)
        for module in profile.egreedy:
            module.eps.fill_(epsilon)  # the buffer EGreedyModule.forward reads
    if target_return is not None:  # read at the reset the rollout starts with
        targets = target_return_transforms(env, policy) if targets is None else targets
        set_target_return(targets, target_return)
    if device is not None:
        # also the specs exploration modules keep, which policy.to() leaves behind
        move_to_device(env, policy, check_device(device))
    with _one_torch_thread():
        return _draw(env, policy, profile, exploration, steps, seed, targets, figure)


def _draw(env: Any, policy: Any, profile: PolicyProfile, exploration: str, steps: int,
          seed: int, targets: list[Any] | None, figure: RolloutFigure | None
          ) -> ExplorerFrame:
    start = time.perf_counter()
    # the greedy action is recorded as the rollout runs: re-running the policy on the
    # stored entries afterwards is wrong for a policy that rewrites its inputs, and
    # costs a second pass
    with record_greedy(policy, exploration) as recorder, \
            record_replaced(policy) as replacer, torch.no_grad():
        td = rollout(env, policy, steps=steps, exploration=exploration, seed=seed,
                     break_when_done=False)  # seeded, and on past episode ends
    rolled = time.perf_counter()
    greedy, differs = recorder.result(td)
    # marks go where a module replaced the action, not where the policy sampled it
    replaced = (replacer.result(td) if profile.replaces and not profile.random_policy
                else differs)
    marks, band, band_of = marks_and_band(profile, policy, td, greedy, replaced, exploration)
    if profile.samples_only:
        replaced = marks  # nothing to replace: no marks, zero replaced
    compared = time.perf_counter()
    envs = f" × {td.shape[0]} envs" if td.batch_dims > 1 else ""
    title = f"{env_id(env)}{envs} · exploration={exploration}"
    drawn = dict(explored=marks, greedy_action=greedy, title=title, action_band=band,
                 band_of=band_of)
    if figure is None:
        figure = RolloutFigure(td, env=env, **drawn)
    else:
        figure.update(td, **drawn)
    png = figure.to_png()
    done = time.perf_counter()
    stats = rollout_stats(td, replaced, differs=differs,
                          sampled=profile.samples and exploration == "random")
    stats["exploration"] = exploration
    if profile.egreedy:
        stats["epsilon"] = float(profile.egreedy[0].eps)
    if targets:
        stats["target_return"] = float(targets[0].target_return)
    return ExplorerFrame(td, stats, summary_rows(stats, profile), figure, png, greedy,
                         {"rollout": rolled - start, "explored": compared - rolled,
                          "redraw": done - compared})


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    # A frame runs small batch-1 networks, then matplotlib. Extra OpenMP threads gain
    # nothing on the former and keep spinning on the other core during the latter
    # (measured on 2 cores: ~120 ms -> ~88 ms per update). Restored afterwards.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
