"""Content-addressed storage of normalised photos on a local or mounted filesystem.

A key is the SHA-256 of the stored JPEG, so the same photo uploaded twice is stored once
and a key can never name anything but the bytes it hashes. Files live at
<root>/photos/ab/cd/<key>.jpg; two levels of fan-out keep directories small.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from foundation.files import fsync_directory
from marketplace_core.media.errors import InvalidMediaKey, MediaNotFound
from marketplace_core.media.intake import NormalisedImage
from marketplace_core.media.thumbnails import THUMBNAIL_SIZES, shrink_jpeg

# fullmatch on an explicit ASCII class: no separators, dots, upper case or Unicode digits.
_KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
_FILE_MODE = 0o644  # mkstemp creates 0600; the files are served by other processes


def validate_key(key: object) -> str:
    if not isinstance(key, str) or _KEY_PATTERN.fullmatch(key) is None:
        raise InvalidMediaKey("A media key is 64 lower-case hexadecimal characters.")
    return key


class MediaStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self._photos = self.root / "photos"
        self._thumbnails = self.root / "thumbnails"

    def path(self, key: str) -> Path:
        key = validate_key(key)
        return self._photos / key[:2] / key[2:4] / f"{key}.jpg"

    def save(self, image: NormalisedImage) -> str:
        """Store the image and return its key; saving the same content again is a no-op."""
        if hashlib.sha256(image.data).hexdigest() != image.sha256:
            raise ValueError("NormalisedImage.sha256 does not match its data")
        target = self.path(image.sha256)
        if not self._holds_complete_copy(target, len(image.data)):
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(target, image.data)
        return image.sha256

    def thumbnail(self, key: str, long_side: int) -> Path:
        """The stored photo at most `long_side` pixels on its long side, made on first
        use and kept beside the photos (<root>/thumbnails/<size>/ab/cd/<key>.jpg); the
        photo itself when it is no larger."""
        if long_side not in THUMBNAIL_SIZES:
            raise ValueError(f"thumbnails are {THUMBNAIL_SIZES} pixels on the long side")
        target = self._thumbnail_path(key, long_side)
        if target.is_file():
            return target
        try:
            original = self.path(key).read_bytes()
        except FileNotFoundError:
            raise MediaNotFound(f"No stored photo has the key {key}.") from None
        smaller = shrink_jpeg(original, long_side)
        if smaller is None:
            return self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, smaller)
        return target

    def _thumbnail_path(self, key: str, long_side: int) -> Path:
        key = validate_key(key)
        return self._thumbnails / str(long_side) / key[:2] / key[2:4] / f"{key}.jpg"

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise MediaNotFound(f"No stored photo has the key {key}.") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> bool:
        """Remove the photo and its thumbnails; returns False when the photo was not there
        (deletes are retried)."""
        for long_side in THUMBNAIL_SIZES:
            self._thumbnail_path(key, long_side).unlink(missing_ok=True)
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    @staticmethod
    def _holds_complete_copy(target: Path, size: int) -> bool:
        # Writes are atomic, so a file of the right size under its own hash is the content;
        # a wrong size means outside damage, and rewriting heals it.
        try:
            return target.stat().st_size == size
        except FileNotFoundError:
            return False


def _write_atomically(target: Path, data: bytes) -> None:
    """Readers see the old state or the whole new file, never a partial one, even after a
    crash: write a temporary file in the same directory, fsync it, rename it over."""
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), _FILE_MODE)
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)
