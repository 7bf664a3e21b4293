"""The malformed-image corpus: every file gets exactly its expected code, and nothing in it
(or in thousands of random mutations of it) makes intake raise anything else."""
from __future__ import annotations

import hashlib
import io
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from marketplace_core.media import (
    DEFAULT_LIMITS,
    ImageRejected,
    RejectionCode,
    inspect_and_normalise,
)
from marketplace_core.media.corpus import CorpusCase, build_corpus, corpus_specs
from marketplace_core.media.jpeg import iter_segments

SPECS = corpus_specs()
ACCEPTED = [spec.name for spec in SPECS if spec.expected_code is None]
# Markers a clean re-encode may contain: SOI, tables, frame, scans, EOI and the JFIF APP0.
CLEAN_JPEG_MARKERS = {0xC0, 0xC2, 0xC4, 0xDA, 0xDB, 0xDD, 0xD9, 0xE0}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, CorpusCase]:
    cases = build_corpus(tmp_path_factory.mktemp("image-corpus"))
    return {case.path.stem: case for case in cases}


def outcome(case: CorpusCase) -> str | None:
    try:
        inspect_and_normalise(case.path.read_bytes(),
                              declared_content_type=case.declared_content_type)
    except ImageRejected as rejection:
        return rejection.code
    return None


def test_corpus_is_large_and_covers_every_code():
    codes = Counter(spec.expected_code for spec in SPECS)
    assert len(SPECS) >= 200
    assert codes[None] >= 40
    assert set(RejectionCode) <= set(codes)


@pytest.mark.parametrize("name", [spec.name for spec in SPECS])
def test_case_gets_exactly_its_expected_code(corpus, name):
    case = corpus[name]
    assert outcome(case) == case.expected_code


def test_whole_corpus_never_raises_anything_but_image_rejected(corpus):
    # The property a worker relies on: any upload ends in a result or an ImageRejected.
    for case in corpus.values():
        outcome(case)


def test_mutated_corpus_never_raises_anything_but_image_rejected(corpus):
    rng = np.random.default_rng(2024)
    small = [case for case in corpus.values() if 0 < case.path.stat().st_size < 100_000]
    for _ in range(1500):
        data = small[rng.integers(len(small))].path.read_bytes()
        try:
            inspect_and_normalise(mutate(rng, data))
        except ImageRejected:
            pass


def mutate(rng: np.random.Generator, data: bytes) -> bytes:
    mutated = bytearray(data)
    position = int(rng.integers(len(mutated)))
    operation = rng.integers(4)
    if operation == 0:  # flip bytes anywhere
        for _ in range(int(rng.integers(1, 8))):
            mutated[int(rng.integers(len(mutated)))] = int(rng.integers(256))
    elif operation == 1:  # cut a run out
        del mutated[position:position + int(rng.integers(1, 200))]
    elif operation == 2:  # splice random bytes in
        mutated[position:position] = rng.integers(0, 256, int(rng.integers(1, 50)),
                                                  dtype=np.uint8).tobytes()
    else:  # hit the headers, where the parsers live
        mutated[int(rng.integers(min(len(mutated), 64)))] = int(rng.integers(256))
    return bytes(mutated)


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_image_is_a_clean_capped_rgb_jpeg(corpus, name):
    case = corpus[name]
    result = inspect_and_normalise(case.path.read_bytes(),
                                   declared_content_type=case.declared_content_type)
    output = Image.open(io.BytesIO(result.data))
    assert output.format == result.format == "JPEG"
    assert output.mode == "RGB"
    assert output.size == (result.width, result.height)
    assert max(output.size) <= DEFAULT_LIMITS.output_max_long_side
    assert not output.getexif()
    assert {"exif", "icc_profile", "xmp", "comment"}.isdisjoint(output.info)
    assert {segment.marker for segment in iter_segments(result.data)} <= CLEAN_JPEG_MARKERS
    assert b"GPS" not in result.data and b"<" not in result.data.split(b"\xff\xda")[0]
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()


def test_corpus_is_byte_for_byte_reproducible(tmp_path, corpus):
    sample = [spec.name for spec in SPECS[::3]]
    again = build_corpus(tmp_path, only=sample)
    assert [case.path.stem for case in again] == sample
    assert all(case.path.read_bytes() == corpus[case.path.stem].path.read_bytes()
               for case in again)


def test_expected_codes_hold_for_another_seed(tmp_path, corpus):
    other_seed = build_corpus(tmp_path, seed=1)
    assert sum(case.path.read_bytes() != corpus[case.path.stem].path.read_bytes()
               for case in other_seed) > len(other_seed) // 2
    assert [outcome(case) for case in other_seed] == \
        [case.expected_code for case in other_seed]
