"""The paper's experiments at our scale, one call per notebook cell (notebooks/ build_medi, train, main_table,
pilot, ablation, data_ablation, instruction_detail, robustness, scaling).

Every model is trained once per experiment config: `trained_model(preset, variant, layers)` hashes the MEDI
variant, the backbone depth and the training config, trains into `runs/experiments/<name>-<hash>/` and, when
that run has finished before, just loads its model. Evaluations are cached by `instructor_lib.evaluation`
(model fingerprint + suite + instructions), so the notebooks share the full model and its scores.

Presets (`instructor_lib.presets`): `smoke` (random 2-layer BERT, seconds), `cpu` (all-MiniLM-L6-v2, small
evaluation suites sized so every notebook together fits `make reproduce` on 2 cores), `paper` (GTR-large, the
full local suite).

Modules, one job each: `configs` (what defines a run and its name), `mixture` (the MEDI mixture), `runs` (the
cache of trained models, the backbones), `custom` (your own variant: data, instructions, pooling), `backbones` (cutting and measuring a model), `training_log` (a run's
per-step log), `compare` (scores, paired differences over seeds, claims), the figures as pure functions of a
result's metrics (`figures`: the shared pieces, Table 2, the pilot, the ablation; `claim_figures`: Figs. 3-6;
`training_figures`: the training curves), `paper` (the paper's numbers); one per result: `main_effect` (Table 2), `scale_pilot`, `data_ablation` (Fig. 3 and the ablation
notebook), `instruction_levels` (Fig. 5), `paraphrases` (Fig. 4), `sizes` (Fig. 6 and the truncation extra).
Below: the names the notebooks and tests call.
"""
from .backbones import depth, parameter_count, truncate_layers
from .claim_figures import fig3_data, fig4_robustness, fig5_detail, fig6_sizes
from .compare import ScoreComparison, relative_gain, suite_inputs
from .configs import experiment_config, figure_scale, figure_steps, seeds, settings
from .custom import custom_variant
from .data_ablation import ablation, instructions_by_data, pooling_claim
from .figures import ablation_differences, finetune_gains, pilot_gains, table2_gains
from .instruction_levels import instruction_detail, instruction_examples
from .main_effect import main_table, task_frame
from .mixture import build_mixture, mixture_examples, mixture_figure, mixture_metrics
from .paraphrases import best_worst_gap, floor_table, paraphrase_table, robustness, task_floors
from .runs import (FINISHED, TrainedModel, base_model, finished_model, model_description, notebook_model, run_dir_for,
                   starting_model, trained_model)
from .scale_pilot import pilot, pilot_settings
from .sizes import model_sizes, scaling
from .training_figures import training_panels
from .training_log import run_logs, training_curves, training_metrics

__all__ = ["FINISHED", "ScoreComparison", "TrainedModel", "ablation", "ablation_differences", "base_model",
           "best_worst_gap", "build_mixture", "custom_variant", "depth", "experiment_config", "fig3_data",
           "fig4_robustness", "fig5_detail", "fig6_sizes", "figure_scale", "figure_steps", "finetune_gains", "finished_model",
           "instruction_detail", "instruction_examples", "instructions_by_data", "main_table", "mixture_examples",
           "mixture_figure", "mixture_metrics", "model_description", "model_sizes", "notebook_model",
           "paraphrase_table", "parameter_count", "pilot", "pilot_gains", "pilot_settings", "pooling_claim",
           "relative_gain", "robustness", "run_dir_for", "run_logs", "scaling", "seeds", "settings", "starting_model",
           "suite_inputs", "table2_gains", "task_frame", "trained_model", "training_curves", "training_metrics",
           "training_panels", "truncate_layers", "floor_table", "task_floors"]
