"""Tests of rltutor.display: every object kind, exact text, HTML structure, escaping,
truncation, diff, dataflow and the IPython registration."""

from __future__ import annotations

import importlib
from html.parser import HTMLParser

import pytest
import torch
from tensordict import LazyStackedTensorDict, NonTensorData, TensorDict, TensorDictBase
from tensordict.nn import NormalParamExtractor, TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.data import (
    Binary,
    Bounded,
    Categorical,
    Composite,
    MultiCategorical,
    NonTensor,
    OneHot,
    Unbounded,
)
from torchrl.modules import (
    MLP,
    Actor,
    AdditiveGaussianModule,
    EGreedyModule,
    LSTMModule,
    OrnsteinUhlenbeckProcessModule,
    ProbabilisticActor,
    QValueActor,
    QValueModule,
    TanhNormal,
)

import rltutor
from rltutor import dataflow, diff, show, to_html, to_text
from rltutor import display as display_mod
from rltutor.display._format import compact_keys, wrap_keys

XSS = "<img src=x onerror=alert(1)>"


# ---------------------------------------------------------------- helpers and fixtures


class Tags(HTMLParser):
    """Collects start tags and text, so tests check structure instead of substrings."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def count(self, tag: str, cls: str | None = None) -> int:
        return sum(
            1 for t, a in self.tags
            if t == tag and (cls is None or cls in (a.get("class") or "").split())
        )

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def small_td() -> TensorDict:
    return TensorDict(
        {
            "obs": torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
            "done": torch.tensor([False, False, True]),
            "step": torch.tensor([0, 1, 2]),
            "next": TensorDict({"reward": torch.tensor([[1.0], [0.5], [-1.0]])}, batch_size=[3]),
        },
        batch_size=[3],
    )


def time_td() -> TensorDict:
    return TensorDict(
        r=torch.arange(8.0),
        d=torch.tensor([0, 0, 0, 1, 0, 0, 0, 1]).bool(),
        batch_size=[8],
        names=["time"],
    )


@pytest.fixture(scope="module")
def action_spec() -> Bounded:
    return Bounded(low=-2.0, high=2.0, shape=(1,))


@pytest.fixture(scope="module")
def gaussian_actor(action_spec) -> ProbabilisticActor:
    torch.manual_seed(0)
    net = TensorDictSequential(
        TensorDictModule(MLP(in_features=3, out_features=2, num_cells=[8]), ["observation"],
                         ["param"]),
        TensorDictModule(NormalParamExtractor(), ["param"], ["loc", "scale"]),
    )
    return ProbabilisticActor(net, in_keys=["loc", "scale"], distribution_class=TanhNormal,
                              return_log_prob=True, spec=action_spec)


@pytest.fixture(scope="module")
def qvalue_policy() -> TensorDictSequential:
    spec = OneHot(2)
    value_net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[8]),
                                 ["observation"], ["action_value"])
    return TensorDictSequential(value_net, QValueModule(spec=spec), EGreedyModule(spec=spec))


@pytest.fixture(scope="module")
def rollout_td() -> TensorDict:
    from torchrl.envs import GymEnv

    env = GymEnv("Pendulum-v1")
    env.set_seed(0)
    torch.manual_seed(0)
    td = env.rollout(200)
    env.close()
    return td


# ---------------------------------------------------------------- exact text


def test_text_of_small_tensordict_is_exact():
    assert to_text(small_td()) == "\n".join([
        "TensorDict  batch [3]",
        "├─ done       [3 |]    bool     cpu  1/3 true",
        "├─ obs        [3 | 2]  float32  cpu  min 0     mean 2.5    max 5",
        "├─ step       [3 |]    int64    cpu  min 0     mean 1      max 2",
        "└─ next  TensorDict  batch [3]",
        "   └─ reward  [3 | 1]  float32  cpu  min -1    mean 0.167  max 1",
    ])


def test_text_sparkline_over_time_dim_is_exact():
    assert to_text(time_td()) == "\n".join([
        "TensorDict  batch [8] (time)",
        "├─ d  [8 |]  bool     cpu  2/8 true                   ▁▁▁█▁▁▁█",
        "└─ r  [8 |]  float32  cpu  min 0     mean 3.5  max 7  ▁▂▃▄▅▆▇█",
    ])


def test_sparkline_downsamples_to_bins():
    text = to_text(time_td(), spark_bins=4)
    assert text.splitlines()[1].endswith("2/8 true                   ▁▅▁▅")
    assert text.splitlines()[2].endswith("max 7  ▁▃▆█")


def test_text_is_deterministic_and_fits_width():
    td = small_td()
    assert to_text(td, width=40) == to_text(td, width=40)
    lines = to_text(td, width=40).splitlines()
    assert max(len(line) for line in lines) == 40
    assert lines[2].endswith("…")
    with pytest.raises(ValueError, match="width"):
        to_text(td, width=5)


def test_text_without_previews():
    text = to_text(small_td(), previews=False)
    assert "min" not in text and "true" not in text
    assert "[3 | 2]  float32  cpu" in text


# ---------------------------------------------------------------- HTML structure


def test_html_structure_of_nested_tensordict():
    html = to_html(small_td())
    tags = Tags(html)
    assert tags.tags[0] == ("div", {"class": "rlt"})
    assert tags.count("style") == 1
    assert tags.count("details", "rlt-sub") == 1  # "next" folds
    assert tags.count("summary") == 1
    assert tags.count("span", "rlt-dt-bool") == 1
    assert tags.count("span", "rlt-dt-float") == 2
    assert tags.count("span", "rlt-dt-int") == 1
    assert tags.count("span", "rlt-bd") == 4  # batch dims set apart in every leaf's shape
    assert tags.count("script") == 0
    text = tags.all_text
    for key in ("obs", "done", "step", "next", "reward"):
        assert key in text
    assert "batch [3]" in text


def test_html_details_open_depth():
    closed = Tags(to_html(small_td(), open_depth=0)).tags
    assert closed.count(("details", {"class": "rlt-sub"})) == 1
    opened = [a for t, a in Tags(to_html(small_td(), open_depth=1)).tags if t == "details"]
    assert "open" in opened[0]


def test_html_sparkline_is_inline_svg():
    tags = Tags(to_html(time_td()))
    assert tags.count("svg", "rlt-sl") == 2  # one per leaf: float -> polyline
    assert tags.count("svg", "rlt-sl-bool") == 1  # bool -> bars
    assert tags.count("polyline") == 1
    assert tags.count("rect") == 2  # two bins with a done


def test_css_is_loaded_once_and_cached():
    from rltutor._static import css

    assert css("rltutor.css") is css("rltutor.css")
    assert ".rlt-grid" in css("rltutor.css")
    assert "--jp-" in css("rltutor.css")  # follows the JupyterLab theme
    assert f"<style>{css('rltutor.css')}</style>" in to_html(small_td())


# ---------------------------------------------------------------- escaping


def test_keys_and_values_are_escaped():
    td = TensorDict({XSS: torch.zeros(2), "note": NonTensorData("<b>bold</b>")}, batch_size=[])
    html = to_html(td)
    tags = Tags(html)
    assert tags.count("img") == 0 and tags.count("b") == 0
    assert XSS in tags.all_text
    assert "<b>bold</b>" in tags.all_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_repr_fallback_is_escaped_and_shortened():
    class Evil:
        def __repr__(self) -> str:
            return XSS + "x" * 5000

    html = to_html(Evil(), repr_limit=100)
    tags = Tags(html)
    assert tags.count("img") == 0 and XSS in tags.all_text
    assert "more characters" in tags.all_text
    text = to_text(Evil(), repr_limit=100)
    assert text.endswith(f"... {len(repr(Evil())) - 100:,} more characters")


def test_module_and_dataflow_keys_are_escaped():
    module = TensorDictModule(nn.Identity(), [XSS], ["out"])
    for html in (to_html(module), dataflow(module).to_html()):
        tags = Tags(html)
        assert tags.count("img") == 0
        assert XSS in tags.all_text


def test_diff_is_escaped():
    before = TensorDict({}, batch_size=[])
    after = TensorDict({XSS: torch.ones(1)}, batch_size=[])
    tags = Tags(diff(before, after).to_html())
    assert tags.count("img") == 0 and XSS in tags.all_text


# ---------------------------------------------------------------- large inputs


def test_many_keys_are_summarised_with_a_count():
    td = TensorDict({f"k{i:03d}": torch.zeros(1) for i in range(100)}, batch_size=[])
    text = to_text(td, max_keys=10)
    assert len(text.splitlines()) == 1 + 10 + 1
    assert text.splitlines()[-1] == "└─ ... 90 more keys"
    assert "... 90 more keys" in Tags(to_html(td, max_keys=10)).all_text


def test_huge_tensor_gets_no_preview_and_no_values():
    td = TensorDict(pixels=torch.zeros(10, 3, 64, 64), batch_size=[10])
    text = to_text(td, stats_limit=1000)
    assert "no preview: 122,880 values > limit 1,000" in text
    assert "[10 | 3 64 64]" in text
    html = to_html(torch.rand(1000, 1000))  # 1M values: stats, but no values dumped
    assert len(html) < 20_000


def test_deep_nesting_is_cut_at_max_depth():
    td = TensorDict({"x": torch.zeros(1)}, batch_size=[])
    for i in range(5):
        td = TensorDict({f"level{i}": td}, batch_size=[])
    text = to_text(td, max_depth=2)
    assert "deeper than max_depth=2" in text
    assert "x  " not in text


# ---------------------------------------------------------------- object kinds


def test_view_has_mimebundle_with_html_and_text():
    view = show(small_td())
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/plain"] == to_text(small_td())
    assert bundle["text/html"] == to_html(small_td())
    assert repr(view) == bundle["text/plain"]


def test_lazy_stacked_tensordict():
    lazy = LazyStackedTensorDict.lazy_stack(
        [TensorDict(a=torch.zeros(3)), TensorDict(a=torch.ones(3), b=torch.ones(2))], 0
    )
    text = to_text(lazy)
    assert text.splitlines()[0] == (
        "LazyStackedTensorDict  batch [2]  (lazy stack of 2 along dim 0; only in some: b)"
    )
    assert "└─ a  [2 | 3]  float32  cpu  min 0  mean 0.5  max 1" in text


def test_non_tensor_data():
    td = TensorDict(x=torch.zeros(2), name=NonTensorData("pendulum"), batch_size=[])
    text = to_text(td)
    assert "├─ name  []   non-tensor  -    'pendulum'" in text
    assert "non-tensor" in Tags(to_html(td)).all_text


def test_bare_tensor():
    assert to_text(torch.tensor([1.0, 2.0])) == "tensor  [2]  float32  cpu  min 1  mean 1.5  max 2"
    text = to_text(torch.arange(16.0))  # long enough for a sparkline over dim 0
    assert text.endswith("max 15  ▁▁▂▂▃▃▄▄▅▅▆▆▇▇██")
    assert to_text(torch.zeros(0)) == "tensor  [0]  float32  cpu  empty"


def test_views_pass_through_to_html_and_to_text():
    td = TensorDict(a=torch.zeros(1))
    view = diff(td, TensorDict(a=torch.ones(1)))
    assert to_text(view) == view.to_text()
    assert to_html(view) == view.to_html()


def test_unknown_object_falls_back_to_repr():
    assert to_text([1, 2]) == "[1, 2]"
    assert Tags(to_html({"a": 1})).count("pre", "rlt-repr") == 1


def test_unknown_option_is_a_clear_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        show(small_td(), colour="red")  # the options are keyword parameters: Shift-Tab lists them
    with pytest.raises(ValueError, match="max_keys must be an integer"):
        show(small_td(), max_keys=-1)
    with pytest.raises(TypeError, match="module= takes a TensorDict module"):
        show(small_td(), module=nn.Linear(2, 2))
    with pytest.raises(ValueError, match="time_dim=1 is not a batch dim"):
        show(small_td(), time_dim=1)


def test_rollout_has_sparklines_and_batch_bars(rollout_td):
    text = to_text(rollout_td)
    lines = text.splitlines()
    assert lines[0] == "TensorDict  batch [200] (time)"
    reward = next(line for line in lines if "reward" in line)
    assert "[200 | 1]  float32  cpu  min" in reward
    assert reward[-1] in "▁▂▃▄▅▆▇█"
    tags = Tags(to_html(rollout_td))
    assert tags.count("svg") == 10  # one sparkline per leaf
    assert tags.count("details") == 1


def test_modules_render_with_keys(gaussian_actor, qvalue_policy, action_spec):
    actor = Actor(MLP(in_features=3, out_features=1, num_cells=[4]), spec=action_spec)
    modules = [
        gaussian_actor,
        actor,
        qvalue_policy,
        QValueActor(MLP(in_features=4, out_features=2, num_cells=[4]), in_keys=["observation"],
                    spec=OneHot(2)),
        EGreedyModule(spec=OneHot(2)),
        AdditiveGaussianModule(spec=action_spec),
        OrnsteinUhlenbeckProcessModule(spec=action_spec),
        TensorDictModule(nn.Linear(3, 1), ["observation"], ["action"]),
    ]
    for module in modules:
        text = to_text(module)
        assert text.startswith(type(module).__name__), text
        assert "->" in text
        tags = Tags(to_html(module))
        assert tags.count("span", "rlt-key") >= 2
        assert type(module).__name__ in tags.all_text


def test_probabilistic_actor_card(gaussian_actor):
    lines = to_text(gaussian_actor, width=200).splitlines()
    assert lines[0] == (
        "ProbabilisticActor  observation -> param, loc, scale, action, action_log_prob"
    )
    assert lines[1] == "  from the environment: observation"
    assert lines[2] == "├─ TensorDictSequential  observation -> param, loc, scale"
    assert lines[3] == "│  ├─ TensorDictModule(MLP)  observation -> param  (parameters 50)"
    assert lines[4] == "│  └─ TensorDictModule(NormalParamExtractor)  param -> loc, scale"
    assert lines[5].startswith("└─ SafeProbabilisticModule  loc, scale -> action, action_log_prob"
                               "  (distribution TanhNormal, return_log_prob True")


def test_exploration_module_details():
    text = to_text(EGreedyModule(spec=OneHot(2), eps_init=0.5, eps_end=0.05))
    assert "eps 0.5" in text and "eps_init -> eps_end 0.5 -> 0.05" in text


def test_show_with_module_marks_policy_and_env_keys(gaussian_actor):
    td = TensorDict(observation=torch.zeros(3), done=torch.zeros(1, dtype=torch.bool))
    after = gaussian_actor(td.clone())
    lines = to_text(after, module=gaussian_actor).splitlines()
    marked = {line.split()[1]: line for line in lines[1:-1]}
    for key in ("action", "action_log_prob", "loc", "scale", "param"):
        assert "[policy]" in marked[key]
    assert "[input]" in marked["observation"]
    assert "[policy]" not in marked["done"] and "[input]" not in marked["done"]
    assert lines[-1].startswith("[input] read by the module")
    tags = Tags(to_html(after, module=gaussian_actor))
    assert tags.count("span", "rlt-badge-policy") == 5 + 1  # five keys + the legend
    assert tags.count("span", "rlt-badge-input") == 1 + 1


# ---------------------------------------------------------------- nested keys


def composite_action_spec() -> Composite:
    return Composite(action=Composite(direction=Categorical(2),
                                      force=Bounded(0.0, 1.0, shape=(1,))))


@pytest.fixture(scope="module")
def composite_actor() -> ProbabilisticActor:
    from test_rollouts import composite_actor as build_composite_actor

    return build_composite_actor()


def test_compact_keys_group_siblings_and_wrap():
    keys = ["hidden", "params.force.loc", "params.force.scale", "action.direction",
            "action.force"]
    assert compact_keys(keys) == ["hidden", "params.force.{loc, scale}",
                                  "action.{direction, force}"]
    # a marked key never shares a group with unmarked ones
    assert compact_keys(["a.x", "a.y", "a.z"], marked={"a.x"}, mark=" (env)") == [
        "a.x (env)", "a.{y, z}"]
    assert wrap_keys(keys, 30) == ["hidden,", "params.force.{loc, scale},",
                                   "action.{direction, force}"]
    # a group too long for a line breaks between names, going on under the first name
    assert wrap_keys(["action.direction", "action.force_log_prob"], 24) == [
        "action.{direction,", "        force_log_prob}"]


def test_nested_keys_written_leaf_by_leaf_are_policy_not_env(composite_actor):
    flow = dataflow(composite_actor).node
    assert flow.env_keys == ("observation",)  # "params" is built by the heads, not the env
    assert flow.steps[-1].reads == ("params",) and flow.steps[-1].env_reads == ()
    td = composite_actor(TensorDict(observation=torch.zeros(3)))
    lines = to_text(td, module=composite_actor, previews=False).splitlines()
    assert lines == [
        "TensorDict  batch []",
        "├─ hidden                 [8]  float32  cpu  [policy]",
        "├─ observation            [3]  float32  cpu  [input]",
        "├─ action  TensorDict  batch []  [policy]",
        "│  ├─ direction           []   int64    cpu  [policy]",
        "│  ├─ direction_log_prob  []   float32  cpu  [policy]",
        "│  ├─ force               [1]  float32  cpu  [policy]",
        "│  └─ force_log_prob      []   float32  cpu  [policy]",
        "└─ params  TensorDict  batch []  [policy]",
        "   ├─ direction  TensorDict  batch []  [policy]",
        "   │  └─ logits           [2]  float32  cpu  [policy]",
        "   └─ force  TensorDict  batch []  [policy]",
        "      ├─ loc              [1]  float32  cpu  [policy]",
        "      └─ scale            [1]  float32  cpu  [policy]",
        "[input] read by the module, must come from the environment  "
        "[policy] written by the module",
    ]
    tags = Tags(to_html(td, module=composite_actor))
    assert tags.count("span", "rlt-badge-input") == 1 + 1  # observation + legend
    assert tags.count("span", "rlt-badge-policy") == 8 + 4 + 1  # leaves, branches, legend


def test_nested_branch_gets_no_badge_when_only_some_leaves_are_written():
    module = TensorDictModule(nn.Linear(2, 2), ["obs"], [("next", "state")])
    td = module(TensorDict(obs=torch.zeros(2), next=TensorDict(reward=torch.zeros(1))))
    lines = to_text(td, module=module, previews=False).splitlines()
    assert lines[2] == "└─ next  TensorDict  batch []"
    assert lines[3].endswith("reward  [1]  float32  cpu")
    assert lines[4].endswith("state   [2]  float32  cpu  [policy]")


def test_dataflow_text_of_composite_actor_groups_and_wraps(composite_actor):
    lines = dataflow(composite_actor).to_text(width=100).splitlines()
    assert lines == [
        "dataflow of ProbabilisticActor",
        "  from the environment: observation",
        "  writes: hidden, params.direction.logits, params.force.{loc, scale},",
        "          action.{direction, force, direction_log_prob, force_log_prob}",
        "#  step                          reads                  writes",
        "   ProbabilisticActor > TensorDictSequential",
        "1  Linear                        observation (env)  ->  hidden",
        "   parameters 32",
        "2  Linear                        hidden             ->  params.direction.logits",
        "   parameters 18",
        "3  Sequential                    hidden             ->  params.force.{loc, scale}",
        "   parameters 18",
        "   ProbabilisticActor",
        "4  CompositeDistribution sample  params             ->  action.{direction, force,",
        "                                                                direction_log_prob, "
        "force_log_prob}",
        "   return_log_prob True, default interaction deterministic",
    ]
    wide = dataflow(composite_actor).to_text(width=300).splitlines()
    assert wide[3].endswith("notes") and len(wide) == 10  # fits: notes stay in their column
    for width in (60, 80, 100):
        assert all(len(line) <= width for line in
                   dataflow(composite_actor).to_text(width=width).splitlines())


def test_dataflow_html_groups_nested_keys(composite_actor):
    tags = Tags(dataflow(composite_actor).to_html())
    chips = [a for t, a in tags.tags if t == "span" and "rlt-key-out" in (a.get("class") or "")]
    titles = [a["title"] for a in chips if "title" in a]  # the legend chip has none
    assert "action.direction, action.force, action.direction_log_prob, action.force_log_prob" \
        in titles
    assert "params.force.loc, params.force.scale" in titles
    assert tags.count("span", "rlt-key-env") == 3  # observation: header, step 1, legend
    assert "params.force.{loc, scale}" in tags.all_text


def test_lstm_policy_state_keys_are_marked_in_and_out():
    lstm = LSTMModule(input_size=2, hidden_size=4, in_key="position", out_key="memory")
    policy = TensorDictSequential(
        lstm, TensorDictModule(nn.Linear(4, 1), ["memory"], ["action"]))
    td = policy(TensorDict(position=torch.zeros(2), is_init=torch.ones(1, dtype=torch.bool),
                           recurrent_state_h=torch.zeros(1, 4),
                           recurrent_state_c=torch.zeros(1, 4)))
    lines = to_text(td, module=policy, previews=False).splitlines()
    marked = {line.split()[1]: line for line in lines[1:-1] if line[0] != " "}  # root only
    for key in ("position", "is_init", "recurrent_state_h", "recurrent_state_c"):
        assert marked[key].endswith("[input]"), marked[key]
    assert marked["next"] == "└─ next  TensorDict  batch []  [policy]"
    assert lines[-3].endswith("recurrent_state_c  [1 4]  float32  cpu  [policy]")
    text = dataflow(policy).to_text(width=80)
    assert "writes: memory, next.{recurrent_state_h, recurrent_state_c}, action" in text
    assert all(len(line) <= 80 for line in text.splitlines())
    card = to_text(policy, width=90).splitlines()
    assert card[:2] == [
        "TensorDictSequential  position, recurrent_state_h, recurrent_state_c, is_init",
        "                      -> memory, next.{recurrent_state_h, recurrent_state_c}, action",
    ]


# ---------------------------------------------------------------- specs


def test_leaf_specs_show_class_shape_dtype_and_space():
    cases = [
        (Bounded(-2.0, 2.0, shape=(1,)), "BoundedContinuous  [1]  float32  cpu  [-2, 2]"),
        (Bounded(torch.tensor([-1.0, -1.0, -8.0]), torch.tensor([1.0, 1.0, 8.0])),
         "BoundedContinuous  [3]  float32  cpu  low [-1 -1 -8], high [1 1 8]"),
        (Bounded(torch.zeros(10), torch.arange(1.0, 11.0)),
         "BoundedContinuous  [10]  float32  cpu  low 0, high 1..10"),
        (Bounded(0, 5, shape=(2,), dtype=torch.int64), "BoundedDiscrete  [2]  int64  cpu  [0, 5]"),
        (OneHot(3), "OneHot  [3]  bool  cpu  n=3"),
        (Categorical(4), "Categorical  []  int64  cpu  n=4"),
        (Unbounded(shape=(3,)), "UnboundedContinuous  [3]  float32  cpu  unbounded"),
        (Binary(n=4), "Binary  [4]  int8  cpu  0 or 1 per element"),
        (MultiCategorical([3, 2]), "MultiCategorical  [2]  int64  cpu  nvec=[3, 2]"),
        (NonTensor(shape=()), "NonTensor  []  -  -  any value (non-tensor)"),
    ]
    for spec, text in cases:
        assert to_text(spec) == text
    tags = Tags(to_html(OneHot(3)))
    assert tags.count("span", "rlt-kind") == 1 and tags.count("span", "rlt-space") == 1
    assert tags.count("pre", "rlt-repr") == 0  # not the repr fallback


def test_composite_spec_is_a_tree():
    spec = Composite(
        observation=Unbounded(shape=(4, 3)),
        nested=Composite(mask=OneHot(2, shape=(4, 2)), shape=(4,)),
        shape=(4,),
    )
    assert to_text(spec) == "\n".join([
        "Composite  batch [4]",
        "├─ observation  UnboundedContinuous  [4 | 3]  float32  cpu  unbounded",
        "└─ nested  Composite  batch [4]",
        "   └─ mask      OneHot               [4 | 2]  bool     cpu  n=2",
    ])
    assert to_text(composite_action_spec()) == "\n".join([
        "Composite  batch []",
        "└─ action  Composite  batch []",
        "   ├─ direction  Categorical        []   int64    cpu  n=2",
        "   └─ force      BoundedContinuous  [1]  float32  cpu  [0, 1]",
    ])
    tags = Tags(to_html(spec, open_depth=0))
    assert tags.count("details", "rlt-sub") == 1 and "open" not in tags.tags[
        [t for t, _ in tags.tags].index("details")][1]
    assert tags.count("span", "rlt-kind") == 2
    assert tags.count("span", "rlt-bd") == 2  # batch dims set apart in both leaves


def test_spec_keys_are_escaped_and_cut():
    spec = Composite({XSS: Unbounded(shape=(1,))}, **{f"k{i:02}": Unbounded(1) for i in range(5)})
    html = to_html(spec, max_keys=3)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "... 3 more keys" in to_text(spec, max_keys=3)
    stacked = torch.stack([Composite(a=Unbounded(1)), Composite(a=Unbounded(1), b=Unbounded(2))])
    assert to_text(stacked).splitlines()[0] == "StackedComposite  batch [2]  (lazy stack of 2)"


# ---------------------------------------------------------------- diff


def test_diff_added_removed_changed():
    before = TensorDict(
        a=torch.zeros(3), b=torch.zeros(2), c=torch.zeros(2), d=torch.zeros(2), gone=torch.ones(1)
    )
    after = TensorDict(
        a=torch.zeros(3),
        b=torch.tensor([0.0, 0.5]),
        c=torch.zeros(4),
        d=torch.zeros(2, dtype=torch.int64),
        new=torch.ones(1),
    )
    text = diff(before, after).to_text()
    assert text == "\n".join([
        "diff: 1 added, 1 removed, 3 changed, 1 unchanged",
        "~  b     [2]  float32  value: 1/2 values differ, max |Δ| 0.5",
        "~  c     [4]  float32  shape: shape [2] -> [4]",
        "~  d     [2]  int64    dtype: dtype float32 -> int64",
        "-  gone  [1]  float32  min 1  mean 1  max 1",
        "+  new   [1]  float32  min 1  mean 1  max 1",
    ])
    assert "=  a" in diff(before, after, show_same=True).to_text()
    tags = Tags(diff(before, after).to_html())
    assert tags.count("span", "rlt-s-changed") == 1 + 3
    assert tags.count("span", "rlt-s-added") == 1 + 1


def test_diff_after_policy_call(gaussian_actor):
    td = TensorDict(observation=torch.zeros(3))
    view = diff(td, gaussian_actor(td.clone()))
    assert view.node.counts == {"added": 5, "removed": 0, "changed": 0, "same": 1}
    same = diff(td, gaussian_actor(td))  # in place: the same object twice
    assert "same object" in same.to_text(width=300)
    assert "same object" in Tags(same.to_html()).all_text


def test_diff_nested_and_non_tensor():
    before = TensorDict({"next": TensorDict(r=torch.zeros(1)), "s": NonTensorData("a")})
    after = TensorDict({"next": TensorDict(r=torch.ones(1)), "s": NonTensorData("b")})
    text = diff(before, after).to_text()
    assert "~  next.r" in text
    assert "'a' -> 'b'" in text


def test_diff_rejects_non_tensordicts():
    with pytest.raises(TypeError, match="after is a Tensor"):
        diff(TensorDict(), torch.zeros(1))


# ---------------------------------------------------------------- dataflow


def test_dataflow_of_probabilistic_actor(gaussian_actor):
    flow = dataflow(gaussian_actor)
    assert flow.node.env_keys == ("observation",)
    assert [s.name for s in flow.node.steps] == ["MLP", "NormalParamExtractor",
                                                "TanhNormal sample"]
    lines = flow.to_text(width=200).splitlines()
    assert lines[:4] == [
        "dataflow of ProbabilisticActor",
        "  from the environment: observation",
        "  writes: param, loc, scale, action, action_log_prob",
        "#  step                  reads                  writes                   notes",
    ]
    assert lines[5] == (
        "1  MLP                   observation (env)  ->  param                    parameters 50"
    )
    assert lines[8].startswith(
        "3  TanhNormal sample     loc, scale         ->  action, action_log_prob"
    )
    tags = Tags(flow.to_html())
    assert tags.count("div", "rlt-step") == 3
    assert tags.count("span", "rlt-key-env") == 3  # header, step 1, legend


def test_dataflow_of_qvalue_policy_with_egreedy(qvalue_policy):
    steps = dataflow(qvalue_policy).node.steps
    assert [(s.name, s.reads, s.writes) for s in steps] == [
        ("MLP", ("observation",), ("action_value",)),
        ("QValueModule", ("action_value",), ("action", "action_value", "chosen_action_value")),
        ("EGreedyModule", ("action",), ("action",)),
    ]
    assert [s.env_reads for s in steps] == [("observation",), (), ()]


def test_dataflow_of_lstm_reads_recurrent_state_from_env():
    lstm = LSTMModule(input_size=3, hidden_size=4, in_key="observation", out_key="embed")
    flow = dataflow(lstm).node
    assert flow.env_keys == ("observation", "recurrent_state_h", "recurrent_state_c", "is_init")
    assert flow.out_keys == ("embed", "next.recurrent_state_h", "next.recurrent_state_c")


def test_dataflow_of_exploration_after_actor(action_spec):
    actor = Actor(MLP(in_features=3, out_features=1, num_cells=[4]), spec=action_spec)
    for noise in (AdditiveGaussianModule(spec=action_spec),
                  OrnsteinUhlenbeckProcessModule(spec=action_spec)):
        flow = dataflow(TensorDictSequential(actor, noise)).node
        assert flow.env_keys == ("observation",)
        assert flow.steps[1].reads == ("action",) and "action" in flow.steps[1].writes


def test_dataflow_rejects_plain_torch_module():
    with pytest.raises(TypeError, match="wrap a plain torch module first"):
        dataflow(nn.Linear(2, 2))


# ---------------------------------------------------------------- IPython


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    display_mod.uninstall()
    InteractiveShell.clear_instance()


def test_install_is_opt_in_and_reversible(shell):
    importlib.reload(display_mod)  # importing inside a live shell...
    html = shell.display_formatter.formatters["text/html"]
    assert TensorDictBase not in html.type_printers  # ...registers nothing
    td = small_td()
    before = shell.display_formatter.format(td)[0]
    assert "text/html" not in before

    assert display_mod.install() is True
    assert display_mod.install() is True  # twice is harmless
    data = shell.display_formatter.format(td)[0]
    assert data["text/html"] == to_html(td)
    assert data["text/plain"] == to_text(td)
    policy = TensorDictModule(nn.Linear(3, 1), ["observation"], ["action"])
    assert "rlt" in shell.display_formatter.format(policy)[0]["text/html"]

    assert display_mod.uninstall() is True
    assert shell.display_formatter.format(td)[0] == before


def test_install_adds_exception_hints_in_a_real_shell(shell, capsys):
    cell = ("from torchrl.envs import GymEnv\n"
            "from torchrl.modules import QValueModule\n"
            "QValueModule(GymEnv('CartPole-v1').action_spec)")
    assert display_mod.install() is True
    assert display_mod.install() is True  # twice: still one hint, no error
    shell.run_cell(cell)
    text = "".join(capsys.readouterr())
    assert "TypeError" in text  # the traceback is still shown
    assert text.count("a spec passed positionally to QValueModule") == 1
    assert "QValueModule(spec=env.action_spec)" in text
    assert display_mod.uninstall() is True
    shell.run_cell(cell)
    text = "".join(capsys.readouterr())
    assert "TypeError" in text and "a spec passed positionally" not in text


def test_install_registers_specs_and_uninstall_restores_them(shell):
    spec = Bounded(-1.0, 1.0, shape=(1,))
    before = shell.display_formatter.format(spec)[0]
    display_mod.install()
    assert shell.display_formatter.format(spec)[0]["text/plain"] == to_text(spec)
    display_mod.uninstall()
    assert shell.display_formatter.format(spec)[0] == before


def test_import_display_does_not_load_diagnostics():
    import subprocess
    import sys

    code = ("import sys, rltutor.display; "
            "print('rltutor.diagnostics' in sys.modules, 'torchrl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_install_outside_ipython_is_a_noop():
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    assert display_mod.install() is False
    assert display_mod.uninstall() is False


def test_lazy_top_level_exports():
    for name in ("show", "to_html", "to_text", "diff", "dataflow", "install", "uninstall"):
        value = getattr(rltutor, name)
        assert value is getattr(display_mod, name) and value.__name__ == name
