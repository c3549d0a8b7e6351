"""The one price rule for a headshot generation (DESIGN.md "Pricing").

cost = style base + quality surcharge + premium surcharge + 2 per extra image.
Credits are captured per delivered image: the first delivered image carries the base,
quality and premium parts, each further image the extra-image price. So delivering k of
n images costs exactly `headshot_price(..., batch_size=k)`.
"""

QUALITY_SURCHARGE = {"standard": 0, "high": 1, "ultra": 2}
PREMIUM_SURCHARGE = 1
EXTRA_IMAGE_COST = 2
MAX_BATCH_SIZE = 4


def headshot_price(*, base_cost: int, is_premium: bool, quality: str, batch_size: int) -> int:
    if batch_size < 0:
        raise ValueError("batch_size must not be negative")
    if batch_size == 0:
        return 0
    first = base_cost + QUALITY_SURCHARGE[quality] + (PREMIUM_SURCHARGE if is_premium else 0)
    return first + EXTRA_IMAGE_COST * (batch_size - 1)


def headshot_image_cost(
    *, base_cost: int, is_premium: bool, quality: str, delivered_index: int
) -> int:
    """What delivering image number `delivered_index` (0-based) adds to the bill."""
    args = {"base_cost": base_cost, "is_premium": is_premium, "quality": quality}
    return headshot_price(**args, batch_size=delivered_index + 1) - headshot_price(
        **args, batch_size=delivered_index
    )
