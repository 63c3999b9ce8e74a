"""The paper's experiments, reproduced (``python -m experiments.NAME``); results: docs/experiments.md."""
