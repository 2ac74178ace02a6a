"""Facts about a Decision Transformer network, for module cards and dataflows.

TorchRL's ``DTActor`` and ``OnlineDTActor`` hold a ``DecisionTransformer``, which holds a
GPT-2 model from ``transformers``. A card says how big that GPT-2 is and how many steps of
context it accepts (three tokens per step: return-to-go, observation, action). Pure
attribute reading: nothing here imports torchrl or transformers.

    >>> from torch import nn
    >>> transformer_details(nn.Linear(2, 1))
    []
"""

from __future__ import annotations

from typing import Any

__all__ = ["decision_transformer", "transformer_details"]


def decision_transformer(net: Any) -> Any:
    """The ``DecisionTransformer`` inside ``net`` (``net`` itself, or its ``.transformer``).

    Args:
        net: any object; a ``DTActor``, ``OnlineDTActor`` or ``DecisionTransformer``.

    >>> decision_transformer(object()) is None
    True
    """
    for candidate in (net, getattr(net, "transformer", None)):
        if type(candidate).__name__ == "DecisionTransformer" and hasattr(candidate,
                                                                          "transformer"):
            return candidate
    return None


def transformer_details(net: Any) -> list[tuple[str, str]]:
    """(label, value) pairs for a Decision Transformer network; [] for anything else.

    Args:
        net: the network inside a ``TensorDictModule`` (``module.module``).

    Returns:
        The GPT-2 size (layers, heads, width) and the longest context its position table
        allows (three tokens per step); ``OnlineDTActor`` adds its Gaussian head.
    """
    dt = decision_transformer(net)
    config = getattr(getattr(dt, "transformer", None), "config", None)
    if config is None:
        return []
    positions = int(config.n_positions)
    layers = f"{config.n_layer} layer" + ("s" if config.n_layer != 1 else "")
    details = [
        ("GPT-2", f"{layers} x {config.n_head} heads, {config.n_embd} wide"),
        ("context", f"up to {positions // 3} steps = {positions} tokens (R̂, s, a per step)"),
    ]
    if hasattr(net, "action_layer_logstd"):
        details.append(("head", "Gaussian mean and std per step"))
    return details
