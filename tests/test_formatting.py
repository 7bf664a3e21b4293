import pytest

from console.formatting import inr


@pytest.mark.parametrize("paise, text", [
    (0, "Rs 0.00"), (5, "Rs 0.05"), (100, "Rs 1.00"), (99_999, "Rs 999.99"),
    (100_000, "Rs 1,000.00"), (1_234_567, "Rs 12,345.67"), (10_000_000, "Rs 1,00,000.00"),
    (10**10, "Rs 10,00,00,000.00"), (-250_050, "-Rs 2,500.50"), (None, ""),
])
def test_rupees_use_indian_digit_grouping(paise, text):
    assert inr(paise) == text
