"""Demo data for `make run`: a staff user, a team with an admin and two members, credits."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from credits import services as credits_services
from teams import services as teams_services
from teams.models import Membership, Role, Team

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed on purpose, demo only
DEMO_USERS = [
    ("staff@example.com", "Sam Staff", "staff"),
    ("admin@example.com", "Ada Admin", "team admin of Acme Studio"),
    ("alice@example.com", "Alice Member", "member of Acme Studio"),
    ("bob@example.com", "Bob Member", "member of Acme Studio"),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = {}
        for email, name, _ in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = user_create(email=email, password=DEMO_PASSWORD, name=name)
            users[email] = user
        staff = users["staff@example.com"]
        if not staff.is_staff:
            staff.is_staff = staff.is_superuser = True
            staff.save(update_fields=["is_staff", "is_superuser"])

        admin = users["admin@example.com"]
        team = Team.objects.filter(slug="acme-studio").first() or teams_services.team_create(
            name="Acme Studio", creator=admin
        )
        for email in ("alice@example.com", "bob@example.com"):
            Membership.objects.get_or_create(
                team=team, user=users[email], defaults={"role": Role.MEMBER}
            )
        credits_services.credits_grant(
            team_id=team.id,
            amount=200,
            category=credits_services.Category.PURCHASE,
            key="demo:purchase",
            memo="Demo credits",
        )
        for email in ("alice@example.com", "bob@example.com"):
            credits_services.credits_allocate(
                team_id=team.id,
                user_id=users[email].id,
                amount=30,
                key=f"demo:allocate:{email}",
                actor_id=admin.id,
            )
        for extra in self._extra_seeders():
            extra(stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for email, _, role in DEMO_USERS:
            self.stdout.write(f"  {email:<22} {role}")

    def _extra_seeders(self):
        """Apps that bring their own demo data (styles, packages) register a `seed_demo` here."""
        from importlib import import_module

        from django.apps import apps

        seeders = []
        for config in apps.get_app_configs():
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.demo":
                    raise
                continue
            seeders.append(module.seed_demo)
        return seeders
