"""The exploration-type contract, measured: what each kind of policy does under each type.

TorchRL has one switch, the exploration type (``set_exploration_type``), and every module
that can explore reads it, but not in the same way: a ``ProbabilisticActor`` with no type
set acts on its ``default_interaction_type`` (deterministic), while ``EGreedyModule`` and
the noise modules explore when no type is set. :func:`exploration_table` runs policies
under each type and says what came out, so a lesson can show the contract as a table
computed live, never typed by hand.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> from tensordict.nn import TensorDictModule
    >>> still = TensorDictModule(torch.nn.Linear(1, 1), in_keys=["x"], out_keys=["action"])
    >>> table = exploration_table({"linear": (still, TensorDict(x=torch.ones(1)))}, calls=3)
    >>> table["RANDOM"]["linear"]
    '= deterministic'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import torch
from tensordict import TensorDictBase
from torchrl.envs.utils import ExplorationType, set_exploration_type

__all__ = ["ROWS", "exploration_table", "table_to_text"]

# The rows of the table: no type set, then the types a policy meets in practice.
ROWS: tuple[str, ...] = ("None", "RANDOM", "DETERMINISTIC", "MEAN", "MODE")

RANDOM_LABEL = "random"
SAME_LABEL = "= deterministic"
OTHER_LABEL = "fixed, ≠ deterministic"
NAN_LABEL = "nan: no action"


def _action(policy: Callable[[TensorDictBase], TensorDictBase], td: TensorDictBase,
            row: str) -> torch.Tensor:
    kind = None if row == "None" else ExplorationType[row]
    # set_exploration_type(None) means "no type set" even inside another block
    with set_exploration_type(kind), torch.no_grad(), warnings.catch_warnings():
        # OU warns at every call on a TensorDict without "is_init"; the table is not about it
        warnings.simplefilter("ignore")
        return policy(td.clone())["action"].float()


def _label(actions: list[torch.Tensor], deterministic: torch.Tensor, atol: float) -> str:
    first = actions[0]
    if any(not bool(torch.isfinite(a).all()) for a in actions):
        return NAN_LABEL
    if any(not torch.allclose(a, first, atol=atol) for a in actions[1:]):
        return RANDOM_LABEL
    if first.shape == deterministic.shape and torch.allclose(first, deterministic, atol=atol):
        return SAME_LABEL
    return OTHER_LABEL


def exploration_table(
    columns: Mapping[str, tuple[Callable[[TensorDictBase], TensorDictBase], TensorDictBase]],
    *,
    rows: Sequence[str] = ROWS,
    calls: int = 20,
    seed: int = 0,
    atol: float = 1e-6,
) -> dict[str, dict[str, str]]:
    """What each policy writes to ``"action"`` under each exploration type.

    Each policy is called ``calls`` times on a copy of its TensorDict under each type.
    A cell says ``"random"`` when the calls disagree, ``"= deterministic"`` when they all
    give the action the policy gives under ``DETERMINISTIC``, ``"fixed, ≠ deterministic"``
    when they agree on another action, ``"nan: no action"`` when an action is not a
    number (the MEAN of a categorical distribution), and ``"error: <ExceptionName>"`` when the call
    raised. The global RNG is left as it was (the draws come from a forked, seeded one).

    Args:
        columns: column name -> ``(policy, td)``: a policy writing ``"action"`` and one
            input TensorDict for it (an env's ``reset()``, say).
        rows: exploration types by name: ``"None"`` (no type set) or an
            ``ExplorationType`` member's name (``"RANDOM"``, ``"MEAN"``, ...).
        calls: calls per cell, >= 2 (more calls catch a rarely changing action).
        seed: the seed of the forked RNG.
        atol: how far two continuous actions may be apart and still count as equal.

    Returns:
        ``table[row][column]``, a label per cell.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> from torchrl.data import Bounded
    >>> from torchrl.modules import EGreedyModule
    >>> explore = EGreedyModule(spec=Bounded(-1.0, 1.0, shape=(1,)), eps_init=1.0)
    >>> table = exploration_table({"egreedy": (explore, TensorDict(action=torch.zeros(1)))})
    >>> table["None"]["egreedy"], table["MODE"]["egreedy"]
    ('random', '= deterministic')
    """
    unknown = [r for r in rows if r != "None" and r not in ExplorationType.__members__]
    if unknown:
        raise ValueError(f"unknown row(s) {unknown}; accepted: 'None', "
                         f"{', '.join(map(repr, ExplorationType.__members__))}")
    if int(calls) < 2:
        raise ValueError(f"calls must be at least 2 to tell random from fixed, got {calls}")
    table: dict[str, dict[str, str]] = {row: {} for row in rows}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name, (policy, td) in columns.items():
            deterministic = _action(policy, td, "DETERMINISTIC")
            for row in rows:
                try:
                    actions = [_action(policy, td, row) for _ in range(int(calls))]
                except Exception as error:  # a type the distribution cannot give
                    table[row][name] = f"error: {type(error).__name__}"
                    continue
                table[row][name] = _label(actions, deterministic, atol)
    return table


def table_to_text(table: Mapping[str, Mapping[str, str]], *, corner: str = "type") -> str:
    """``table`` (row -> column -> cell) as aligned plain text, one line per row.

    Args:
        table: what :func:`exploration_table` returns (or any such nesting of strings).
        corner: the text above the row names.

    >>> print(table_to_text({"None": {"a": "random", "b": "x"}, "MODE": {"a": "y", "b": "z"}}))
    type  a       b
    None  random  x
    MODE  y       z
    """
    names = list(dict.fromkeys(c for cells in table.values() for c in cells))
    lines = [[corner, *names]] + [[row, *(cells.get(c, "") for c in names)]
                                  for row, cells in table.items()]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                     for line in lines)
