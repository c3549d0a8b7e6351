"""The world the access matrix (tests/common/test_access_matrix.py) runs against.

Tenant A: an admin and a plain member. The member owns a finished headshot generation
with two images (credits really held, captured and released through the ledger) and a
failed one with its upload kept (retryable). The admin made a film project with a
character and two finished versions, a pending invitation, an invite link, an API key and a pending
Stripe payment. Tenant B's admin has the same kind of objects in B. An "other user" has
only the personal team every user gets, and a staff user belongs to no team at all.

Everything is built once per module through the services (no engine, no worker) and
rolled back at the end; each test runs in a savepoint inside it.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from accounts.services import user_create
from billing.models import CreditPackage, Payment
from characters import services as characters_services
from characters.models import CharacterImageVersion
from characters.models import Status as VersionStatus
from credits import services as credits_services
from headshots import files as headshot_files
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
from teams import services as teams_services
from teams.models import Invitation, Membership, Role

ACTORS = ("anonymous", "other_user", "other_team", "member", "admin", "staff")
# Team API keys, for the probes: A's (acts as A's admin, within A), B's, and a revoked one of A.
KEY_ACTORS = ("key_a", "key_b", "key_a_revoked")
IN_TEAM_A = frozenset({"member", "admin", "key_a", "key_a_revoked"})

# Strings only tenant A's objects carry: none may reach anyone outside A.
TEAM_A_NAME = "Tenant A Acme-7Q"
A_ADMIN_EMAIL = "a.admin@tenant-a.test"
A_MEMBER_EMAIL = "a.member@tenant-a.test"
A_INVITEE_EMAIL = "a.invitee@tenant-a.test"
A_PROJECT = "A-Project Lighthouse-7Q"
A_CHARACTER = "A-Character Mara-7Q"
A_VERSION_NAMES = ("A-Version One-7Q", "A-Version Two-7Q")
A_API_KEY_NAME = "A-Key automation-7Q"
A_PAYMENT_SESSION = "cs_test_tenantA7Q0000000000000000"
# What only the member who made it may see, not even A's admin.
A_GENERATION_MARKER = "A-Generation secret-7Q"

STAFF_EMAIL = "staff.person@studio.test"
OTHER_EMAIL = "other.user@elsewhere.test"
B_ADMIN_EMAIL = "b.admin@tenant-b.test"
TEAM_B_NAME = "Tenant B Globex-8R"
B_NAMES = {
    "generation": "B-Generation secret-8R",
    "project": "B-Project Harbour-8R",
    "character": "B-Character Juno-8R",
    "versions": ("B-Version One-8R", "B-Version Two-8R"),
    "invitee": "b.invitee@tenant-b.test",
    "api_key": "B-Key automation-8R",
    "session": "cs_test_tenantB8R0000000000000000",
}

# Ids no row has: what an outsider's answer must look exactly like.
MISSING_ID_BASE = 2_000_000_000


def jpeg_bytes(size=(64, 64), color=(120, 130, 140)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG")
    return out.getvalue()


@dataclass(frozen=True)
class Upload:
    """A file field in a request body, made fresh for every request (uploads are read once)."""

    kind: str  # "face": a real face photo; "tiny": a grey square (inspected, rejected)
    name: str = "photo.jpg"


FACE = Upload("face")
TINY = Upload("tiny")


@dataclass
class World:
    users: dict[str, Any]  # actor name -> User (anonymous -> None)
    ids: dict[str, Any]  # placeholder name -> id / key used in the table's paths and bodies
    face_jpeg: bytes
    markers: dict[str, frozenset[str]] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)  # key actor -> plaintext

    def missing_ids(self) -> dict[str, Any]:
        """A's placeholders pointing at nothing (ints past every id, keys nobody has); B's
        stay, being the B admin's own in the requests that mix the two."""
        out = {}
        for n, (name, value) in enumerate(sorted(self.ids.items())):
            if name.startswith(("b_", "team_b")):
                out[name] = value
            elif isinstance(value, int):
                out[name] = MISSING_ID_BASE + n
            elif name == "session":
                out[name] = "cs_test_" + "0" * 24 + str(n)
            else:
                out[name] = f"missing{n}" + "x" * 20
        return out

    def upload(self, spec: Upload) -> SimpleUploadedFile:
        data = self.face_jpeg if spec.kind == "face" else jpeg_bytes()
        return SimpleUploadedFile(spec.name, data, content_type="image/jpeg")


_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")


