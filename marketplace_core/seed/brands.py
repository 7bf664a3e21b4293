"""The brand book of the demo marketplace: categories, invented brands, their marks and models.

Every brand here is invented. A brand's `BrandMark` is its rule book (the things an
authenticator checks): wordmark spelling, font, letter spacing, ink colour, motif, hardware
finish, stitch pitch, print and serial format. Genuine items follow it exactly; counterfeit
items (see `counterfeit.py`) break some of the rules. A `ProductModel` fixes the design of one
product line (shape, colourways, material) so that listings of the same model look alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2

BGR = tuple[int, int, int]


def _bgr(hex_rgb: str) -> BGR:
    """Colours are written as web hex (RGB) because that is how designers write them."""
    value = int(hex_rgb.lstrip("#"), 16)
    return (value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF)


COLOURS: dict[str, BGR] = {
    name: _bgr(code)
    for name, code in {
        "black": "#1d1c1f",
        "ivory": "#efe5cf",
        "tan": "#b8855a",
        "cognac": "#8c4a26",
        "maroon": "#6e1b2b",
        "wine": "#5a1830",
        "emerald": "#0d6e4f",
        "navy": "#1f2b4f",
        "blush pink": "#e3aaa6",
        "rani pink": "#cf1f6c",
        "peacock blue": "#0e6a86",
        "mustard": "#cf9d27",
        "olive": "#66682b",
        "white": "#f2f2ef",
        "grey": "#8b8c90",
        "charcoal": "#3a3b40",
        "red": "#b01f2b",
        "beige": "#d6c19d",
        "indigo": "#2b3471",
        "saffron": "#de7a1e",
        "lavender": "#b3a2d4",
        "teal": "#1e7878",
        "mint": "#a6d3b8",
        "denim blue": "#3d5d88",
        "cream": "#f0e5c6",
        "gold": "#c9a24a",
        "silver": "#c3c6ca",
        "rose gold": "#c98f78",
        "magenta": "#a3195b",
        "sea green": "#2f8f6f",
        "chocolate": "#4a2c1d",
    }.items()
}

HARDWARE_FINISHES: dict[str, BGR] = {
    "gold": _bgr("#cfa84e"),
    "pale gold": _bgr("#dcc07a"),
    "silver": _bgr("#c4c7cb"),
    "gunmetal": _bgr("#5c5f66"),
    "rose gold": _bgr("#c98f78"),
    "antique brass": _bgr("#a88a42"),
}

# Counterfeit hardware is plated cheaply: gold goes brassy-green or lemon, silver goes dull.
OFF_HARDWARE: dict[str, BGR] = {
    "gold": _bgr("#b9a33c"),
    "pale gold": _bgr("#e6d24a"),
    "silver": _bgr("#9a9fa6"),
    "gunmetal": _bgr("#7d7a70"),
    "rose gold": _bgr("#d9a15a"),
    "antique brass": _bgr("#c9b25c"),
}


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    family: str          # renderer: bag, sneaker, heel, saree, garment, lehenga, watch
    size_system: str     # one_size, free, apparel, apparel_or_free, uk_shoe, uk_heel
    has_hardware: bool   # whether a 'hardware' close-up makes sense


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category("handbags", "Handbags", "bag", "one_size", True),
        Category("sneakers", "Sneakers", "sneaker", "uk_shoe", True),
        Category("heels", "Heels & Shoes", "heel", "uk_heel", True),
        Category("sarees", "Sarees", "saree", "free", False),
        Category("kurtas", "Kurtas", "garment", "apparel", False),
        Category("lehengas", "Lehengas", "lehenga", "apparel_or_free", False),
        Category("sherwanis", "Sherwanis", "garment", "apparel", False),
        Category("dresses", "Dresses", "garment", "apparel", False),
        Category("jackets", "Jackets", "garment", "apparel", True),
        Category("watches", "Watches & Accessories", "watch", "one_size", True),
    )
}

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SIZE_SYSTEMS: dict[str, tuple[str, ...]] = {
    "one_size": ("One Size",),
    "free": ("Free Size",),
    "apparel": APPAREL_SIZES,
    "apparel_or_free": APPAREL_SIZES + ("Free Size",),
    "uk_shoe": tuple(f"UK {n}" for n in range(3, 12)),
    "uk_heel": tuple(f"UK {n}" for n in range(3, 10)),
}


def valid_sizes(category_key: str) -> tuple[str, ...]:
    return SIZE_SYSTEMS[CATEGORIES[category_key].size_system]


@dataclass(frozen=True)
class BrandMark:
    """The rules a genuine item of the brand always follows."""

    wordmark: str            # the logo text, exactly as printed
    monogram: str            # one to three letters used in prints and hardware
    font: int                # a cv2 Hershey face (optionally | cv2.FONT_ITALIC)
    font_scale: float        # glyph height relative to the carrier's reference height
    thickness: float         # stroke weight at a 24 px cap height
    letter_spacing: float    # extra gap between letters, in cap heights
    ink: str                 # colour name of the printed / stamped logo ("gold" = foil)
    motif: str               # geometric emblem drawn beside the wordmark
    hardware: str            # key of HARDWARE_FINISHES
    stitch_pitch: float      # stitch spacing in units of 1/100 of the item width
    stitch_colour: str
    pattern: str             # default print: monogram, quilted, check, stripe, buti, ...
    pattern_colour: str
    serial_template: str     # @ letter, # digit, y year (2 digits), w week (2 digits), else literal
    packaging: str           # colour of box / dust bag
    made_in: str


@dataclass(frozen=True)
class ProductModel:
    """One product line: its design is stable across listings of it."""

    key: str
    brand: str
    name: str
    category: str
    noun: str                        # used in titles: "tote", "Banarasi silk saree"
    variant: int                     # which silhouette the family renderer draws
    proportions: tuple[float, float]  # width scale and height/width ratio
    colourways: tuple[str, ...]
    accent: str                      # trim / contrast colour
    material: str                    # leather, canvas, silk, cotton, georgette, denim, ...
    retail_rupees: int
    pattern: str | None = None       # overrides the brand's default print


@dataclass(frozen=True)
class Brand:
    key: str
    name: str
    tier: str                # luxury, premium, mass
    mark: BrandMark
    models: tuple[ProductModel, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.category for m in self.models))


_TRIPLEX = cv2.FONT_HERSHEY_TRIPLEX
_DUPLEX = cv2.FONT_HERSHEY_DUPLEX
_COMPLEX = cv2.FONT_HERSHEY_COMPLEX
_SIMPLEX = cv2.FONT_HERSHEY_SIMPLEX
_SCRIPT = cv2.FONT_HERSHEY_SCRIPT_COMPLEX
_ITALIC = cv2.FONT_ITALIC


def _brand(key, name, tier, mark: BrandMark, *models: tuple) -> Brand:
    built = tuple(ProductModel(f"{key}-{m[0]}", key, *m[1:]) for m in models)
    return Brand(key, name, tier, mark, built)


# Model tuples: (slug, name, category, noun, variant, proportions, colourways, accent,
#                material, retail_rupees[, pattern])
BRANDS: dict[str, Brand] = {
    b.key: b
    for b in (
        _brand(
            "maison-vellore", "Maison Vellore", "luxury",
            BrandMark("MAISON VELLORE", "MV", _TRIPLEX, 1.0, 2.0, 0.18, "gold", "diamond",
                      "gold", 1.6, "cream", "monogram", "tan", "@@-yw", "teal", "France"),
            ("cleo", "Cleo", "handbags", "tote", 0, (1.0, 0.78),
             ("cognac", "chocolate", "black"), "tan", "canvas", 16000),
            ("amara", "Amara", "handbags", "flap bag", 1, (0.86, 0.66),
             ("black", "maroon", "beige"), "black", "leather", 19000, "quilted"),
            ("riviera-bag", "Petit Riviera", "handbags", "satchel", 2, (0.9, 0.7),
             ("tan", "cognac", "ivory"), "chocolate", "canvas", 13500),
            ("riviera-pump", "Riviera", "heels", "pumps", 0, (1.0, 0.5),
             ("black", "blush pink", "red"), "beige", "leather", 12000, "plain"),
        ),
        _brand(
            "orvella", "Orvella", "luxury",
            BrandMark("ORVELLA", "O", _DUPLEX, 1.05, 1.6, 0.42, "silver", "double_ring",
                      "silver", 1.3, "charcoal", "quilted", "charcoal", "OV#####@",
                      "black", "Italy"),
            ("sera", "Sera", "handbags", "shoulder bag", 1, (0.92, 0.62),
             ("black", "grey", "wine"), "black", "leather", 17000),
            ("lucca", "Lucca", "handbags", "top-handle bag", 2, (0.82, 0.74),
             ("cream", "black", "navy"), "tan", "leather", 15000, "plain"),
            ("court", "Corte", "sneakers", "court sneakers", 1, (1.0, 0.42),
             ("white", "black"), "silver", "leather", 13000, "plain"),
        ),
        _brand(
            "cassiane", "Cassiane", "premium",
            BrandMark("CASSIANE", "C", _COMPLEX, 0.9, 1.4, 0.3, "rose gold", "crescent",
                      "rose gold", 1.2, "beige", "plain", "beige", "CS-##-####", "blush pink",
                      "India"),
            ("mira", "Mira", "handbags", "bucket bag", 2, (0.84, 0.8),
             ("blush pink", "tan", "mint"), "beige", "leather", 9500),
            ("noor", "Noor", "dresses", "midi dress", 0, (1.0, 1.35),
             ("emerald", "wine", "lavender"), "gold", "georgette", 6500, "buti"),
        ),
        _brand(
            "kestrel-finch", "Kestrel & Finch", "premium",
            BrandMark("KESTREL & FINCH", "KF", _SIMPLEX, 0.85, 1.8, 0.12, "cream", "chevron",
                      "antique brass", 1.8, "tan", "check", "cream", "KF/@###/y",
                      "chocolate", "United Kingdom"),
            ("harrow", "Harrow", "handbags", "messenger bag", 0, (1.05, 0.7),
             ("beige", "navy", "olive"), "chocolate", "canvas", 12000),
            ("field", "Field", "jackets", "quilted jacket", 0, (1.0, 1.0),
             ("olive", "navy", "black"), "chocolate", "cotton", 15000, "quilted"),
        ),
        _brand(
            "arcadia", "Arcadia", "luxury",
            BrandMark("ARCADIA", "A", _DUPLEX | _ITALIC, 1.1, 2.4, 0.08, "black", "chevron",
                      "silver", 1.1, "white", "plain", "grey", "ARC-######-@", "white", "Italy"),
            ("apex", "Apex High", "sneakers", "high-top sneakers", 0, (1.0, 0.55),
             ("white", "black", "red"), "black", "leather", 16500),
            ("vento", "Vento", "sneakers", "low-top sneakers", 1, (1.0, 0.42),
             ("white", "grey", "navy"), "red", "leather", 13500),
            ("terra", "Terra", "sneakers", "runners", 2, (1.0, 0.45),
             ("grey", "black", "mint"), "saffron", "mesh", 11500),
            ("bomber", "Volo", "jackets", "bomber jacket", 1, (1.0, 0.95),
             ("black", "olive", "navy"), "saffron", "nylon", 18000, "plain"),
        ),
        _brand(
            "velocita", "Velocita", "premium",
            BrandMark("VELOCITA", "V", _SIMPLEX | _ITALIC, 1.0, 2.6, 0.05, "white", "wave",
                      "gunmetal", 1.0, "grey", "plain", "grey", "VL####y@", "saffron",
                      "Vietnam"),
            ("strada", "Strada", "sneakers", "running shoes", 2, (1.0, 0.45),
             ("navy", "black", "teal"), "white", "mesh", 9000),
            ("corsa", "Corsa", "sneakers", "trainers", 1, (1.0, 0.42),
             ("white", "red", "grey"), "navy", "leather", 7500),
        ),
        _brand(
            "zephyra", "Zephyra", "mass",
            BrandMark("ZEPHYRA", "Z", _SIMPLEX, 0.95, 2.0, 0.15, "navy", "star", "silver", 1.0,
                      "white", "plain", "white", "ZP-#####", "navy", "India"),
            ("breeze", "Breeze", "sneakers", "canvas sneakers", 1, (1.0, 0.4),
             ("white", "black", "mustard"), "navy", "canvas", 2500),
            ("trail", "Trail", "sneakers", "walking shoes", 2, (1.0, 0.45),
             ("grey", "navy"), "mint", "mesh", 3500),
        ),
        _brand(
            "solenne", "Solenne", "premium",
            BrandMark("SOLENNE", "S", _TRIPLEX | _ITALIC, 0.95, 1.4, 0.25, "gold", "lotus",
                      "pale gold", 1.0, "beige", "plain", "beige", "SO-yw-##", "ivory",
                      "Spain"),
            ("etoile", "Etoile", "heels", "stilettos", 0, (1.0, 0.5),
             ("black", "red", "beige"), "ivory", "leather", 9800),
            ("bloc", "Bloc", "heels", "block heel sandals", 1, (1.0, 0.5),
             ("tan", "black", "white"), "beige", "leather", 7200),
        ),
        _brand(
            "pushkar-jutti", "Pushkar Jutti Co.", "mass",
            BrandMark("PUSHKAR", "PJ", _COMPLEX, 0.9, 1.6, 0.2, "maroon", "paisley",
                      "antique brass", 1.4, "gold", "zari", "gold", "PJ#####", "maroon", "India"),
            ("mojari", "Rajasthani", "heels", "embroidered juttis", 2, (1.0, 0.38),
             ("maroon", "ivory", "emerald"), "gold", "velvet", 1800),
            ("kolhapuri", "Kolhapuri", "heels", "kolhapuri flats", 2, (1.0, 0.34),
             ("tan", "cognac"), "gold", "leather", 1400, "plain"),
        ),
        _brand(
            "kalinga-loom", "Kalinga Loom", "premium",
            BrandMark("KALINGA LOOM", "KL", _COMPLEX, 0.9, 1.5, 0.22, "gold", "lotus",
                      "gold", 0.9, "gold", "buti", "gold", "KLM-y-####", "maroon", "India"),
            ("banarasi", "Banarasi", "sarees", "silk saree", 0, (1.0, 0.7),
             ("emerald", "maroon", "rani pink", "navy"), "gold", "silk", 9000),
            ("sambalpuri", "Sambalpuri", "sarees", "ikat saree", 0, (1.0, 0.7),
             ("indigo", "maroon", "mustard"), "ivory", "cotton", 4200, "ikat"),
            ("tussar", "Tussar", "sarees", "tussar silk saree", 0, (1.0, 0.7),
             ("beige", "cream", "mustard"), "maroon", "silk", 6800, "stripe"),
        ),
        _brand(
            "kanchi-heritage", "Kanchi Heritage Weaves", "luxury",
            BrandMark("KANCHI HERITAGE", "KH", _TRIPLEX, 0.85, 1.8, 0.16, "gold", "temple",
                      "gold", 0.8, "gold", "buti", "gold", "KHW/yw/###", "maroon", "India"),
            ("kanjeevaram", "Kanjeevaram", "sarees", "silk saree", 0, (1.0, 0.7),
             ("magenta", "peacock blue", "mustard", "red"), "gold", "silk", 14000),
            ("bridal", "Bridal Korvai", "sarees", "bridal silk saree", 0, (1.0, 0.7),
             ("red", "maroon", "rani pink"), "gold", "silk", 19000, "paisley"),
            ("pattu", "Pattu", "lehengas", "silk pavadai lehenga", 0, (1.0, 1.05),
             ("magenta", "emerald", "mustard"), "gold", "silk", 12500),
        ),
        _brand(
            "nadia-tant", "Nadia Tant House", "mass",
            BrandMark("NADIA TANT", "NT", _SIMPLEX, 0.85, 1.6, 0.2, "red", "fish", "silver",
                      1.2, "white", "stripe", "red", "NT-#####", "white", "India"),
            ("tant", "Tant", "sarees", "cotton saree", 0, (1.0, 0.7),
             ("white", "cream", "mint"), "red", "cotton", 1200),
            ("jamdani", "Jamdani", "sarees", "jamdani saree", 0, (1.0, 0.7),
             ("ivory", "teal", "lavender"), "maroon", "cotton", 3500, "buti"),
        ),
        _brand(
            "jaipur-threadworks", "Jaipur Threadworks", "mass",
            BrandMark("JAIPUR THREADWORKS", "JT", _SIMPLEX, 0.8, 1.4, 0.1, "white", "sun",
                      "silver", 1.5, "cream", "block_print", "indigo", "JT-####-@@", "cream",
                      "India"),
            ("anarkali", "Anarkali", "kurtas", "anarkali kurta", 1, (1.0, 1.45),
             ("ivory", "mustard", "mint"), "indigo", "cotton", 2200),
            ("straight", "Sanganeri", "kurtas", "straight kurta", 0, (1.0, 1.5),
             ("white", "blush pink", "beige"), "rani pink", "cotton", 1500),
            ("wrap", "Dabu", "dresses", "wrap dress", 1, (1.0, 1.3),
             ("indigo", "olive"), "cream", "cotton", 2600),
        ),
        _brand(
            "neelgiri", "Neelgiri", "mass",
            BrandMark("NEELGIRI", "N", _DUPLEX, 0.9, 1.8, 0.14, "gold", "peacock", "gold", 1.4,
                      "gold", "stripe", "gold", "NG#####@", "teal", "India"),
            ("chikan", "Chikankari", "kurtas", "chikankari kurta", 0, (1.0, 1.5),
             ("white", "lavender", "mint"), "white", "georgette", 2800, "buti"),
            ("festive", "Utsav", "kurtas", "festive kurta", 2, (1.0, 1.25),
             ("teal", "maroon", "saffron"), "gold", "silk", 3200),
        ),
        _brand(
            "indigo-haat", "Indigo Haat", "mass",
            BrandMark("INDIGO HAAT", "IH", _COMPLEX, 0.85, 1.3, 0.24, "indigo", "leaf",
                      "silver", 1.6, "white", "block_print", "white", "IH/###/y", "indigo",
                      "India"),
            ("bagru", "Bagru", "kurtas", "block print kurta", 0, (1.0, 1.5),
             ("indigo", "mustard", "olive"), "white", "cotton", 1300),
            ("kaftan", "Kaftan", "dresses", "kaftan dress", 2, (1.05, 1.25),
             ("indigo", "white"), "indigo", "cotton", 1900),
        ),
        _brand(
            "sitara-couture", "Sitara Couture", "luxury",
            BrandMark("SITARA", "S", _TRIPLEX, 1.05, 1.8, 0.32, "gold", "star", "gold", 0.8,
                      "gold", "zari", "gold", "SC-@@-yw-#", "ivory", "India"),
            ("noor-lehenga", "Noor", "lehengas", "bridal lehenga", 0, (1.0, 1.05),
             ("red", "rani pink", "wine"), "gold", "velvet", 22000),
            ("gulbahar", "Gulbahar", "lehengas", "festive lehenga", 1, (1.0, 1.05),
             ("mint", "lavender", "blush pink"), "silver", "georgette", 14000, "buti"),
            ("nawab", "Nawab", "sherwanis", "sherwani", 0, (1.0, 1.55),
             ("ivory", "gold", "maroon"), "gold", "silk", 16000),
        ),
        _brand(
            "rajwada-couture", "Rajwada Couture", "premium",
            BrandMark("RAJWADA", "R", _COMPLEX, 0.95, 1.7, 0.26, "gold", "paisley",
                      "antique brass", 1.0, "gold", "paisley", "gold", "RJ##-@@-##",
                      "maroon", "India"),
            ("mehfil", "Mehfil", "lehengas", "lehenga choli", 1, (1.0, 1.05),
             ("maroon", "emerald", "navy"), "gold", "silk", 14000),
            ("darbar", "Darbar", "sherwanis", "sherwani", 0, (1.0, 1.55),
             ("cream", "navy", "wine"), "gold", "silk", 12000),
            ("bandhgala", "Jodhpuri", "sherwanis", "bandhgala", 1, (1.0, 1.2),
             ("black", "navy", "beige"), "gold", "wool", 9000, "plain"),
        ),
        _brand(
            "lilas-lune", "Lilas & Lune", "premium",
            BrandMark("LILAS & LUNE", "LL", _SCRIPT, 0.9, 1.3, 0.1, "black", "crescent",
                      "pale gold", 1.1, "white", "buti", "white", "LLN-yw#", "lavender",
                      "Portugal"),
            ("soiree", "Soiree", "dresses", "slip dress", 0, (0.95, 1.4),
             ("black", "navy", "emerald"), "black", "satin", 8500, "plain"),
            ("jardin", "Jardin", "dresses", "floral sundress", 1, (1.0, 1.3),
             ("blush pink", "mint", "mustard"), "white", "cotton", 6000),
        ),
        _brand(
            "nordhavn", "Nordhavn", "premium",
            BrandMark("NORDHAVN", "NH", _DUPLEX, 0.95, 2.2, 0.3, "white", "hexagon",
                      "gunmetal", 1.4, "black", "quilted", "black", "NH##@##y", "black",
                      "Denmark"),
            ("fjell", "Fjell", "jackets", "puffer jacket", 0, (1.0, 1.0),
             ("black", "navy", "red"), "black", "nylon", 14000),
            ("rover", "Rover", "jackets", "denim jacket", 2, (1.0, 0.95),
             ("denim blue", "black"), "tan", "denim", 7000, "denim"),
        ),
        _brand(
            "vasseur", "Vasseur Geneve", "luxury",
            BrandMark("VASSEUR", "V", _TRIPLEX, 0.95, 1.4, 0.3, "black", "sun", "gold", 0.9,
                      "cream", "plain", "black", "V#######", "navy", "Switzerland"),
            ("regent", "Regent", "watches", "automatic watch", 0, (1.0, 1.0),
             ("white", "cream", "navy"), "chocolate", "leather", 17000),
            ("marin", "Marin", "watches", "diver watch", 2, (1.0, 1.0),
             ("black", "navy", "emerald"), "silver", "steel", 21000),
        ),
        _brand(
            "kaveri-time", "Kaveri Time Co.", "mass",
            BrandMark("KAVERI", "K", _SIMPLEX, 0.9, 1.8, 0.22, "navy", "wave", "silver", 1.2,
                      "white", "plain", "white", "KT#####", "white", "India"),
            ("classic", "Classic", "watches", "analog watch", 0, (1.0, 1.0),
             ("white", "black", "grey"), "black", "leather", 2800),
            ("quadra", "Quadra", "watches", "square watch", 1, (1.0, 1.0),
             ("navy", "white", "emerald"), "tan", "leather", 3400),
        ),
    )
}

MODELS: dict[str, ProductModel] = {m.key: m for b in BRANDS.values() for m in b.models}


def get_brand(key: str) -> Brand:
    return BRANDS[key]


def get_model(key: str) -> ProductModel:
    return MODELS[key]


@cache
def models_in_category(category_key: str) -> tuple[ProductModel, ...]:
    return tuple(m for m in MODELS.values() if m.category == category_key)


def model_pattern(model: ProductModel) -> str:
    return model.pattern or BRANDS[model.brand].mark.pattern
