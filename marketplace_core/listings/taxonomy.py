"""Categories, sizes and conditions: western and Indian wear, bags, shoes, accessories."""
from __future__ import annotations

LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL", "XXXL")
UK_SHOE_SIZES = tuple(f"UK {n}" for n in range(2, 13))
WAIST_SIZES = tuple(str(n) for n in range(24, 42, 2))
ONE_SIZE = ("One size",)
FREE_SIZE = ("Free size",)

# category -> (department, allowed sizes)
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sarees": ("indian_wear", FREE_SIZE),
    "kurtas": ("indian_wear", LETTER_SIZES),
    "lehengas": ("indian_wear", LETTER_SIZES + FREE_SIZE),
    "sherwanis": ("indian_wear", LETTER_SIZES),
    "salwar_suits": ("indian_wear", LETTER_SIZES),
    "dresses": ("western_wear", LETTER_SIZES),
    "tops": ("western_wear", LETTER_SIZES),
    "jeans": ("western_wear", WAIST_SIZES),
    "jackets": ("western_wear", LETTER_SIZES),
    "handbags": ("bags", ONE_SIZE),
    "backpacks": ("bags", ONE_SIZE),
    "sneakers": ("shoes", UK_SHOE_SIZES),
    "heels": ("shoes", UK_SHOE_SIZES),
    "juttis": ("shoes", UK_SHOE_SIZES),
    "watches": ("accessories", ONE_SIZE),
    "jewellery": ("accessories", ONE_SIZE),
    "sunglasses": ("accessories", ONE_SIZE),
}

CONDITIONS = ("new_with_tags", "like_new", "good", "fair")


def sizes_for(category: str) -> tuple[str, ...]:
    return CATEGORIES[category][1] if category in CATEGORIES else ()
