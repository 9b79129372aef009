"""What produced a model's input vectors, as a typed value: the encoder's spec ("fingerprint" on disk).

A feature cache and a model bundle each record the spec of the encoder their vectors came from, and refuse
another: a decoder trained on one encoder's features reads another's as noise. Two kinds:

- `EncoderSpec`: a frozen VGG16 cut at a layer (fc2): its weights (ImageNet, a seeded random draw, or a local
  file, each with its identity), the pixel recipe that goes with it, the precision it ran at;
- `PixelSpec`: frames read as pixels by a model that trains its own CNN (`--frame-encoder cnn`): no weights,
  only how frames become its inputs.

Specs compare by value; `difference` words what differs; `to_json` gives the dict written since the first
release (same keys, same order) and `spec_from_json` reads it back, with the defaults of older files.
Standard library only: the runtime without Keras reads specs too.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

PIXELS_ARCHITECTURE = "frames-as-pixels"
DEFAULT_PRECISION = "fp32"  # fingerprints written before --precision existed


class SpecError(ValueError):
    """A recorded spec that cannot be read; the message says what is wrong (the caller names the file)."""


@dataclass(frozen=True)
class InputRecipe:
    """How an image or frame becomes the encoder's input: the size it is squashed to, the resize, the colour
    order, and the arithmetic on the values (VGG16: minus the ImageNet mean; pixels: done in the model)."""

    input_size: int
    resize: str
    channel_order: str
    mean: tuple[float, ...] | None = None
    scale: float | None = None
    values: str | None = None
    scaling: str | None = None

    def to_json(self) -> dict:
        out: dict = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data) -> InputRecipe:
        data = _mapping(data, "preprocessing", {"input_size", "resize", "channel_order"},
                        {f.name for f in fields(cls)})
        mean = data.get("mean")
        try:
            return cls(int(data["input_size"]), str(data["resize"]), str(data["channel_order"]),
                       None if mean is None else tuple(float(m) for m in mean),
                       None if data.get("scale") is None else float(data["scale"]),
                       data.get("values"), data.get("scaling"))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"preprocessing: {exc}") from None


@dataclass(frozen=True)
class EncoderSpec:
    """A frozen VGG16 (or its tiny random sibling) cut at `layer`, giving `dim`-wide vectors."""

    architecture: str  # "VGG16" or "VGG16-tiny"
    layer: str  # "fc2"
    dim: int
    weights: str  # "imagenet", "random" or "file"
    weights_id: str  # the file's hash, or "seed=N <init>" for a random draw
    preprocessing: InputRecipe
    precision: str = DEFAULT_PRECISION  # "fp32", "bf16" or "fp16"

    @property
    def is_pixels(self) -> bool:
        return False

    @property
    def is_random(self) -> bool:
        return self.weights == "random"

    @property
    def input_size(self) -> int:
        return self.preprocessing.input_size

    @property
    def seed(self) -> int:
        """The --encoder-seed of a random draw ("seed=N ..."); 0 for weights that were not drawn."""
        return int(self.weights_id.split()[0].split("=")[1]) if self.weights_id.startswith("seed=") else 0

    def describe(self) -> str:
        """One phrase for reports; a random encoder always says so."""
        precision = "" if self.precision == DEFAULT_PRECISION else f", {self.precision}"
        if self.is_random:
            tiny = ", tiny VGG16" if self.architecture == "VGG16-tiny" else ""
            return (f"RANDOM weights ({self.weights_id}{tiny}{precision}) - not ImageNet; captions will be poor "
                    "on real photos")
        return f"{self.architecture} {self.layer} {self.weights} ({self.weights_id}{precision})"

    def difference(self, other: EncoderSpec | PixelSpec, have: str = "cache has", want: str = "requested") -> str:
        """What differs, field by field ("dim: cache has 64, requested 4096; ..."); empty when equal."""
        mine, theirs = self.to_json(), other.to_json()
        return "; ".join(f"{f}: {have} {mine.get(f)!r}, {want} {theirs.get(f)!r}"
                         for f in sorted(set(mine) | set(theirs)) if mine.get(f) != theirs.get(f))

    def to_json(self) -> dict:
        return {"architecture": self.architecture, "layer": self.layer, "dim": self.dim, "weights": self.weights,
                "weights_id": self.weights_id, "preprocessing": self.preprocessing.to_json(),
                "precision": self.precision}


@dataclass(frozen=True, eq=True)
class PixelSpec(EncoderSpec):
    """Frames as `frame_size` x `frame_size` RGB pixels, for a model with its own CNN: no weights to match."""

    @classmethod
    def of_size(cls, frame_size: int) -> PixelSpec:
        return cls(PIXELS_ARCHITECTURE, "pixels", frame_size * frame_size * 3, "none",
                   "trained with the model (its own CNN)",
                   InputRecipe(frame_size, "squash-bilinear", "RGB", values="uint8 0-255",
                               scaling="in the model: minus its training frames' mean frame, over their spread"))

    @property
    def is_pixels(self) -> bool:
        return True

    @property
    def frame_size(self) -> int:
        return self.preprocessing.input_size

    def describe(self) -> str:
        size = self.frame_size
        return f"no pretrained encoder: frames as {size}x{size} RGB pixels, read by the model's own CNN"


REQUIRED = {"architecture", "layer", "dim", "weights", "weights_id", "preprocessing"}


def spec_from_json(data) -> EncoderSpec:
    """A recorded fingerprint as its spec (a `PixelSpec` for frames as pixels); `SpecError` says what is
    missing, unknown or of the wrong type."""
    data = _mapping(data, "encoder fingerprint", REQUIRED, {f.name for f in fields(EncoderSpec)})
    kind = PixelSpec if data["architecture"] == PIXELS_ARCHITECTURE else EncoderSpec
    try:
        dim = data["dim"]
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise SpecError(f"encoder fingerprint: dim {dim!r} is not a whole number")
        return kind(str(data["architecture"]), str(data["layer"]), dim, str(data["weights"]),
                    str(data["weights_id"]), InputRecipe.from_json(data["preprocessing"]),
                    str(data.get("precision", DEFAULT_PRECISION)))
    except SpecError:
        raise
    except (TypeError, ValueError) as exc:
        raise SpecError(f"encoder fingerprint: {exc}") from None


def _mapping(data, what: str, required: set[str], known: set[str]) -> dict:
    if not isinstance(data, dict):
        raise SpecError(f"{what} is {type(data).__name__}, not an object")
    missing, unknown = sorted(required - set(data)), sorted(set(data) - known)
    if missing:
        raise SpecError(f"{what} lacks {', '.join(missing)}")
    if unknown:
        raise SpecError(f"{what} has fields this version does not know: {', '.join(unknown)} (written by a newer "
                        "captioner?)")
    return data
