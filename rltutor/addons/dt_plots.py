"""Pictures for lesson 12 (the Decision Transformer): data, tokens, returns per target.

Each function takes TensorDicts and returns a matplotlib Figure (closed, so a notebook
shows it once, where the cell returns it)::

    >>> import torch
    >>> from tensordict import TensorDict
    >>> window = TensorDict({"observation_cat": torch.zeros(3, 3),
    ...                      "action_cat": torch.zeros(3, 1),
    ...                      "return_to_go_cat": torch.zeros(3, 1)}, batch_size=[3])
    >>> len(plot_context_tokens(window).axes)
    1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from tensordict import TensorDictBase

from rltutor.addons.offline import CONTEXT_KEYS
from rltutor.plots._picture import Picture
from rltutor.plots._style import LINESTYLES, PALETTE, ROLES

__all__ = ["plot_achieved_vs_target", "plot_context_tokens",
           "plot_dataset_returns", "plot_target_rollouts"]




# matplotlib shapes (not CSS): a rounded token box, an arrow with a filled head, its bend
_BOX, _ARROW, _BEND = "round,pad=0.02", "-|>", "arc3,rad=-0.5"
# each kind also has its own name on its box: colour is never the only cue
_KIND_COLOURS = {"return_to_go": PALETTE[4], "observation": PALETTE[0], "action": PALETTE[3]}


def plot_dataset_returns(data: TensorDictBase, *, title: str = "") -> Figure:
    """One dot per episode: its return, grouped by the effort of the controller that made it.

    Args:
        data: episodes ``[episodes, time]`` with ``("next", "reward")`` and ``effort``.
        title: the figure's title.

    >>> from tensordict import TensorDict
    >>> td = TensorDict({"effort": torch.ones(2, 3, 1), "next": {"reward": -torch.ones(2, 3, 1)}},
    ...                 batch_size=[2, 3])
    >>> plot_dataset_returns(td).axes[0].get_xlabel()
    'episode return'
    """
    if not isinstance(data, TensorDictBase) or data.batch_dims != 2:
        raise ValueError("data must be a TensorDict of batch size [episodes, time]")
    returns = data["next", "reward"].sum(dim=(1, 2))
    efforts = data["effort"][:, 0, 0]
    fig = Picture(figsize=(7.5, 2.6), dpi=96)
    ax = fig.add_subplot()
    levels = sorted(set(efforts.tolist()))
    jitter = torch.linspace(-0.15, 0.15, steps=max(int((efforts == levels[0]).sum()), 2))
    for row, level in enumerate(levels):
        picked = returns[efforts == level]
        ax.scatter(picked, row + jitter[: len(picked)], s=14, alpha=0.8,
                   color=PALETTE[row % len(PALETTE)], label=f"effort {level:g}")
    ax.set_yticks(range(len(levels)), [f"effort {level:g}" for level in levels])
    ax.set_xlabel("episode return")
    low, high = (int(round(v.item())) for v in (returns.min(), returns.max()))
    ax.set_title(title or f"{len(returns)} episodes, returns {low} to {high}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_context_tokens(window: TensorDictBase, *, step_offset: int = 0) -> Figure:
    """The sequence a Decision Transformer reads: (R̂, s, a) tokens for each step of a window.

    Each step of the window becomes three tokens, in this order: the return-to-go R̂ (what
    is still to be earned), the observation s, the action a. The model predicts the action
    of step t from the output at s_t, which has seen everything to its left but not a_t.

    Args:
        window: one window, batch size ``[context]``, with the keys of
            :data:`rltutor.addons.offline.CONTEXT_KEYS` (``return_to_go_cat``, ``observation_cat``,
            ``action_cat``).
        step_offset: the episode step of the window's first entry (for the labels).

    Returns:
        A Figure with one row of boxes, one per token, coloured by kind.
    """
    if not isinstance(window, TensorDictBase) or window.batch_dims != 1:
        raise ValueError("window must be a TensorDict of batch size [context] "
                         "(one sample of the training buffer, e.g. batch[0])")
    missing = [k for k in CONTEXT_KEYS.values() if k not in window.keys()]
    if missing:
        raise KeyError(f"window has no {missing}; expected the keys {list(CONTEXT_KEYS.values())}")
    context = window.batch_size[0]
    alt = (f"A context window of {context} steps as {3 * context} tokens in a row: for each "
           "step its return-to-go, observation and action, in the order the model reads them.")
    fig = Picture(figsize=(max(7.5, 1.05 * 3 * context), 2.5), dpi=96, alt=alt)
    ax = fig.add_subplot()
    for t in range(context):
        step = step_offset + t
        tokens = [("return_to_go", f"R̂{_sub(step)}", _fmt(window[CONTEXT_KEYS['return_to_go']][t])),
                  ("observation", f"s{_sub(step)}", _fmt(window[CONTEXT_KEYS['observation']][t])),
                  ("action", f"a{_sub(step)}", _fmt(window[CONTEXT_KEYS['action']][t]))]
        for j, (kind, name, value) in enumerate(tokens):
            x = 3 * t + j
            ax.add_patch(FancyBboxPatch((x + 0.06, 0.0), 0.88, 1.0, boxstyle=_BOX,
                                        color=_KIND_COLOURS[kind], alpha=0.85))
            ax.text(x + 0.5, 0.68, name, ha="center", va="center", color="white",
                    fontsize=10, fontweight="bold")
            ax.text(x + 0.5, 0.3, value, ha="center", va="center", color="white", fontsize=6.5)
        # the action of step t is read from the output at s_t
        ax.add_patch(FancyArrowPatch((3 * t + 1.5, 1.08), (3 * t + 2.5, 1.08),
                                     connectionstyle=_BEND, arrowstyle=_ARROW,
                                     mutation_scale=10, color=ROLES["neutral"]))
    ax.text(0, -0.35, "time →   each step is three tokens; the arrow: the output at s "
            "predicts a (the model never sees a before predicting it)", fontsize=8.5)
    ax.set_xlim(-0.1, 3 * context + 0.1)
    ax.set_ylim(-0.5, 1.6)
    ax.axis("off")
    fig.tight_layout()
    return fig


def _sub(step: int) -> str:
    return str(step).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _fmt(values: torch.Tensor) -> str:
    flat = values.reshape(-1).tolist()
    if len(flat) == 1:
        return f"{flat[0]:.2f}" if abs(flat[0]) < 100 else f"{flat[0]:.0f}"
    return " ".join(f"{v:.2f}" for v in flat)


def plot_target_rollouts(
    rollouts: Mapping[float, TensorDictBase], *, title: str = ""
) -> Figure:
    """The pendulum's angle over time, one line per target return, with the return achieved.

    Args:
        rollouts: target return -> the rollout (batch ``[time]``) played for it. The rollouts
            need ``observation`` (Pendulum's ``[cos θ, sin θ, ω]``) and ``("next", "reward")``.
        title: the figure's title.

    >>> from tensordict import TensorDict
    >>> td = TensorDict({"observation": torch.tensor([[1.0, 0.0, 0.0]] * 4),
    ...                  "next": {"reward": torch.zeros(4, 1)}}, batch_size=[4])
    >>> plot_target_rollouts({-100.0: td}).axes[0].get_ylabel()
    '|angle| from upright (rad)'
    """
    if not isinstance(rollouts, Mapping) or not rollouts:
        raise ValueError("rollouts must be a non-empty dict: target return -> rollout TensorDict")
    fig = Picture(figsize=(9.5, 3.2), dpi=96)
    ax = fig.add_subplot()
    for i, (target, td) in enumerate(sorted(rollouts.items())):
        observation = td["observation"]
        angle = torch.atan2(observation[..., 1], observation[..., 0]).abs()
        achieved = td["next", "reward"].sum().item()
        ax.plot(angle.numpy(), color=PALETTE[i % len(PALETTE)], ls=LINESTYLES[i % 4], lw=1.6,
                label=f"target {target:g}  →  return {achieved:.0f}")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylim(-0.1, 3.3)
    ax.set_xlabel("step")
    ax.set_ylabel("|angle| from upright (rad)")
    ax.set_title(title or "0 = upright, 3.14 = hanging", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the lines
    fig.tight_layout()
    return fig


def plot_achieved_vs_target(
    targets: Sequence[float],
    achieved: torch.Tensor,
    *,
    data_returns: torch.Tensor,
    seeds: Sequence[int] | None = None,
    highlight: int | None = None,
    title: str = "",
) -> Figure:
    """Return achieved against return asked for, over several starts: what conditioning does.

    Draws the mean over the starts with a min-max band, one faint line per start, the line
    y = x (the policy earns exactly what it is asked for) and, shaded, the range of
    episode returns in the training data.

    Args:
        targets: the target returns asked for (the x values).
        achieved: ``[len(targets), starts]`` returns, e.g. from
            :func:`rltutor.addons.offline.achieved_returns`.
        data_returns: the returns of the training episodes (their range is shaded).
        seeds: the starts' names for the title (default ``0 .. starts-1``).
        highlight: a start drawn as a solid line of its own (e.g. the lesson's start).
        title: the figure's title.

    >>> fig = plot_achieved_vs_target([-300.0, -100.0], torch.tensor([[-300.0], [-90.0]]),
    ...                               data_returns=torch.tensor([-500.0, 0.0]))
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('target return (asked for)', 'return achieved')
    """
    achieved = torch.as_tensor(achieved, dtype=torch.float32)
    if achieved.dim() != 2 or achieved.shape[0] != len(targets) or len(targets) < 2:
        raise ValueError(f"achieved must be [targets, starts] with one row per target "
                         f"({len(targets)} targets, at least 2), got {tuple(achieved.shape)}")
    seeds = list(range(achieved.shape[1])) if seeds is None else list(seeds)
    x = [float(t) for t in targets]
    fig = Picture(figsize=(7.5, 4.0), dpi=96)
    ax = fig.add_subplot()
    low, high = float(data_returns.min()), float(data_returns.max())
    ax.axhspan(low, high, color=ROLES["band"], alpha=0.25, lw=0,
               label=f"returns in the data ({low:.0f} to {high:.0f})")
    edge = [min(x + [low]), max(x + [high])]
    ax.plot(edge, edge, ls="--", color="k", lw=1, label="y = x: earns what it asks for")
    for column in achieved.T:
        ax.plot(x, column.numpy(), color=PALETTE[0], lw=0.6, alpha=0.3)
    ax.fill_between(x, achieved.amin(1).numpy(), achieved.amax(1).numpy(), color=PALETTE[0],
                    alpha=0.18, lw=0, label=f"min to max over {len(seeds)} starts")
    ax.plot(x, achieved.mean(1).numpy(), color=PALETTE[0], lw=2.2, marker="o", ms=3,
            label="mean over the starts")
    if highlight is not None:
        ax.plot(x, achieved[:, seeds.index(highlight)].numpy(), color=PALETTE[3], lw=1.6,
                label=f"start (seed) {highlight}")
    ax.set_xlabel("target return (asked for)")
    ax.set_ylabel("return achieved")
    starts = f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else seeds
    ax.set_title(title or f"starts {starts}: return achieved for each target", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
