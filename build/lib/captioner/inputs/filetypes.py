"""Which file names count as images, which as clips (videos, animated images)."""

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm"})
# Decoded with Pillow: a still image to an image model, its frames to a clip model (when animated).
ANIMATED_EXTENSIONS = frozenset({".gif", ".webp"})
DEFAULT_FRAMES = 16  # frames sampled per clip unless the user says otherwise


def extension(name: str) -> str:
    """'.jpg' for 'a.JPG'; '' without a dot (a bare '.jpg' counts as the extension, as before)."""
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 and "/" not in name[dot:] else ""


def looks_like_image(name: str) -> bool:
    return extension(name) in IMAGE_EXTENSIONS


def looks_like_video(name: str) -> bool:
    return extension(name) in VIDEO_EXTENSIONS


def looks_like_animation(name: str) -> bool:
    return extension(name) in ANIMATED_EXTENSIONS


def looks_like_media(name: str) -> bool:
    """An image or a video file: what a folder walk considers."""
    return looks_like_image(name) or looks_like_video(name)


def strip_clip_extension(name: str) -> str:
    """'abc_1_5.mp4' -> 'abc_1_5': clips are often named by id (MSVD's VideoID_Start_End)."""
    ext = extension(name)
    return name[: -len(ext)] if ext in VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS else name
