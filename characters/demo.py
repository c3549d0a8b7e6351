"""Demo data for `make run`: a film project of Acme Studio with two characters (no images:
the studio engine needs a reference photo, which a member adds in the generation modal)."""

from accounts.models import User
from characters import services
from characters.models import Project
from teams.models import Team

PROJECT = "The Lighthouse Keeper"
CHARACTERS = [
    ("Captain Mara Vale", "Weathered lighthouse keeper in her forties, grey wool coat."),
    ("Jonah Reed", "The young radio operator who arrives with the storm."),
]


def seed_demo(*, stdout) -> None:
    team = Team.objects.filter(slug="acme-studio").first()
    admin = User.objects.filter(email="admin@example.com").first()
    if team is None or admin is None or Project.objects.filter(team=team, name=PROJECT).exists():
        return
    project = services.project_create(
        actor=admin,
        team_id=team.id,
        name=PROJECT,
        description="A short film: a storm, a lighthouse, two keepers.",
    )
    for name, description in CHARACTERS:
        services.character_create(
            actor=admin, project_id=project.pk, name=name, description=description
        )
    stdout.write(
        f"Added the character studio project “{PROJECT}” with {len(CHARACTERS)} characters."
    )
