"""Member pages of the character studio: projects, a project's characters, and the studio
page of one character (viewer, version switcher, generation modal, live progress)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from characters import selectors, services
from characters.models import Status
from common.errors import ApplicationError
from credits import selectors as credits_selectors
from teams import selectors as teams_selectors


def _current_team_id(request: HttpRequest) -> int | None:
    """The team the switcher shows."""
    return teams_selectors.team_id_current(
        user=request.user, chosen_team_id=request.session.get("team_id")
    )


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    form_error, status = None, 200
    if request.method == "POST":
        try:
            project = services.project_create(
                actor=request.user,
                team_id=request.POST.get("team") or 0,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
            )
        except ApplicationError as error:
            form_error, status = error.message, error.status
        else:
            return redirect("characters:project", project_id=project.pk)
    return render(
        request,
        "characters/projects.html",
        {
            "projects": selectors.project_list(user=request.user),
            "memberships": teams_selectors.memberships_for_user(user=request.user),
            "current_team_id": _current_team_id(request),
            # A refusal is shown in the form it answers, with what was typed kept.
            "form_error": form_error,
            "posted": request.POST,
        },
        status=status,
    )


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = selectors.project_get(user=request.user, project_id=project_id)
    form_error, status = None, 200
    if request.method == "POST":
        try:
            character = services.character_create(
                actor=request.user,
                project_id=project.pk,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
            )
        except ApplicationError as error:
            form_error, status = error.message, error.status
        else:
            return redirect("characters:studio", character_id=character.pk)
    return render(
        request,
        "characters/project.html",
        {
            "project": project,
            "characters": selectors.character_list(user=request.user, project_id=project.pk),
            "can_delete": selectors.can_delete(
                user=request.user, owner_id=project.created_by_id, team_id=project.team_id
            ),
            "form_error": form_error,
            "posted": request.POST,
        },
        status=status,
    )


@login_required
@require_POST
def project_delete(request: HttpRequest, project_id: int) -> HttpResponse:
    try:
        services.project_delete(actor=request.user, project_id=project_id)
    except ApplicationError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
        return redirect("characters:project", project_id=project_id)
    messages.success(request, "Project deleted.")
    return redirect("characters:projects")


def _studio_context(request: HttpRequest, character_id: int, **extra) -> dict:
    character = selectors.character_get(user=request.user, character_id=character_id)
    versions = list(selectors.version_list(user=request.user, character_id=character.pk))
    shown = selectors.version_last_viewed(user=request.user, character=character)
    team_id = character.project.team_id
    config = selectors.studio_config()
    return {
        "character": character,
        "project": character.project,
        "shown": shown,
        "active": selectors.active_version(character),
        "done": [v for v in versions if v.status == Status.COMPLETED],
        "running": [v for v in versions if v.status in selectors.RUNNING],
        "failed": [v for v in versions if v.status == Status.FAILED][:3],
        "config": config,
        "template_groups": [
            (label, [t for t in config["templates"] if t.info.group == group])
            for group, label in config["groups"].items()
        ],
        "balance": credits_selectors.balance_member(team_id=team_id, user_id=request.user.id),
        "can_delete_character": selectors.can_delete(
            user=request.user, owner_id=character.created_by_id, team_id=team_id
        ),
        "is_admin": teams_selectors.is_team_admin(user=request.user, team_id=team_id),
        "submit_token": uuid.uuid4().hex,
        "form": {},
        "modal_open": False,
        **extra,
    }


@login_required
@require_GET
def studio(request: HttpRequest, character_id: int) -> HttpResponse:
    return render(request, "characters/studio.html", _studio_context(request, character_id))


@login_required
@require_POST
def character_edit(request: HttpRequest, character_id: int) -> HttpResponse:
    try:
        services.character_update(
            actor=request.user,
            character_id=character_id,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
        )
    except ApplicationError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    return redirect("characters:studio", character_id=character_id)


@login_required
@require_POST
def character_delete(request: HttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get(user=request.user, character_id=character_id)
    try:
        services.character_delete(actor=request.user, character_id=character_id)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("characters:studio", character_id=character_id)
    messages.success(request, f"{character.name} deleted.")
    return redirect("characters:project", project_id=character.project_id)


def _has_background(request: HttpRequest) -> bool:
    return bool(
        request.FILES.get("background_reference")
        or request.POST.get("background_reference_url", "").strip()
        or request.POST.get("background_chosen") == "1"
    )


@login_required
@require_POST
def estimate(request: HttpRequest, character_id: int) -> HttpResponse:
    """htmx: the live cost of the modal's current choice, from the one pricing rule."""
    character = selectors.character_get(user=request.user, character_id=character_id)
    try:
        result = services.character_estimate(
            template=request.POST.get("template", ""),
            art_style=request.POST.get("art_style", ""),
            aspect_ratio=request.POST.get("aspect_ratio", ""),
            with_background=_has_background(request),
        )
    except ApplicationError as error:
        return render(request, "characters/_estimate.html", {"problem": error.message})
    balance = credits_selectors.balance_member(
        team_id=character.project.team_id, user_id=request.user.id
    )
    return render(request, "characters/_estimate.html", {"estimate": result, "balance": balance})


