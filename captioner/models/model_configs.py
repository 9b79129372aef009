"""The settings that size a model, as recorded in its bundle: the caption decoder's, the activity classifier's,
and the frame CNN's a clip model trains itself. Frozen dataclasses, read and written as JSON; no Keras here, so
a bundle's config is read and checked (`models/bundle_info.py`) before, or without, building anything."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

FRAME_ENCODERS = ("lstm", "mean", "cnn")  # cnn: the model's own CNN on the pixels, then the LSTM
DESIGNS = ("inject", "merge")


@dataclass(frozen=True)
class FrameCnn:
    frame_size: int = 64  # frames are squashed to frame_size x frame_size RGB
    filters: int = 16  # Conv2D filters in each block
    blocks: int = 3  # Conv2D + MaxPooling2D blocks; each halves the side
    dense: int = 64  # the Dense after Flatten: the size of one frame's vector

    def __post_init__(self):
        if min(self.filters, self.blocks, self.dense) < 1 or self.frame_size >> self.blocks < 1:
            raise ValueError(f"a frame CNN needs filters, blocks and dense of at least 1 and a frame size of at least "
                             f"2^blocks, got {asdict(self)}")

    @property
    def input_dim(self) -> int:
        """The length of one frame's cached row: S*S*3 uint8 values."""
        return self.frame_size * self.frame_size * 3

    def to_json(self) -> dict:
        return asdict(self)


def cnn_from_json(data) -> FrameCnn | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) - set(FrameCnn.__dataclass_fields__):
        raise ValueError(f"unknown frame CNN settings {data!r}")
    return FrameCnn(**data)


def check_cnn(config) -> None:
    """A model config's `cnn` against its `frame_encoder` and `feature_dim`: the default CNN where "cnn" names
    none, and the pixel row length as the input size."""
    if config.frame_encoder not in FRAME_ENCODERS:
        raise ValueError(f"frame_encoder must be one of {FRAME_ENCODERS}, got {config.frame_encoder!r}")
    if config.frame_encoder != "cnn":
        if config.cnn is not None:
            raise ValueError(f"cnn settings are for frame_encoder cnn, not {config.frame_encoder!r}")
        return
    if config.cnn is None:
        object.__setattr__(config, "cnn", FrameCnn())  # a frozen dataclass settling its own default
    if config.feature_dim != config.cnn.input_dim:
        raise ValueError(f"a {config.cnn.frame_size}x{config.cnn.frame_size} frame CNN reads rows of "
                         f"{config.cnn.input_dim} pixel values, not {config.feature_dim}")


class _JsonConfig:
    """to_json / from_json for a model's config dataclass; `what` names it in the refusal of unknown keys."""

    what = "model"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict):
        if not isinstance(data, dict):
            raise ValueError(f"{cls.what} settings are {type(data).__name__}, not an object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown {cls.what} settings {sorted(unknown)}")
        return cls(**{**data, "cnn": cnn_from_json(data.get("cnn"))})


@dataclass(frozen=True)
class DecoderConfig(_JsonConfig):
    what = "decoder"
    vocab_size: int  # tokens including the four specials
    max_length: int = 30  # most words in a caption (without <start>/<end>); longer ones are truncated
    feature_dim: int = 4096  # size of the cached image vector (VGG16 fc2)
    units: int = 256  # LSTM state size
    embed_dim: int = 256  # word embedding size
    dropout: float = 0.3  # on image vector, embeddings and LSTM output
    design: str = "inject"  # "inject" or "merge"
    frames: int = 0  # 0: one image vector per input; N: a clip of N frame vectors (fewer ones zero-padded)
    frame_encoder: str = "lstm"  # clips only: "lstm" over the frames, "mean" of the frames, or "cnn": own CNN + lstm
    cnn: FrameCnn | None = None  # frame_encoder "cnn": the CNN's sizes (default FrameCnn())

    def __post_init__(self):
        if self.design not in DESIGNS:
            raise ValueError(f"design must be one of {DESIGNS}, got {self.design!r}")
        if self.frame_encoder == "cnn" and not self.frames:
            raise ValueError("frame_encoder cnn reads clips: give frames")
        check_cnn(self)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One input without the batch axis: (feature_dim,) or (frames, feature_dim)."""
        return (self.frames, self.feature_dim) if self.frames else (self.feature_dim,)


@dataclass(frozen=True)
class ClassifierConfig(_JsonConfig):
    what = "classifier"
    classes: int
    frames: int  # every clip is read as this many frames (fewer ones zero-padded)
    feature_dim: int = 4096
    units: int = 256
    dropout: float = 0.3
    frame_encoder: str = "lstm"  # "lstm" over the frames, "mean" of the frames, or "cnn": own CNN + lstm
    cnn: FrameCnn | None = None  # frame_encoder "cnn": the CNN's sizes (default FrameCnn())

    def __post_init__(self):
        if self.classes < 2 or self.frames < 1:
            raise ValueError(f"a classifier needs at least 2 classes and 1 frame, got {self.classes} and {self.frames}")
        check_cnn(self)