def fill(template: Any, ids: dict[str, Any], world: World) -> Any:
    """A path or body of the table with its {placeholders} replaced (typed when whole)."""
    if isinstance(template, Upload):
        return world.upload(template)
    if isinstance(template, str):
        whole = _PLACEHOLDER.match(template)
        if whole:
            return ids[whole.group(1)]
        return template.format_map(ids)
    if isinstance(template, list | tuple):
        return [fill(item, ids, world) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, ids, world) for key, value in template.items()}
    return template


def placeholders(template: Any) -> set[str]:
    if isinstance(template, str):
        return set(re.findall(r"\{(\w+)\}", template))
    if isinstance(template, list | tuple):
        return set().union(*(placeholders(item) for item in template)) if template else set()
    if isinstance(template, dict):
        return (
            set().union(*(placeholders(value) for value in template.values()))
            if template
            else set()
        )
    return set()


# --- building the world ------------------------------------------------------------------


def _spent_generation(user, team, *, style: str, costs: tuple[int, ...], marker: str):
    """A finished generation whose credits went through the ledger as a run's do."""
    held = sum(costs)
    generation = HeadshotGeneration.objects.create(
        user=user,
        team=team,
        style=HeadshotStyle.objects.get(slug=style),
        aspect_ratio="1:1",
        batch_size=len(costs),
        status=Status.PROCESSING,
        credits_held=held,
        inspection={"ok": True, "score": 90, "reasons": [], "note": marker},
        engine="studio",
    )
    credits_services.credits_hold(
        team_id=team.id,
        user_id=user.id,
        amount=held,
        key=generation.hold_key,
        category=credits_services.Category.HEADSHOT,
        reference=f"headshot:{generation.pk}",
    )
    picture = jpeg_bytes()
    images = []
    for index, cost in enumerate(costs):
        image = GeneratedImage(
            generation=generation,
            index=index,
            width=64,
            height=64,
            seed=index + 1,
            engine="studio",
            credits=cost,
        )
        image.image.save(f"{index}.jpg", ContentFile(picture), save=False)
        image.thumbnail.save(f"{index}-t.jpg", ContentFile(picture), save=False)
        image.save()
        images.append(image)
        credits_services.credits_capture(
            hold_key=generation.hold_key, amount=cost, key=f"{generation.hold_key}:capture:{index}"
        )
    HeadshotGeneration.objects.filter(pk=generation.pk).update(
        status=Status.COMPLETED,
        progress=100,
        credits_used=held,
        processing_ms=900,
        finished_at=timezone.now(),
    )
    generation.refresh_from_db()
    return generation, images


def _failed_generation(user, team, *, marker: str, face_jpeg: bytes):
    """A failed run with its upload kept: its hold was released, so a retry may hold again."""
    generation = HeadshotGeneration(
        user=user,
        team=team,
        style=HeadshotStyle.objects.get(slug="corporate"),
        aspect_ratio="1:1",
        batch_size=1,
        status=Status.FAILED,
        credits_held=3,
        error_code="engine_error",
        error_message=marker,
        finished_at=timezone.now(),
    )
    generation.source.save("upload.jpg", ContentFile(face_jpeg), save=False)
    generation.save()
    return generation


def _finished_version(character, user, *, number: int, name: str, face_jpeg: bytes):
    version = CharacterImageVersion(
        character=character,
        created_by=user,
        team=character.project.team,
        version_name=name,
        version_number=number,
        status=VersionStatus.COMPLETED,
        progress=100,
        art_style="realistic",
        template_type="headshot",
        aspect_ratio="1:1",
        mode="image_to_image",
        credit_cost=4,
        credits_used=4,
        width=64,
        height=64,
        panels=[{"label": "Headshot", "prompt": "p", "seed": 1, "box": [0, 0, 64, 64]}],
        finished_at=timezone.now(),
    )
    version.image.save("image.jpg", ContentFile(jpeg_bytes()), save=False)
    version.thumbnail.save("thumb.jpg", ContentFile(jpeg_bytes()), save=False)
    version.character_reference.save("reference.jpg", ContentFile(face_jpeg), save=False)
    version.save()
    return version


