"""Hugging Face transformers: a TrainerCallback that records a Trainer's run.

    from tracktui.integrations.transformers import TrackTuiCallback
    trainer = Trainer(model=model, args=args, train_dataset=ds, callbacks=[TrackTuiCallback(project="glue")])

What it records, under the names wandb's WandbCallback uses (so charts and scripts carry over):
- config: the model config, then TrainingArguments.to_dict() over it, and `model/num_parameters`;
- every Trainer log as `train/<name>`, `eval/<name>` (from `eval_<name>`) or `test/<name>`, with
  `train/global_step` on each row; `train/global_step` is every metric's default x-axis and `train/epoch`
  (on every row too) a step metric of its own;
- the end-of-training figures (`train_runtime`, `train_samples_per_second`, `train_steps_per_second`,
  `train_loss`, `total_flos`) as summary values, not as a one-point series; the epoch that log carries goes to
  the summary's `train/epoch` too, so it adds no row (wandb's callback logs a row holding only `train/epoch` and
  `train/global_step` there); `train/global_step` stays an int in the summary, as wandb's does, while history
  holds it as a float, as it holds every number;
- only on the world's process zero (DDP, DeepSpeed, FSDP): the other ranks record nothing.

It uses the run the script started with tracktui.init() when there is one; otherwise it starts one (project:
the `project` argument, TRACKTUI_PROJECT, or "huggingface"; name: TrainingArguments.run_name). That run stays
open after train() so that a later evaluate() or predict() lands in it too, and ends with the process or
tracktui.finish(), as wandb's does. `report_to` cannot name tracktui: transformers keeps a closed table of the
integrations that string may name, so pass the callback and `report_to="none"`.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from ._run import current_or_init, never_raises

# Trainer's end-of-training figures: summary values (as WandbCallback keeps them), not history.
SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss", "total_flos")
STEP_KEY = "train/global_step"


def rewrite_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """Trainer's names to panels: eval_x -> eval/x, test_x -> test/x, x -> train/x."""
    out = {}
    for k, v in logs.items():
        if k.startswith("eval_"):
            out["eval/" + k[5:]] = v
        elif k.startswith("test_"):
            out["test/" + k[5:]] = v
        else:
            out["train/" + k] = v
    return out


class TrackTuiCallback(TrainerCallback):
    """Record a Trainer's config, metrics and summary into a tracktui run (see the module docstring).

    Args:
        project: the project of a run this callback starts (default TRACKTUI_PROJECT, then "huggingface").
        name: its name (default TrainingArguments.run_name, or the trial's name in a hyperparameter search).
        **init_kwargs: more tracktui.init() arguments for that run (tags, group, notes, dir, config, ...).
    """

    def __init__(self, project: str | None = None, name: str | None = None, **init_kwargs: Any):
        self._project = project
        self._name = name
        self._init_kwargs = init_kwargs
        self._run: Any = None
        self._owns_run = False

    @property
    def run(self) -> Any:
        """The tracktui run being recorded (None before training starts and on ranks other than zero)."""
        return self._run

    def setup(self, args: Any, state: Any, model: Any = None) -> None:
        """Attach to (or start) the run and record the config; only on the world's process zero."""
        if not state.is_world_process_zero:
            return
        name = self._name
        init_kwargs = dict(self._init_kwargs)
        if state.trial_name is not None:  # one run per trial, grouped under the search
            name = name or state.trial_name
            init_kwargs.setdefault("group", args.run_name or args.output_dir)
        else:
            name = name or args.run_name
        self._run, self._owns_run = current_or_init(self._project, "huggingface", name=name, **init_kwargs)
        config: dict[str, Any] = {}
        model_config = getattr(model, "config", None)
        if model_config is not None:
            config.update(model_config if isinstance(model_config, dict) else model_config.to_dict())
        peft = getattr(model, "peft_config", None)
        if peft is not None:
            config["peft_config"] = peft
        config.update(args.to_dict())
        try:
            config["model/num_parameters"] = model.num_parameters()
        except AttributeError:
            pass
        self._run.config.update(config)
        self._run.define_metric(STEP_KEY)
        self._run.define_metric("train/epoch")
        self._run.define_metric("*", step_metric=STEP_KEY)

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if state.is_hyper_param_search and self._run is not None:  # a new trial: a new run
            if self._owns_run:
                self._run.finish()
            self._run = None
        if not self._live():
            self.setup(args, state, model)

    def _live(self) -> bool:
        return self._run is not None and not getattr(self._run, "_finished", False)

    @never_raises("transformers")
    def on_log(self, args: Any, state: Any, control: Any, model: Any = None, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        if not self._live():  # evaluate() or predict() without train(), or the run was finished
            self.setup(args, state, model)
        history = {}
        end = any(k in logs for k in SUMMARY_KEYS)  # the end-of-training log: its figures are summary values
        for k, v in logs.items():
            if k in SUMMARY_KEYS:
                self._run.summary[k] = v
            elif end and k == "epoch":  # the epoch training ended at: no row holding only that and the step
                self._run.summary["train/epoch"] = v
            else:
                history[k] = v
        if history:
            self._run.log({**rewrite_logs(history), STEP_KEY: state.global_step})

    @never_raises("transformers")
    def on_predict(self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
        if not state.is_world_process_zero or not metrics:
            return
        if not self._live():
            self.setup(args, state, kwargs.get("model"))
        self._run.log({**rewrite_logs(metrics), STEP_KEY: state.global_step})

    @never_raises("transformers")
    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self._run is None:
            return
        self._run.summary[STEP_KEY] = state.global_step
        if state.best_metric is not None:
            self._run.summary["best_metric"] = state.best_metric
