"""The three presets, once: what `smoke`, `cpu` and `paper` mean for every stage of the workbench.

Each preset (a frozen `Preset`) names its backbone and the model the notebooks show, the MEDI mixture
(`MediSettings`), the training run (`TrainSettings`), the evaluation suites, the scale pilot (`PilotSettings`)
and the sizes of the figures (`VizSettings`). The training batch size is stated once: MEDI keeps at least one
batch of every dataset (`medi_settings`, a `MediBuildSettings`), because each batch comes from one dataset and a
dataset's last partial batch is dropped (at the cpu scale a super-NI task would otherwise hold ~6 records and
never train).

`Subsample` (how much of an evaluation task a suite scores) lives here because the suites below are made of it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

MIN_ROWS = 2  # the smallest subsample limit: one row leaves a correlation undefined and a classifier one class


PARTS = ("test", "dev")  # the claims' test part of a task, and the dev part that choices are made on


def _check_limit(field: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < MIN_ROWS):
        raise ValueError(f"Subsample {field} must be None (keep all) or an integer >= {MIN_ROWS} (a score "
                         f"needs several rows), got {value!r}")


@dataclass(frozen=True)
class Subsample:
    """Deterministic size limits for one task (None = keep all), and which part of its data is scored.

    max_test: rows of each evaluated split (STS / pair / classification), queries (retrieval / reranking),
        or items per clustering set.
    max_train: rows of the classification training pool (mteb then draws its few-shot samples from it).
    max_corpus: retrieval documents; every document relevant to a kept query is always kept.
    part: "test" (the claims' examples) or "dev" (examples no claims suite scores: the task's local validation
        split where it has one, else the test data that no test subsample in `held_out` takes; see
        `evaluation.subsample`). Choices (steps, learning rates, pilots) are made on the dev part.
    held_out: for the dev part, the `max_test` of every claims suite's test subsample of this task (None: the
        whole test split); no example those subsamples take is drawn (`dev_part` fills it from the suites).
    The defaults ("test", ()) are left out of `record()`, so the cache keys of test evaluations stay as they were.
    """

    max_test: int | None = None
    max_train: int | None = None
    max_corpus: int | None = None
    part: str = "test"
    held_out: tuple[int | None, ...] = ()

    def __post_init__(self):
        for field in ("max_test", "max_train", "max_corpus"):
            _check_limit(field, getattr(self, field))
        if self.part not in PARTS:
            raise ValueError(f"Subsample part must be one of {', '.join(PARTS)}, got {self.part!r}")
        if self.held_out and self.part != "dev":
            raise ValueError("Subsample held_out holds test rows out of a dev part: give it with part='dev'")
        for value in self.held_out:
            _check_limit("held_out", value)

    def record(self) -> dict:
        """The limits as JSON, as results and cache keys record them: part and held_out only for a dev part."""
        fields = dataclasses.asdict(self)
        if self.part == "test":
            del fields["part"], fields["held_out"]
        else:
            fields["held_out"] = list(self.held_out)
        return fields


FULL = Subsample()


def dev_part(limits: dict[str, Subsample], *claims: dict[str, Subsample]) -> dict[str, Subsample]:
    """A dev suite: each task of `limits` as a dev part holding out the test subsample of that task in every claims
    suite of `claims` (the preset's suite, ablation, robustness and sizes suites), so none of their examples is
    drawn. The claims' test subsamples are fixed first and stay as they are."""
    return {task: dataclasses.replace(limit, part="dev", held_out=tuple(
                sorted({suite[task].max_test for suite in claims if task in suite}, key=lambda n: (n is None, n or 0))))
            for task, limit in limits.items()}

Suite = dict[str, Subsample] | str  # {task: limits}, or the name of a suite of `evaluation.suite` ("full")
TrainOverrides = dict[str, object]  # TrainConfig field -> value, replacing the preset's (figures, sizes, pilot)


@dataclass(frozen=True)
class MediSettings:
    """How a preset builds MEDI (`instructor_lib.medi.build_medi`).

    scale: caps = ceil(scale * reference size). superni_tasks: super-NI tasks chosen, a count, or "table5": as
    many as give super-NI the share of the records that paper Table 5 gives it over the embedding datasets the
    mixture holds (`instructor_lib.medi.sampling.table5_superni_tasks`). max_definition_chars:
    super-NI tasks with a longer Definition are not chosen (None: no limit). pool_factor, min_pool: candidates
    embedded per dataset (pool_factor * cap, at least min_pool). miner: "tiny" (the random test BERT) or
    "default" (the default backbone). precision: the miner's. max_tokens: tokens the miner embeds per text
    (None: the model's window).
    """
    scale: float
    superni_tasks: int | str
    max_definition_chars: int | None
    pool_factor: int
    min_pool: int
    miner: str
    precision: str
    max_tokens: int | None


@dataclass(frozen=True)
class MediBuildSettings(MediSettings):
    """What `build_medi` runs with (`medi_settings`): a preset's MediSettings and min_cap, the records kept per
    dataset at least, which is the preset's training batch size."""
    min_cap: int


@dataclass(frozen=True)
class TrainSettings:
    """The TrainConfig fields a preset sets (`instructor_lib.train.TrainConfig` documents each); `lr` None leaves
    TrainConfig's default (the paper preset states none)."""
    name: str
    model: str | None
    steps: int
    batch_size: int
    chunk_size: int | None
    temperature: float
    precision: str
    max_seq_length: int | None
    checkpoint_every: int
    lr: float | None = None

    def config_fields(self) -> dict:
        """The fields as TrainConfig arguments, without those the preset leaves to TrainConfig's defaults."""
        return {name: value for name, value in dataclasses.asdict(self).items() if not (name == "lr" and value is None)}


# The pilot's rule, written before it runs: which candidate becomes the preset's training scale.
NARROWEST_INTERVAL = ("the preset's scale is the candidate with the narrowest interval of the main effect "
                      "(ties: fewer steps); no ablation direction is looked at")
# The figures' rule (issue 29), written before the pilot ran on the dev suite: a figure compares variants of the
# finetuned model, which can test the paper only where finetuning improves the backbone at all.
FEWEST_STEPS_ABOVE_ZERO = ("the figures' steps are the fewest steps among the candidates that change only the steps "
                           "at which the reference (full MEDI with instructions) beats the backbone, the 95% interval "
                           "of its average gain on the dev suite above 0; none: no candidate scale can test the "
                           "figures, and the default run trains none of them")


@dataclass(frozen=True)
class PilotSettings:
    """The scale pilot (`workbench.experiments.pilot`): candidate training settings (label -> TrainConfig fields
    replaced), each trained with these seeds and scored on the preset's suite named `suite` (its `dev_suite`: the
    examples no claim is scored on); `rule` picks the preset's scale from the results and `figures_rule` the
    figures' steps, both fixed before the results exist."""
    seeds: tuple[int, ...]
    candidates: dict[str, TrainOverrides]
    suite: str
    rule: str
    figures_rule: str = FEWEST_STEPS_ABOVE_ZERO


@dataclass(frozen=True)
class VizSettings:
    """What the embedding maps draw by default: points per label, labels, and the methods ("tsne,umap")."""
    per_label: int
    max_labels: int
    methods: str


@dataclass(frozen=True)
class Preset:
    """Everything one preset fixes, for every stage of the workbench.

    notebook_model: what embedding_viz and the playground show ("tiny-bert", "trained": our finetuned model once
        the train notebook made it, or a folder / hub id). seeds: every trained configuration runs once per seed
        (batch order, dropout, tiny-model init); main_seeds: the main table's (Table 2: the main effect), the
        first of them `seeds`. figures: training settings that every configuration of the analysis figures
        (Fig. 3-6, the ablation notebook, the truncation extra) replaces ({}: they train as the main table does).
    bootstrap: replicates of the evaluation sampling error (resampled test examples; evaluation.bootstrap).
    suite, ablation_suite, robustness_suite, sizes_suite: what the main table, the ablation figures, the
        robustness figure and the sizes figure score (the claims' suites). dev_suite: what choices are made on
        (the pilot, steps, learning rates): dev parts (`dev_part`) whose examples none of the claims' suites
        holds. layers: the scaling notebook's depths (an extra: one
        backbone cut to several depths). sizes: paper Fig. 6, backbones of several sizes (label -> training
        settings replaced for that size), smallest first, each finetuned the same way and scored on `sizes_suite`.
    budget_minutes: the default `make reproduce`'s wall time on the reference machine; the figures that do not fit
        run on demand (`workbench.reporting.budget`: the rule, fixed before the figures' scale was chosen). None: all.
    figures_valid: the outcome of the pilot's figures rule: True, it found a scale at which the reference beats the
        backbone (`figures` holds it), so the budget may put figures in the default run; False, it found none, so
        every figure runs on demand only; None, no pilot decides (smoke, paper: every figure runs).
    """
    notebook_model: str
    medi: MediSettings
    train: TrainSettings
    seeds: tuple[int, ...]
    main_seeds: tuple[int, ...]
    figures: TrainOverrides
    bootstrap: int
    suite: Suite
    ablation_suite: Suite
    robustness_suite: Suite
    dev_suite: dict[str, Subsample]
    layers: tuple[int, ...]
    sizes: dict[str, TrainOverrides]
    sizes_suite: Suite
    pilot: PilotSettings
    viz: VizSettings
    budget_minutes: float | None
    figures_valid: bool | None


# The suites are named once here because each preset's dev suite holds out the examples of all of them.
_SMOKE_SUITE = {"BIOSSES": Subsample(40), "EmotionClassification": Subsample(60, 200)}
_SMOKE_BIOSSES = {"BIOSSES": Subsample(40)}
# cpu: each category of Table 2 we hold locally, subsampled so that one MiniLM-L6 model is scored in about a
# minute on 2 cores
_CPU_SUITE = {
    "STSBenchmark": Subsample(300), "SICK-R": Subsample(300), "BIOSSES": FULL,
    "EmotionClassification": Subsample(300, 600), "Banking77Classification": Subsample(300, 600),
    "TwitterURLCorpus": Subsample(300), "SciFact": Subsample(max_test=50, max_corpus=300),
    "TwentyNewsgroupsClustering-local": Subsample(200), "AskUbuntuDupQuestions-local": Subsample(50),
}
# the ablation figures (Fig. 3 and 5: 8 configurations x 3 seeds) score a smaller suite: one or two tasks of the
# categories where symmetric and asymmetric training data should matter most
_CPU_ABLATION = {"STSBenchmark": Subsample(200), "BIOSSES": FULL, "Banking77Classification": Subsample(200, 400),
                 "SciFact": Subsample(max_test=50, max_corpus=300), "AskUbuntuDupQuestions-local": Subsample(50)}
# the robustness suite holds tasks with five paraphrases each
_CPU_ROBUSTNESS = {"STSBenchmark": Subsample(200), "BIOSSES": FULL,
                   "EmotionClassification": Subsample(200, 400), "Banking77Classification": Subsample(200, 400)}
# mpnet costs several times MiniLM per token, so sizes score a 3-task suite
_CPU_SIZES = {"STSBenchmark": Subsample(200), "BIOSSES": FULL, "SciFact": Subsample(max_test=50, max_corpus=300)}

PRESETS: dict[str, Preset] = {
    # seconds on a laptop: a random 2-layer BERT, a high learning rate so the loss visibly falls
    "smoke": Preset(
        notebook_model="tiny-bert",
        # max_definition_chars: the instruction is the whole Definition; in a short window a long one leaves no room
        # for the text (200 characters ~ 50 tokens leave half of 128)
        medi=MediSettings(scale=0.0002, superni_tasks=12, max_definition_chars=200, pool_factor=2, min_pool=16,
                          miner="tiny", precision="float32", max_tokens=64),
        train=TrainSettings(name="smoke", model="tiny-bert", steps=10, batch_size=16, chunk_size=16, lr=1e-3,
                            temperature=0.05, precision="float32", max_seq_length=64, checkpoint_every=10),
        seeds=(1, 2),
        main_seeds=(1, 2),
        figures={},
        bootstrap=50,
        suite=_SMOKE_SUITE,
        ablation_suite=_SMOKE_BIOSSES,
        robustness_suite=_SMOKE_BIOSSES,
        # BIOSSES: 40 of the 60 pairs the test subsample leaves; Emotion: its validation split
        dev_suite=dev_part(_SMOKE_SUITE, _SMOKE_SUITE, _SMOKE_BIOSSES),
        layers=(1, 2),
        sizes={"tiny-t5": {"model": "tiny-t5"}, "tiny-bert": {"model": "tiny-bert"}},  # smallest first (Fig. 6's claim)
        sizes_suite=_SMOKE_BIOSSES,
        pilot=PilotSettings(seeds=(1, 2), candidates={"5 steps": {"steps": 5}, "10 steps": {"steps": 10}},
                            suite="dev_suite", rule=NARROWEST_INTERVAL),
        viz=VizSettings(per_label=6, max_labels=3, methods="tsne"),  # no UMAP: numba compiles ~15 s per process
        budget_minutes=None,
        figures_valid=None,
    ),
    # minutes on 2 CPU cores: all-MiniLM-L6-v2 (model None: the offline default backbone), batch 64 (its
    # activations fit memory, so no gradient caching) in chunks of 32 texts of similar length, bf16 where the
    # CPU runs it natively, else float32.
    # superni_tasks "table5" (issue 29, fixed from Table 5 before any run on it, not tuned): each super-NI task
    # holds one batch (Table 5 at this scale gives 1.2 records a task), so a count of tasks sets super-NI's share
    # (30 tasks made it 62% of the records). Instead, as many tasks (chosen as before, in select_superni's order)
    # as give super-NI the share Table 5 gives it over the embedding datasets the mixture holds: 180,000 /
    # (180,000 + their Table 5 sizes), tasks = round(share / (1 - share) * embedding records / 64), so the floor
    # of one batch may raise a small dataset but never sets super-NI's share.
    # Temperature 0.05 is the scale (20) MiniLM was trained with. Chosen on the cpu evaluation suite (average
    # 70.50 before training), 30 steps: lr 5e-5/temperature 0.05 71.25; 5e-5/0.1 70.78 (60 steps 70.54);
    # 2e-5/0.01 (the paper's) 70.22; 1e-4/0.05 70.76 (the last two on the mixture before the min_cap fix).
    # The miner runs float32, not `auto`: bf16 kernels differ between CPUs, and so would the mined mixture (the
    # pilot's bf16-mined MEDI differed from another CPU's in 69 of 4,352 records); it costs ~30 s more on AMX.
    # Steps 65: the scale pilot's choice among its fixed candidates on the Table 5/7/8 mixture (reports/pilot.html;
    # docs/results.md, "Scale pilot"; 40 on the earlier mixture).
    "cpu": Preset(
        notebook_model="trained",  # our instruction-finetuned all-MiniLM-L6-v2, when the train notebook made it
        medi=MediSettings(scale=0.002, superni_tasks="table5", max_definition_chars=200, pool_factor=2, min_pool=16,
                          miner="default", precision="float32", max_tokens=128),
        train=TrainSettings(name="cpu", model=None, steps=65, batch_size=64, chunk_size=32, lr=5e-5, temperature=0.05,
                            precision="auto", max_seq_length=128, checkpoint_every=10),
        # 3 seeds per configuration of Fig. 3, 4, 5; the main effect (Table 2) takes 5: the pilot's seeds for a
        # 0.3-point half-width at the chosen 65 steps (sd 0.20 over its 4 seeds; a rule fixed before its result:
        # at least 3, at most 6). The dev-suite pilot's spread (sd 0.075) needs only 3: 5 are kept, above the minimum
        seeds=(1, 2, 3),
        main_seeds=(1, 2, 3, 4, 5),
        # The figures' scale (issue 29), by the pilot's figures rule (FEWEST_STEPS_ABOVE_ZERO, fixed before it ran on
        # the dev suite; reports/pilot.html, 2026-12-07): at none of the candidates (20, 40, 65 steps; 40 at lr 1e-4)
        # does full MEDI beat the backbone on the dev suite (65 steps: -0.27 [-0.39, -0.15]), so no figure can test
        # the paper at these scales: figures_valid=False keeps every figure out of the default run (their claims are
        # listed "not run"). On demand (make reproduce-all) they train as the main table, the largest candidate, and
        # each claim's control decides whether it can be judged. (Until then the figures trained 10 steps.)
        figures={},
        figures_valid=False,
        bootstrap=200,
        suite=_CPU_SUITE,
        ablation_suite=_CPU_ABLATION,
        robustness_suite=_CPU_ROBUSTNESS,
        # the main suite's tasks and sizes on examples no claims suite holds; BIOSSES (100 pairs, all of them in
        # the claims' suites) has none left
        dev_suite=dev_part({task: limits for task, limits in _CPU_SUITE.items() if task != "BIOSSES"},
                           _CPU_SUITE, _CPU_ABLATION, _CPU_ROBUSTNESS, _CPU_SIZES),
        layers=(2, 6),  # an extra (truncation is not the paper's Fig. 6): one cut depth besides the full one
        # the two real pretrained backbones offline (instructor_lib.weights), at the figures' 10 steps (MiniLM's is
        # the figures' full run)
        sizes={"all-MiniLM-L6-v2 (22M)": {"model": None},
               "all-mpnet-base-v2 (110M)": {"model": "sentence-transformers/all-mpnet-base-v2"}},
        sizes_suite=_CPU_SIZES,
        # fixed before any pilot result (the preset then trained 20 steps): steps up to 65 (one epoch of the cpu
        # mixture then, 65 batches; the Table 5 mixture has 22), and the lr doubled at 40 steps; 4 seeds each (the
        # candidate equal to the preset reuses the main table's runs). Scored on the dev suite from issue 29 on
        # (reports/pilot.html, 2026-12-07: the rule keeps 65 steps; reports/pilot_history.html, scored on the main
        # suite, is history); the rule is unchanged, and the figures' rule was added before that run.
        pilot=PilotSettings(seeds=(1, 2, 3, 4), candidates={"20 steps": {"steps": 20}, "40 steps": {"steps": 40},
                                                            "65 steps": {"steps": 65},
                                                            "40 steps, lr 1e-4": {"steps": 40, "lr": 1e-4}},
                            suite="dev_suite", rule=NARROWEST_INTERVAL),
        viz=VizSettings(per_label=40, max_labels=6, methods="tsne,umap"),
        budget_minutes=120,  # issue 29: the default make reproduce on the 2-core AVX-512 BF16 EPYC of the committed runs
    ),
    # the paper: GTR-large (T5 encoder), 20k steps at 512 tokens, on the official medi-data.json or our largest
    # local MEDI build; every local evaluation task in full. The paper (512 tokens) used no definition limit.
    "paper": Preset(
        notebook_model="hkunlp/instructor-large",
        medi=MediSettings(scale=1.0, superni_tasks=300, max_definition_chars=None, pool_factor=1, min_pool=0,
                          miner="default", precision="auto", max_tokens=None),
        train=TrainSettings(name="paper", model="sentence-transformers/gtr-t5-large", steps=20_000, batch_size=32,
                            chunk_size=None, temperature=0.01, precision="auto", max_seq_length=512, checkpoint_every=500),
        seeds=(1, 2, 3),
        main_seeds=(1, 2, 3),
        figures={},
        bootstrap=1000,
        suite="full",
        ablation_suite="full",
        robustness_suite="full",
        # every task is scored in full, so only the local validation splits are left (minus any example of the tests)
        dev_suite={task: Subsample(part="dev", held_out=(None,)) for task in (
            "STSBenchmark", "EmotionClassification", "AmazonCounterfactualClassification", "ImdbClassification-local")},
        layers=(6, 12, 24),
        sizes={"GTR-base": {"model": "sentence-transformers/gtr-t5-base"},
               "GTR-large": {"model": "sentence-transformers/gtr-t5-large"},
               "GTR-xl": {"model": "sentence-transformers/gtr-t5-xl"}},
        sizes_suite="full",
        pilot=PilotSettings(seeds=(1, 2, 3), candidates={"5k steps": {"steps": 5_000}, "20k steps": {"steps": 20_000}},
                            suite="dev_suite", rule=NARROWEST_INTERVAL),
        viz=VizSettings(per_label=40, max_labels=6, methods="tsne,umap"),
        budget_minutes=None,
        figures_valid=None,
    ),
}
NAMES = tuple(PRESETS)


def preset(name: str) -> Preset:
    """One preset's settings; an unknown name is an error listing the three."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(NAMES)}, got {name!r}")
    return PRESETS[name]


def medi_settings(name: str) -> MediBuildSettings:
    """The MEDI settings of a preset, with its floor `min_cap` (records kept per dataset) = the batch size."""
    chosen = preset(name)
    return MediBuildSettings(**dataclasses.asdict(chosen.medi), min_cap=chosen.train.batch_size)