def _tenant(admin, member, *, name: str, prefix: str, face_jpeg: bytes, names: dict) -> dict:
    """One shared team with credits, headshots, a film project, an invitation, a key, a payment."""
    team = teams_services.team_create(name=name, creator=admin)
    if member is not None:
        Membership.objects.create(team=team, user=member, role=Role.MEMBER)
    credits_services.credits_grant(
        team_id=team.id,
        amount=300,
        category=credits_services.Category.PURCHASE,
        key=f"acl:{prefix}:seed",
    )
    owner = member or admin
    for who in {admin, owner}:
        credits_services.credits_allocate(
            team_id=team.id, user_id=who.id, amount=60, key=f"acl:{prefix}:allocate:{who.id}"
        )
    done, images = _spent_generation(
        owner, team, style="corporate", costs=(3, 2), marker=names["generation"]
    )
    failed = _failed_generation(owner, team, marker=names["generation"], face_jpeg=face_jpeg)
    project = characters_services.project_create(
        actor=admin, team_id=team.id, name=names["project"]
    )
    character = characters_services.character_create(
        actor=admin, project_id=project.pk, name=names["character"]
    )
    v1 = _finished_version(
        character, admin, number=1, name=names["versions"][0], face_jpeg=face_jpeg
    )
    v2 = _finished_version(
        character, admin, number=2, name=names["versions"][1], face_jpeg=face_jpeg
    )
    characters_services.version_activate(actor=admin, character_id=character.pk, version_id=v1.pk)
    invitation = Invitation.objects.create(
        team=team,
        email=names["invitee"],
        role=Role.MEMBER,
        invited_by=admin,
        expires_at=timezone.now() + timedelta(days=7),
    )
    invite_link = teams_services.invite_link_create(actor=admin, team_id=team.id, max_uses=50)
    api_key, plaintext = teams_services.team_api_key_create(
        actor=admin, team_id=team.id, name=names["api_key"]
    )
    revoked, revoked_plaintext = teams_services.team_api_key_create(
        actor=admin, team_id=team.id, name=names["api_key"] + " (old)"
    )
    teams_services.team_api_key_revoke(actor=admin, team_id=team.id, key_id=revoked.pk)
    payment = Payment.objects.create(
        team=team,
        package=CreditPackage.objects.get(slug="starter"),
        credits=50,
        amount_cents=2900,
        currency="usd",
        stripe_session_id=names["session"],
        created_by=admin,
    )
    return {
        "team": team,
        "done": done,
        "images": images,
        "failed": failed,
        "project": project,
        "character": character,
        "v1": v1,
        "v2": v2,
        "invitation": invitation,
        "invite_link": invite_link,
        "api_key": api_key,
        "plaintext": plaintext,
        "revoked_plaintext": revoked_plaintext,
        "payment": payment,
    }


