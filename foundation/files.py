"""Durable file writes shared by the packages that keep files beside the database."""
from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Make a file's creation or rename in `directory` survive a power cut: the rename is
    only durable once the directory entry itself reaches the disk."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
