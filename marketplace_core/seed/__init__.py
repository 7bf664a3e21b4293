"""Demo and training data: a catalogue of invented brands and deterministic product photos.

Pure Python + numpy + OpenCV; no web framework, no database.
"""
from .brands import BRANDS, CATEGORIES, MODELS, Brand, BrandMark, Category, ProductModel
from .catalog import (
    CONDITIONS,
    ProductSpec,
    brand_price_norms,
    counterfeit_twin,
    generate_catalog,
    genuine_spec,
)
from .counterfeit import FLAW_KINDS, Flaw
from .photos import (
    ANGLES,
    angles_for,
    encode_jpeg,
    listing_angles,
    render_product,
    render_product_with_mask,
)
from .serials import serial_matches

__all__ = [
    "ANGLES", "BRANDS", "CATEGORIES", "CONDITIONS", "FLAW_KINDS", "MODELS", "Brand",
    "BrandMark", "Category", "Flaw", "ProductModel", "ProductSpec", "angles_for",
    "brand_price_norms", "counterfeit_twin", "encode_jpeg", "generate_catalog", "genuine_spec",
    "listing_angles", "render_product", "render_product_with_mask", "serial_matches",
]