def build_world(face_jpeg: bytes) -> World:
    from headshots.styles_seed import seed_styles
    from tests.billing.fixtures import seed_packages

    # An earlier transaction=True test's flush may have removed the migrations' seed rows.
    seed_styles(HeadshotStyle)
    seed_packages()
    a_admin = user_create(email=A_ADMIN_EMAIL, password=None, name="Ada Admin")
    a_member = user_create(email=A_MEMBER_EMAIL, password=None, name="Mo Member")
    other = user_create(email=OTHER_EMAIL, password=None, name="Olly Other")
    b_admin = user_create(email=B_ADMIN_EMAIL, password=None, name="Bea Bee")
    staff = user_create(email=STAFF_EMAIL, password=None, name="Sam Staff", is_staff=True)
    staff.is_superuser = True  # what seed_demo and the staff tests give staff: admin needs it
    staff.save(update_fields=["is_superuser"])

    a = _tenant(
        a_admin,
        a_member,
        name=TEAM_A_NAME,
        prefix="a",
        face_jpeg=face_jpeg,
        names={
            "generation": A_GENERATION_MARKER,
            "project": A_PROJECT,
            "character": A_CHARACTER,
            "versions": A_VERSION_NAMES,
            "invitee": A_INVITEE_EMAIL,
            "api_key": A_API_KEY_NAME,
            "session": A_PAYMENT_SESSION,
        },
    )
    b = _tenant(
        b_admin,
        None,
        name=TEAM_B_NAME,
        prefix="b",
        face_jpeg=face_jpeg,
        names=B_NAMES,
    )
    team_a = a["team"]
    image = a["images"][0]
    ids = {
        "team": team_a.id,
        "admin_id": a_admin.id,
        "member_id": a_member.id,
        "member_membership": Membership.objects.get(team=team_a, user=a_member).pk,
        "gen": a["done"].pk,
        "failed_gen": a["failed"].pk,
        "image": image.pk,
        "project": a["project"].pk,
        "character": a["character"].pk,
        "v1": a["v1"].pk,
        "v2": a["v2"].pk,
        "invitation": a["invitation"].pk,
        "invitation_key": a["invitation"].key,
        "invite_link": a["invite_link"].pk,
        "invite_link_key": a["invite_link"].key,
        "api_key": a["api_key"].pk,
        "session": A_PAYMENT_SESSION,
        # tenant B's own, for requests that mix B's ids with A's
        "team_b": b["team"].id,
        "b_admin_id": b_admin.id,
        "b_gen": b["done"].pk,
        "b_image": b["images"][0].pk,
        "b_project": b["project"].pk,
        "b_character": b["character"].pk,
        "b_v1": b["v1"].pk,
    }
    a_only = frozenset(
        {
            TEAM_A_NAME,
            A_ADMIN_EMAIL,
            A_MEMBER_EMAIL,
            A_INVITEE_EMAIL,
            A_PROJECT,
            A_CHARACTER,
            *A_VERSION_NAMES,
            A_API_KEY_NAME,
            A_GENERATION_MARKER,
            a["invitation"].key,
            a["invite_link"].key,
            a["api_key"].prefix,
        }
    )
    b_only = frozenset(
        {
            TEAM_B_NAME,
            B_ADMIN_EMAIL,
            B_NAMES["generation"],
            B_NAMES["project"],
            B_NAMES["character"],
            *B_NAMES["versions"],
            B_NAMES["invitee"],
            B_NAMES["api_key"],
            b["invitation"].key,
            b["invite_link"].key,
            b["api_key"].prefix,
        }
    )
    other_only = frozenset({OTHER_EMAIL})
    world = World(
        users={
            "anonymous": None,
            "other_user": other,
            "other_team": b_admin,
            "member": a_member,
            "admin": a_admin,
            "staff": staff,
            "key_a": a_admin,
            "key_b": b_admin,
            "key_a_revoked": a_admin,
        },
        ids=ids,
        face_jpeg=face_jpeg,
        # What each actor must never be shown: the other tenants' strings, and for A's
        # admin (and A's key, which acts as them) the member's own generation.
        markers={
            "anonymous": a_only | b_only | other_only,
            "other_user": a_only | b_only,
            "other_team": a_only | other_only,
            "member": b_only | other_only,
            "admin": b_only | other_only | {A_GENERATION_MARKER},
            "staff": a_only | b_only | other_only,
            "key_a": b_only | other_only | {A_GENERATION_MARKER},
            "key_b": a_only | other_only,
            "key_a_revoked": a_only | b_only | other_only,
        },
        api_keys={
            "key_a": a["plaintext"],
            "key_b": b["plaintext"],
            "key_a_revoked": a["revoked_plaintext"],
        },
    )
    # Capabilities: whoever holds the link may fetch the file or the shared picture.
    ids["file_token"] = headshot_files.file_url(image.image).rstrip("/").rsplit("/", 1)[-1]
    ids["share_token"] = headshot_files.share_token(image.pk)
    return world


# --- "nothing changed" -------------------------------------------------------------------

OUR_APPS = ("accounts", "teams", "credits", "billing", "headshots", "characters", "staff")
# Bookkeeping of authentication, not a change made by the request under test: signing in
# (the test client's force_login) and a team API key's "last used" (touched once a minute).
VOLATILE = {("accounts", "user"): {"last_login"}, ("teams", "teamapikey"): {"last_used_at"}}


def _snapshot_sql() -> str:
    """One query over every table of ours (many-to-many ones too): a line of text per row."""
    quote = connection.ops.quote_name
    parts = []
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed:
                continue
            skip = VOLATILE.get((label, meta.model_name), set())
            columns = [f.column for f in meta.concrete_fields if f.attname not in skip]
            text = " || '|' || ".join(
                f"COALESCE(CAST({quote(column)} AS TEXT), '-')" for column in columns
            )
            pk, table = quote(meta.pk.column), quote(meta.db_table)
            select = f"SELECT '{meta.label}', CAST({pk} AS TEXT), {text} FROM {table}"  # noqa: S608 - names from our models' _meta
            parts.append(select)
    return " UNION ALL ".join(parts) + " ORDER BY 1, 2"


def snapshot() -> list[tuple[str, str, str]]:
    """Every row of every table of ours: a refused request must leave all of them as they were."""
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql())
        return cursor.fetchall()


def diff(before: list, after: list) -> list[str]:
    old = {(table, pk): line for table, pk, line in before}
    new = {(table, pk): line for table, pk, line in after}
    return [
        f"{table} #{pk}: {old.get((table, pk))} -> {new.get((table, pk))}"
        for table, pk in sorted(set(old) | set(new))
        if old.get((table, pk)) != new.get((table, pk))
    ]


def new_key() -> str:
    return uuid.uuid4().hex
