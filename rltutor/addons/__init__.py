"""Add-ons of the course: each module here serves one lesson and is imported by name.

They are public for the lessons (``from rltutor.addons.toy_envs import PuckEnv``) and
tested like the rest of rltutor, but they are not part of the top-level API: a lesson's
helper changes with its lesson. The general tools (``show``, ``rollout``, ``explorer``,
``check_policy``, ...) are importable from ``rltutor`` itself.

* ``toy_envs``: PuckEnv, an env with a two-part action (lesson 07);
* ``distributed``, ``worker_preload``: TorchRL's distributed collector on one machine,
  and the module the fork server imports so that workers start warm (lesson 08);
* ``offline``, ``dt_plots``: offline Pendulum episodes and the Decision Transformer's
  pictures (lesson 12);
* ``offpolicy_probes``, ``offpolicy_plots``: SAC against TD3, measured and drawn (lesson 14).

Importing this package imports none of them.
"""
