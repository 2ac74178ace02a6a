"""rltutor.addons.dt_plots: lesson 12's pictures are Figures shown as PNGs; bad input is named."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict

from rltutor.addons import dt_plots


def window(context: int = 4) -> TensorDict:
    return TensorDict({"observation_cat": torch.randn(context, 3),
                       "action_cat": torch.randn(context, 1),
                       "return_to_go_cat": -100 * torch.rand(context, 1)}, batch_size=[context])


def episodes() -> TensorDict:
    effort = torch.tensor([0.25, 0.25, 1.0, 1.0]).view(4, 1, 1).expand(4, 5, 1)
    return TensorDict({"effort": effort.clone(), "next": {"reward": -torch.rand(4, 5, 1)}},
                      batch_size=[4, 5])


def test_tokens_three_per_step_in_order():
    fig = dt_plots.plot_context_tokens(window(3), step_offset=10)
    labels = [t.get_text() for t in fig.axes[0].texts if t.get_text()[:1] in "R̂sa"
              and len(t.get_text()) <= 4]
    assert labels == ["R̂₁₀", "s₁₀", "a₁₀", "R̂₁₁", "s₁₁", "a₁₁", "R̂₁₂", "s₁₂", "a₁₂"]
    assert fig._repr_png_()[:4] == b"\x89PNG"


def test_tokens_name_what_is_missing():
    with pytest.raises(KeyError, match="return_to_go_cat"):
        dt_plots.plot_context_tokens(window().exclude("return_to_go_cat"))
    with pytest.raises(ValueError, match=r"batch\[0\]"):
        dt_plots.plot_context_tokens(window().unsqueeze(0))


def test_dataset_returns_one_row_per_effort():
    fig = dt_plots.plot_dataset_returns(episodes())
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["effort 0.25", "effort 1"]
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 4


def test_target_rollouts_label_the_achieved_return():
    td = TensorDict({"observation": torch.tensor([[-1.0, 0.0, 0.0]] * 3),
                     "next": {"reward": -torch.ones(3, 1)}}, batch_size=[3])
    fig = dt_plots.plot_target_rollouts({-300: td, -100: td})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["target -300  →  return -3", "target -100  →  return -3"]
    assert fig.axes[0].lines[0].get_ydata()[0] == pytest.approx(3.14159, abs=1e-4)
    with pytest.raises(ValueError, match="non-empty dict"):
        dt_plots.plot_target_rollouts({})


def test_achieved_vs_target_draws_mean_band_identity_and_data_range():
    achieved = torch.tensor([[-700.0, -50.0, -300.0], [-100.0, -20.0, -90.0]])
    fig = dt_plots.plot_achieved_vs_target([-600, -100], achieved,
                                           data_returns=torch.tensor([-900.0, -5.0]),
                                           highlight=2)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["returns in the data (-900 to -5)", "y = x: earns what it asks for",
                      "min to max over 3 starts", "mean over the starts", "start (seed) 2"]
    mean = next(line for line in ax.lines if line.get_label() == "mean over the starts")
    assert mean.get_ydata().tolist() == pytest.approx([-350.0, -70.0])
    identity = next(line for line in ax.lines if line.get_label().startswith("y = x"))
    assert list(identity.get_xdata()) == list(identity.get_ydata())
    assert fig._repr_png_()[:4] == b"\x89PNG"


def test_achieved_vs_target_names_a_shape_mismatch():
    with pytest.raises(ValueError, match=r"\[targets, starts\]"):
        dt_plots.plot_achieved_vs_target([-600, -100], torch.zeros(3, 2),
                                         data_returns=torch.tensor([-1.0, 0.0]))
