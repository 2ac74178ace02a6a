"""Catch the classic mistakes made when building TorchRL policies, and say how to fix them.

Two ways in:

* :func:`check_policy` looks at a policy and the environment it will run on and returns
  a list of :class:`Finding` (what is wrong, why it matters, how to fix it). An empty
  list means none of the known mistakes was found.
* :func:`install_hints` (called by ``rltutor.install()``) registers an IPython handler:
  when a notebook cell raises an exception that one of these mistakes causes, the usual
  traceback is shown and a hint box is appended under it. :func:`hint_for` is the pure
  function behind it.

    >>> from rltutor.diagnostics import hint_for
    >>> hint_for(KeyError('key "sample_log_prob" not found')).what
    "a key named 'sample_log_prob'"

Checks made by :func:`check_policy`:

1. a recurrent module (``LSTMModule``/``GRUModule``) on an env without its primer
   (``module.make_tensordict_primer()``) or without ``InitTracker()``;
2. an exploration module whose action spec lives on another device than the env's action,
   or a policy whose parameters live on another device than the env's tensors;
3. a key named ``sample_log_prob`` (TorchRL now writes ``action_log_prob``);
4. a ``QValueModule`` whose action space disagrees with the env's action spec, e.g.
   integer actions for CartPole's one-hot spec: gym reads index 1 as "left", silently.
   (A spec passed positionally, ``QValueModule(env.action_spec)``, is refused with a
   TypeError at construction: that one is caught by the exception hint);
5. ``ExplorationType.MEAN`` (or MODE/MEDIAN) on a distribution that cannot compute it;
6. a policy that reads keys the environment does not provide;
7. an action whose shape, dtype or encoding disagrees with the action spec (an integer
   index for CartPole's one-hot spec, a 2-dim action in Pendulum), found by one forward
   pass on ``env.fake_tensordict()``; a recurrent state written at the root instead of
   under ``"next"``. A policy that is no ``nn.Module`` (``RandomPolicy``, a function)
   gets this check only.

:func:`check_training` looks at the parts of a training loop (policy, env, loss, optimizer,
target updater, exploration module, collector, buffer, your update step or TD target) for
the mistakes that raise no error and stop learning: parameters left out of the optimizer
or cut from the graph, a target copy that never moves, ε that never anneals, a collector
that does not explore, an evaluation that is not deterministic, a target that reads the
root ``done`` or stops at truncation, a recurrent loss run step by step on slices.

Layout: ``_finding`` (Finding, Findings), ``_checks`` (one function per mistake),
``_actions`` (the action against its spec), ``_policy`` (check_policy runs them),
``_hints`` (exception hints), ``_training_checks`` (one function per loop mistake),
``_training`` (check_training runs them, and the dry-run updates).
"""

from __future__ import annotations

from rltutor.diagnostics._finding import Finding, Findings
from rltutor.diagnostics._hints import hint_for, install_hints, uninstall_hints
from rltutor.diagnostics._loss import check_loss
from rltutor.diagnostics._policy import check_policy
from rltutor.diagnostics._training import check_training

__all__ = ["Finding", "Findings", "check_loss", "check_policy", "check_training", "hint_for",
           "install_hints", "uninstall_hints"]
