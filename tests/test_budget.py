"""Which figures the default run holds (reporting.budget): the rule's arithmetic by hand, shared runs counted once,
and the claims of the figures left on demand listed as "not run"."""
import json

import pytest

from instructor_lib import presets
from instructor_lib.claims import read_claims
from instructor_lib.workbench.experiments import data_ablation, instruction_levels, paraphrases, sizes
from instructor_lib.workbench.reporting import budget, index

from helpers import replace_preset

MINUTE = 60.0


def with_budget(monkeypatch, minutes, **fields):
    """The cpu preset with this budget, as if the pilot had found its figures' scale valid (unless `fields` say)."""
    replace_preset(monkeypatch, "cpu", budget_minutes=minutes, **{"figures_valid": True, **fields})


# By hand at the cpu preset's figures scale of 10 steps (3 seeds; the main table 5 seeds x 65 steps), from STEP_S and
# EVAL_S: the base 5 x (65 x 4.2 + 27.5) + 290.5 = 1793 s.
# Fig. 5: 4 levels x 3 seeds x 10 x 4.2 = 504 s of training, 12 scores + the backbone x 20 s = 260: 764 s.
# Fig. 3 after it: its 4 groups not trained for Fig. 5, 504 + 240 s = 744 s (full MEDI, N/A and the backbone shared).
# Fig. 4: no_superni 3 x 42 = 126 s, the backbone 15, 6 models x 5 paraphrase sets x 15 = 450 and full MEDI's 3 with the
# paper's instructions 45 (the control): 636 s.
# Fig. 6: mpnet 3 x (228 + 36) and its backbone 36, MiniLM's sizes scores 3 x 8 and backbone 8, the 2-layer cut
# trained 17 s and scored 27.5, the full run scored on the main suite 27.5: 932 s. Ablation: no_superni scored, 60 s.
# Pooling: full MEDI pooled over every token, 3 x 42 s trained and 3 x 20 scored: 186 s.
BASE, FIG5, FIG3, FIG4, FIG6, ABLATION, POOLING = 1793.0, 764.0, 744.0, 636.0, 932.0, 60.0, 186.0


def test_at_10_steps_every_figure_fits_120_minutes_and_the_total_is_the_sum_by_hand(monkeypatch):
    with_budget(monkeypatch, 120, figures={"steps": 10})
    plan = budget.plan("cpu")
    assert plan.default == budget.FIGURE_PRIORITY and plan.on_demand == ()
    assert plan.minutes == pytest.approx({"instruction_detail": FIG5 / MINUTE, "data_ablation": FIG3 / MINUTE,
                                          "robustness": FIG4 / MINUTE, "scaling": FIG6 / MINUTE, "ablation": ABLATION / MINUTE,
                                          "pooling": POOLING / MINUTE})
    assert plan.total_minutes == pytest.approx((BASE + FIG5 + FIG3 + FIG4 + FIG6 + ABLATION + POOLING) / MINUTE)


def test_a_figure_that_does_not_fit_is_left_on_demand_and_a_later_one_that_fits_is_taken(monkeypatch):
    """60 minutes: base + Fig. 5 + Fig. 3 = 55.0 min; Fig. 4 (+10.6) and Fig. 6 (+15.5) do not fit; the ablation
    then needs no_superni trained (126 s) and scored (60 s): 58.1 min, it fits; the pooling question (+3.1) does not."""
    with_budget(monkeypatch, 60, figures={"steps": 10})
    plan = budget.plan("cpu")
    assert plan.default == ("instruction_detail", "data_ablation", "ablation")
    assert plan.on_demand == ("robustness", "scaling", "pooling")
    assert plan.total_minutes == pytest.approx((BASE + FIG5 + FIG3 + 126 + ABLATION) / MINUTE)
    with_budget(monkeypatch, BASE / MINUTE, figures={"steps": 10})  # the base alone: no figure
    assert budget.plan("cpu").default == ()


def test_runs_shared_with_the_main_table_cost_nothing(monkeypatch):
    """At the main table's 65 steps, Fig. 5's full-MEDI runs are the main table's seeds 1-3: only N/A, tag and simple
    train (9 x 273 s), and 13 scores on the ablation suite (260 s)."""
    with_budget(monkeypatch, 1000, figures={"steps": 65})
    assert budget.plan("cpu").minutes["instruction_detail"] == pytest.approx((9 * 65 * 4.2 + 260) / MINUTE)


def test_without_a_valid_scale_no_figure_runs_by_default_whatever_the_budget(monkeypatch):
    """The cpu preset as the dev-suite pilot left it: no candidate scale at which full MEDI beats the backbone."""
    assert presets.PRESETS["cpu"].figures_valid is False
    plan = budget.plan("cpu")
    assert plan.default == () and plan.on_demand == budget.FIGURE_PRIORITY
    assert plan.total_minutes == pytest.approx((budget.BASE_FIXED_S + sum(budget.work("cpu")["base"].values())) / MINUTE)
    with_budget(monkeypatch, 10_000, figures_valid=False, figures={"steps": 10})
    assert budget.plan("cpu").default == ()
    assert budget.plan("cpu").minutes["instruction_detail"] == pytest.approx(FIG5 / MINUTE)  # what reproduce-all adds


def test_presets_without_a_budget_run_every_figure():
    for name in ("smoke", "paper"):
        assert presets.PRESETS[name].budget_minutes is None
        assert budget.plan(name).default == budget.FIGURE_PRIORITY and budget.plan(name).on_demand == ()


def test_the_claims_left_on_demand_are_the_experiments_own_words_marked_not_run():
    rows = budget.not_run_claims("cpu", budget.FIGURE_PRIORITY)  # the ablation notebook makes no claim by default
    specs = (instruction_levels.fig5_claims() + data_ablation.fig3_claims() + paraphrases.fig4_claims()
             + sizes.fig6_claims("cpu") + [data_ablation.POOLING_SPEC])
    assert [(row["claim"], row["paper"]) for row in rows] == [(spec.words, spec.paper) for spec in specs]
    assert {row["verdict"] for row in rows} == {"not run"} and all(row["ours"] is None for row in rows)
    assert {row["steps"] for row in rows} == {presets.PRESETS["cpu"].figures.get("steps", presets.PRESETS["cpu"].train.steps)}


def test_the_index_lists_the_figures_left_on_demand_as_not_run(monkeypatch, tmp_path):
    with_budget(monkeypatch, 60, figures={"steps": 10})
    index.write_index(tmp_path, "cpu")
    claims = read_claims(tmp_path / "claims.json")
    left_out = ["robustness", "scaling", "pooling"]
    assert [claim["claim"] for claim in claims] == [row["claim"] for row in budget.not_run_claims("cpu", left_out)]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["plan"]["on_demand"] == left_out and summary["plan"]["rule"] == budget.BUDGET_RULE
    assert "make reproduce-all" in (tmp_path / "index.html").read_text()
