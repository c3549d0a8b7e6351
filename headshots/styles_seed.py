"""The default styles, from the engine's look table. Used by the data migration (with the
historical model) and by demo data and tests (after a flush); never overwrites staff edits."""

from __future__ import annotations


def seed_styles(style_model) -> int:
    """Create any default style that is missing; return how many were created."""
    from generation.styles import DEFAULT_BASE_COST, DEFAULT_STYLES

    created = 0
    for order, spec in enumerate(DEFAULT_STYLES):
        _, was_created = style_model.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "category": spec.category,
                "prompt_template": spec.prompt,
                "negative_prompt": spec.negative_prompt,
                "backdrop": spec.backdrop,
                "backdrop_color": spec.brand_color or "",
                "grade": spec.grade,
                "light": spec.light,
                "framing": spec.framing,
                "retouch": spec.retouch,
                "brighten_eyes": spec.brighten_eyes,
                "brighten_teeth": spec.brighten_teeth,
                "is_premium": spec.is_premium,
                "base_cost": DEFAULT_BASE_COST,
                "sort_order": order,
            },
        )
        created += was_created
    return created
