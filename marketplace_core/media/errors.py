"""Why an image was refused, as stable machine-readable codes."""
from __future__ import annotations

from enum import StrEnum

from foundation.errors import DomainError, NotFound, ValidationFailed


class RejectionCode(StrEnum):
    EMPTY_FILE = "empty_file"
    FILE_TOO_LARGE = "file_too_large"
    UNSUPPORTED_FORMAT = "unsupported_format"
    CONTENT_TYPE_MISMATCH = "content_type_mismatch"
    TRUNCATED_OR_CORRUPT = "truncated_or_corrupt"
    DIMENSIONS_TOO_LARGE = "dimensions_too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    DECOMPRESSION_BOMB = "decompression_bomb"
    TOO_SMALL = "too_small"
    SUSPICIOUS_TRAILING_DATA = "suspicious_trailing_data"
    ANIMATED_NOT_SUPPORTED = "animated_not_supported"


class ImageRejected(DomainError):
    """An upload that is not an acceptable photo. `code` is one of RejectionCode."""

    status = 422

    def __init__(self, code: RejectionCode | str, message: str):
        code = RejectionCode(code)
        super().__init__(message, code=code.value)
        self.rejection = code
        if code is RejectionCode.FILE_TOO_LARGE:
            self.status = 413

    def __reduce__(self):
        # Lets job queues pickle the error across processes with its code intact.
        return type(self), (self.rejection, self.message)


class InvalidMediaKey(ValidationFailed):
    code = "invalid_media_key"


class MediaNotFound(NotFound):
    code = "media_not_found"


def corrupt(detail: str) -> ImageRejected:
    """The error for a file whose structure is broken; `detail` helps support staff."""
    return ImageRejected(RejectionCode.TRUNCATED_OR_CORRUPT,
                         f"The image is truncated or corrupt: {detail}.")
