"""Lightning callback: when a job is tested, write its evaluation (`lenet_lab.evaluation.job_evaluation`).

The test predictions are caught on their way out of the model (a forward hook) during the test
pass the job runs anyway: no second pass, no change to the LightningModule.
"""

from __future__ import annotations

import sys
from pathlib import Path

import lightning.pytorch as pl
import torch

from lenet_lab.evaluation.job_evaluation import evaluate_predictions
from lenet_lab.training.loggers import tensorboard_writer


class EvaluationWriter(pl.Callback):
    def __init__(self, job_dir: str | Path, verbose: bool = False):
        self.job_dir = Path(job_dir)
        self.verbose = verbose  # print the classification report (a single run; a sweep's jobs stay one line an epoch)
        self.outputs: list[tuple[torch.Tensor, torch.Tensor]] = []  # (images, scores) per model call
        self.labels: list[torch.Tensor] = []
        self.hook = None

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.outputs, self.labels = [], []

        def keep(module, inputs, output):
            self.outputs.append((inputs[0].detach().cpu(), output.detach().float().cpu()))

        self.hook = pl_module.model.register_forward_hook(keep)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self.labels.append(batch[1].detach().cpu())  # in the order of the images the hook kept

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._remove_hook()
        outputs, labels, self.outputs, self.labels = self.outputs, self.labels, [], []
        # With several devices each process sees its share of the test set; the one that writes
        # the job's results evaluates its share (the report says how many digits it covers).
        if not trainer.is_global_zero or not outputs or trainer.fast_dev_run:  # one batch of debug=fdr is no evaluation
            return
        images, scores = (torch.cat(parts) for parts in zip(*outputs))
        labels = torch.cat(labels)
        try:
            result = evaluate_predictions(self.job_dir, images, labels, scores, tensorboard_writer(trainer.loggers), trainer.global_step)
        except Exception as error:  # a figure that fails must not turn a trained, tested job into a failed one
            print(f"warning: evaluation of {self.job_dir} failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            return
        if self.verbose:
            print(result["text"], flush=True)

    def on_test_end(self, trainer, pl_module) -> None:
        self._remove_hook()  # also when testing stopped early

    def _remove_hook(self) -> None:
        if self.hook is not None:
            self.hook.remove()
            self.hook = None
