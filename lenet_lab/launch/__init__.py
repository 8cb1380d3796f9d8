"""Launch code: what the project changes in a launcher it does not own (submitit's SLURM jobs).
Everything that reaches into submitit's private API is put in place by submitit_patch.install()."""
