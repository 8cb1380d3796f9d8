"""From a config to a trained, tested job folder: `train(cfg, job_dir)` (train.py), the one
LightningModule (classifier.py), grouped steps (the only user of Lightning's private API), the
callbacks every job runs (divergence, epoch line, test evaluation), and a trained model back from
disk (trained_model.py)."""
