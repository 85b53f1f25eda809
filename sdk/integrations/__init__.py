"""Integrations with training frameworks: each submodule imports its framework only when it is imported.

    from tracktui.integrations.transformers import TrackTuiCallback   # Hugging Face Trainer
    from tracktui.integrations.lightning import TrackTuiLogger        # lightning.pytorch
    from tracktui.integrations.pytorch_lightning import TrackTuiLogger  # pytorch_lightning
    from tracktui.integrations.keras import TrackTuiCallback          # Keras 3
    tracktui.init(sync_tensorboard=True)                              # tracktui.integrations.tensorboard

`import tracktui` loads none of them.
"""
