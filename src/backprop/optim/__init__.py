"""Optimizers: the update rules, their compiled passes, learning-rate schedules, clipping."""
