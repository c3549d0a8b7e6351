from headshots.models import HeadshotStyle
from headshots.styles_seed import seed_styles


def seed_demo(*, stdout) -> None:
    created = seed_styles(HeadshotStyle)
    if created:
        stdout.write(f"Added {created} headshot styles.")
