"""Driving the core: the state it trains, the trainer, checkpoints.

- `state.py`: `TrainingState`, the arrays training updates in place (W_in, W_out, W_hs and
  Adam's moments) and the step counter: the data the trainer, checkpoints and the model
  share, below all three;
- `report.py`: the figures of a run (`EpochStats`, `TrainingReport`) and `TrainingDiverged`;
- `trainer.py`: `Trainer`, epochs, threads, learning-rate schedule, progress;
- `checkpoint.py`: saving the whole training state while training, rolling back a diverged
  run, reading a checkpoint back to resume.
"""
