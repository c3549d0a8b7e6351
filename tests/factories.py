import io

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from accounts.models import User
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
from teams.models import Invitation, Membership, Role, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-42")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    team = factory.SubFactory(TeamFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))


def finished_generation(
    user, *, team=None, n_images=1, status=Status.COMPLETED
) -> HeadshotGeneration:
    """A generation row with real image files, made without the engine (for list/query tests)."""
    style = HeadshotStyle.objects.get(slug="corporate")
    generation = HeadshotGeneration.objects.create(
        user=user,
        team=team or user.team,
        style=style,
        aspect_ratio="1:1",
        batch_size=n_images,
        status=status,
        progress=100,
    )
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 130, 140)).save(picture, format="JPEG")
    for index in range(n_images):
        image = GeneratedImage(
            generation=generation, index=index, width=64, height=64, seed=index, engine="studio"
        )
        image.image.save(f"{index}.jpg", ContentFile(picture.getvalue()), save=False)
        image.thumbnail.save(f"{index}-t.jpg", ContentFile(picture.getvalue()), save=False)
        image.save()
    return generation


def team_member(*, credits: int = 0) -> User:
    """A member of a new team holding `credits` (granted through the ledger); `user.team`
    is that team."""
    from credits import services as credits_services

    team = TeamFactory()
    user = MembershipFactory(team=team).user
    if credits:
        credits_services.credits_grant(
            team_id=team.id, user_id=user.id, amount=credits, category="purchase", key="g"
        )
    user.team = team
    return user