@login_required
@require_POST
def generate(request: HttpRequest, character_id: int) -> HttpResponse:
    post = request.POST
    try:
        version, _ = services.version_generate(
            actor=request.user,
            character_id=character_id,
            template=post.get("template", ""),
            art_style=post.get("art_style", ""),
            aspect_ratio=post.get("aspect_ratio", ""),
            version_name=post.get("version_name", ""),
            additional_description=post.get("additional_description", ""),
            character_reference=request.FILES.get("character_reference"),
            character_reference_url=post.get("character_reference_url", "").strip(),
            background_reference=request.FILES.get("background_reference"),
            background_reference_url=post.get("background_reference_url", "").strip(),
            idempotency_key=post.get("submit_token") or None,
        )
    except ApplicationError as error:
        if error.status == 404:
            raise
        context = _studio_context(
            request, character_id, form=post, modal_open=True, generate_error=error.message
        )
        return render(request, "characters/studio.html", context, status=error.status)
    messages.success(request, f"Generating “{version.version_name}”.")
    return redirect("characters:studio", character_id=character_id)


def _switch_response(request: HttpRequest, character_id: int) -> HttpResponse:
    context = _studio_context(request, character_id)
    return render(request, "characters/_switched.html", context)


@login_required
@require_GET
def version_show(request: HttpRequest, character_id: int, version_id: int) -> HttpResponse:
    """Switch the viewer to a version and remember it for this member."""
    try:
        services.version_view(actor=request.user, character_id=character_id, version_id=version_id)
    except ApplicationError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    if request.htmx:
        return _switch_response(request, character_id)
    return redirect("characters:studio", character_id=character_id)


@login_required
@require_GET
def version_progress(request: HttpRequest, character_id: int, version_id: int) -> HttpResponse:
    """htmx: a running version's card; once it is done the page reloads to show it."""
    version = selectors.version_get(
        user=request.user, character_id=character_id, version_id=version_id
    )
    if version.is_finished and request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "characters/_job.html", {"job": version, "character_id": character_id})


def _version_action(request: HttpRequest, character_id: int, action, done: str) -> HttpResponse:
    try:
        action()
    except ApplicationError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        if done:
            messages.success(request, done)
    return redirect(reverse("characters:studio", args=[character_id]))


@login_required
@require_POST
def version_activate(request: HttpRequest, character_id: int, version_id: int) -> HttpResponse:
    return _version_action(
        request,
        character_id,
        lambda: services.version_activate(
            actor=request.user, character_id=character_id, version_id=version_id
        ),
        "This version is now the character's image.",
    )


@login_required
@require_POST
def version_rename(request: HttpRequest, character_id: int, version_id: int) -> HttpResponse:
    return _version_action(
        request,
        character_id,
        lambda: services.version_rename(
            actor=request.user,
            character_id=character_id,
            version_id=version_id,
            version_name=request.POST.get("version_name", ""),
        ),
        "Renamed.",
    )


@login_required
@require_POST
def version_delete(request: HttpRequest, character_id: int, version_id: int) -> HttpResponse:
    return _version_action(
        request,
        character_id,
        lambda: services.version_delete(
            actor=request.user, character_id=character_id, version_id=version_id
        ),
        "Version deleted.",
    )


@login_required
@require_POST
def version_regenerate(request: HttpRequest, character_id: int, version_id: int) -> HttpResponse:
    return _version_action(
        request,
        character_id,
        lambda: services.version_regenerate(
            actor=request.user,
            character_id=character_id,
            version_id=version_id,
            idempotency_key=request.POST.get("submit_token") or None,
        ),
        "Regenerating from the saved parameters.",
    )
