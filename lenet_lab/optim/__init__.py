"""Optimizers and learning-rate schedules beyond torch's own: the 1998 paper's SDLM and its
piecewise-constant schedule (conf/optimizer/sdlm.yaml, conf/lr_scheduler/*.yaml)."""
