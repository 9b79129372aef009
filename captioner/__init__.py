"""captioner: CNN-LSTM captioning on Keras 3 — a frozen VGG16's fc2 vectors, an LSTM decoder, greedy or beam
search; for images, video clips and activity classes (see docs/python-api.md).

    import captioner
    model = captioner.load("runs/f8k-model")
    print(model.caption(["photo.jpg"])[0].caption)

`import captioner` loads neither Keras nor TensorFlow/JAX: every name below is imported on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

# public name -> the module that holds it (PEP 562: resolved lazily by __getattr__)
_PUBLIC = {
    "load": "captioner.api.loading",
    "extract": "captioner.api.jobs",
    "train": "captioner.api.jobs",
    "evaluate": "captioner.api.jobs",
    "export": "captioner.exporting.export",
    "train_captions": "captioner.api.train_job",
    "train_classifier": "captioner.api.train_job",
    "fine_tune": "captioner.api.train_job",
    "CaptionTraining": "captioner.api.training_settings",
    "ClassifierTraining": "captioner.api.training_settings",
    "FineTuning": "captioner.api.training_settings",
    "serve": "captioner.serving.server",
    "CaptionModel": "captioner.api.caption_model",
    "ClassifierModel": "captioner.api.classifier_model",
    "CaptionResult": "captioner.api.results",
    "LabelResult": "captioner.api.results",
    "Caption": "captioner.api.results",
    "EngineOptions": "captioner.api.engine_options",
    "CaptionerError": "captioner.base.errors",
    "UsageError": "captioner.base.errors",
    "InputError": "captioner.base.errors",
    "BundleError": "captioner.models.bundle",
    "DatasetError": "captioner.datasets.base",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value  # once resolved, a plain attribute
        return value
    raise AttributeError(f"module 'captioner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
