"""Making sure the images a command needs have features in a cache (extracting the missing ones)."""

from __future__ import annotations

import os

import numpy as np

from captioner.base.errors import UsageError
from captioner.datasets import DatasetError, resolve_clip, resolve_image
from captioner.features.cache import FeatureCache
from captioner.features.clip_features import cached_inputs
from captioner.features.encoder import Encoder, weights_option
from captioner.features.encoder import fingerprint as encoder_fingerprint
from captioner.features.encoder_spec import EncoderSpec, PixelSpec
from captioner.features.extraction import extract_to_cache, is_cached
from captioner.features.job_features import JobFeatures
from captioner.features.notices import note_if_random, skipped
from captioner.features.pixels import PixelEncoder, cache_directory
from captioner.inputs.gpu_decoding import gpu_decoder
from captioner.inputs.images import ImageFile


def weights_for(spec: EncoderSpec, weights: str | None) -> str:
    """The --weights value that reproduces `spec` (a local file must be named by the user)."""
    option = weights or weights_option(spec)
    if option:
        return option
    raise UsageError("this encoder used a local weights file: pass the same file with --weights FILE")


def encoder_args(spec: EncoderSpec, weights: str | None = None) -> tuple[str, int, str]:
    """(weights, seed, precision) of the encoder that produced `spec`, refusing a --weights that would give
    another one; checked without building it (a Ray worker builds it)."""
    if spec.is_pixels:
        raise UsageError("this model reads frames with its own CNN (--frame-encoder cnn), which runs with "
                         "--engine local only")
    args = weights_for(spec, weights), spec.seed, spec.precision
    have = encoder_fingerprint(*args)
    if have != spec:
        raise UsageError(f"--weights {weights} is not the encoder expected here ({have.difference(spec)})")
    return args


def encoder_for(spec: EncoderSpec, weights: str | None = None) -> Encoder | PixelEncoder:
    """Build the encoder that produced `spec`, refusing a --weights that would give another one; for a model
    with its own CNN, the pixel recipe (no VGG16 is built)."""
    if isinstance(spec, PixelSpec):
        return PixelEncoder(spec.frame_size)
    return Encoder(*encoder_args(spec, weights))


def ensure_features(keys: list[str], images_root: str, cache: FeatureCache, weights: str | None = None,
                    batch_size: int = 32, show_progress: bool = True, frames: int = 0
                    ) -> tuple[list[str], list[tuple[str, str]]]:
    """Extract what `cache` lacks; returns (keys that have features, [(image, reason)] for those that failed).

    With `frames` > 0 the keys are clips, read as that many frames each.

    Failures are returned, not printed: the caller reports each once.
    """
    failed: list[tuple[str, str]] = []
    items = []
    resolve = resolve_clip if frames else resolve_image
    for key in keys:
        try:
            items.append(ImageFile(key, resolve(images_root, key), frames))
        except DatasetError as exc:
            failed.append((key, str(exc)))
    missing = [it for it in items if not is_cached(cache, it)]
    if missing:
        encoder = encoder_for(cache.fingerprint, weights)
        note_if_random(cache.fingerprint)
        report = extract_to_cache(missing, encoder, cache, batch_size, show_progress, gpu=gpu_decoder("auto"))
        failed.extend(report.failed)
    else:
        cache.compact()
    return [it.key for it in items if is_cached(cache, it)], failed


def check_files_are_there(keys: list[str], images_root: str, frames: int = 0, sample: int = 50) -> None:
    """Stop at once when none of the first `sample` files a caption file names is under `images_root`: a wrong
    --images, which would otherwise name every file as missing, one line each, and then fail."""
    resolve = resolve_clip if frames else resolve_image
    first = keys[:sample]
    for key in first:
        try:
            if os.path.exists(resolve(images_root, key)):
                return
        except DatasetError:
            continue
    if first:
        noun = "clips" if frames else "images"
        raise UsageError(f"{images_root}: none of the first {len(first)} {noun} the caption file names is there "
                         f"(such as {first[0]!r}); check --images")


def prepared_cache(cache_dir: str, fingerprint: EncoderSpec, keys: list[str], images_root: str, weights: str | None = None,
                   show_progress: bool = True, frames: int = 0) -> tuple[FeatureCache, list[str], list[tuple[str, str]]]:
    """A read-only cache holding features for `keys` (images, or clips of `frames` frames), one shard.

    The write lock is taken only when something must be extracted or compacted, so several `train` or
    `evaluate` runs can read one cache at the same time.
    """
    if os.path.exists(os.path.join(cache_directory(cache_dir, fingerprint), "cache.json")):
        cache = FeatureCache.open(cache_dir, fingerprint)
        if cache.shard_count <= 1 and all(is_cached(cache, ImageFile(k, k, frames)) for k in keys):
            return cache, list(keys), []
        cache.close()
    else:
        check_files_are_there(keys, images_root, frames)  # before a new cache folder is made
    with FeatureCache.open(cache_dir, fingerprint, writable=True) as cache:
        good, failed = ensure_features(keys, images_root, cache, weights, show_progress=show_progress, frames=frames)
    return FeatureCache.open(cache_dir, fingerprint), good, failed


def features_for_job(cache_dir: str, spec: EncoderSpec, keys, images_root: str, weights: str | None = None,
                     show_progress: bool = True, frames: int = 0) -> JobFeatures:
    """Extract what the cache in `cache_dir` lacks of `keys` (images, or clips of `frames` frames, under
    `images_root`) with the encoder `spec` names, with a progress bar, and name each file that could not be read;
    then the cache, read-only, for a trainer to read."""
    cache, good, failed = prepared_cache(cache_dir, spec, sorted(set(keys)), images_root, weights, show_progress,
                                         frames)
    for path, reason in failed:
        skipped(path, reason)
    return JobFeatures(cache, frozenset(good), tuple(failed), frames)


def split_features(cache_dir: str, fingerprint: EncoderSpec, keys: list[str], root: str, weights: str | None,
                   show_progress: bool, frames: int, source: str, noun: str) -> tuple[list[str], np.ndarray, int]:
    """Model inputs for the `keys` of one split (extracted first where missing): (keys read, features, number
    of files that could not be read). Each unreadable file is named once; none readable is an error."""
    cache, good, failed = prepared_cache(cache_dir, fingerprint, keys, root, weights, show_progress, frames)
    with cache:
        for path, reason in failed:
            skipped(path, reason)
        if not good:
            raise UsageError(f"{source}: the one {noun[:-1]} it names could not be read" if len(keys) == 1 else
                             f"{source}: none of the {len(keys)} {noun} could be read")
        return good, cached_inputs(cache, good, frames), len(failed)
