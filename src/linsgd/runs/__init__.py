"""Runs on files: a file to a run folder (run.py), the launch plan, ranks (distributed.py), checkpoints."""
