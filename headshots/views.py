"""Member pages: new headshots (inspect, pick, estimate, submit), progress, gallery, files."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.errors import ApplicationError
from credits import selectors as credits_selectors
from headshots import files, selectors, services
from headshots.models import AspectRatio, Backdrop, Event, Quality, Status
from headshots.pricing import MAX_BATCH_SIZE
from staff.selectors import site_settings
from teams import selectors as teams_selectors


class NewHeadshotForm(forms.Form):
    photo = forms.FileField(required=False)
    style = forms.CharField()
    aspect_ratio = forms.ChoiceField(choices=AspectRatio.choices, initial=AspectRatio.SQUARE)
    quality = forms.ChoiceField(choices=Quality.choices, initial=Quality.STANDARD)
    batch_size = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, MAX_BATCH_SIZE + 1)], coerce=int, initial=1
    )
    team = forms.IntegerField(required=False)


def _current_team_id(request: HttpRequest) -> int | None:
    """The team the switcher shows."""
    return teams_selectors.team_id_current(
        user=request.user, chosen_team_id=request.session.get("team_id")
    )


def _estimate_context(request: HttpRequest, *, team_id: int | None, choice: dict) -> dict:
    """The cost of a choice, what the member holds, and what to do when it is not enough."""
    balance = (
        credits_selectors.balance_member(team_id=team_id, user_id=request.user.id) if team_id else 0
    )
    try:
        estimate = services.headshot_estimate(
            user=request.user,
            team_id=team_id,
            style_slug=str(choice.get("style") or ""),
            quality=str(choice.get("quality") or ""),
            aspect_ratio=str(choice.get("aspect_ratio") or ""),
            batch_size=int(choice.get("batch_size") or 0),
        )
    except (ApplicationError, ValueError) as error:
        return {"problem": getattr(error, "message", "Check your choices."), "balance": balance}
    short = estimate.credits > balance
    return {
        "estimate": estimate,
        "balance": balance,
        "short": short,
        "team_id": team_id,
        "can_buy": short
        and team_id is not None
        and teams_selectors.is_team_admin(user=request.user, team_id=team_id),
    }


def _choice(form: NewHeadshotForm, styles) -> dict:
    """The member's picks to show again (a failed submit keeps them), else the defaults."""
    data = form.data if form.is_bound else {}
    return {
        "style": data.get("style") or (styles[0].slug if styles else ""),
        "aspect_ratio": data.get("aspect_ratio") or AspectRatio.SQUARE,
        "quality": data.get("quality") or Quality.STANDARD,
        "batch_size": data.get("batch_size") or 1,
    }


@login_required
def headshot_new(request: HttpRequest) -> HttpResponse:
    team_id = _current_team_id(request)
    team = services.headshot_team(request.user, team_id)
    team_id = team.id
    styles = selectors.styles_for_team(team=team)
    form = NewHeadshotForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            generation, _ = services.headshot_submit(
                user=request.user,
                team_id=team_id,
                style_slug=data["style"],
                aspect_ratio=data["aspect_ratio"],
                quality=data["quality"],
                batch_size=data["batch_size"],
                photo=data["photo"],
                idempotency_key=request.POST.get("submit_token") or None,
            )
        except ApplicationError as error:
            kept = " Your photo was not kept: choose it again." if data["photo"] else ""
            form.add_error(None, error.message + kept)
        else:
            return redirect("headshots:detail", generation_id=generation.pk)
    choice = _choice(form, styles)
    return render(
        request,
        "headshots/new.html",
        {
            "form": form,
            "styles": styles,
            "team": team,
            "choice": choice,
            "retention_minutes": site_settings().retention_minutes,
            "submit_token": uuid.uuid4().hex,
            **_estimate_context(request, team_id=team_id, choice=choice),
        },
    )


@login_required
@require_POST
def headshot_inspect(request: HttpRequest) -> HttpResponse:
    """htmx: score the chosen photo before paying."""
    try:
        result = services.headshot_inspect(photo=request.FILES.get("photo"))
    except ApplicationError as error:
        result = None
        problem = error.message
    else:
        problem = None
    return render(request, "headshots/_inspection.html", {"result": result, "problem": problem})


@login_required
@require_POST
def headshot_estimate(request: HttpRequest) -> HttpResponse:
    """htmx: the live cost of the current choice, from the one pricing rule."""
    team_id = _current_team_id(request)
    context = _estimate_context(request, team_id=team_id, choice=request.POST)
    if "estimate" in context:
        services.event_record(
            user=request.user,
            name=Event.Name.STYLE_SELECTED,
            data={"style": context["estimate"].style.slug},
        )
    return render(request, "headshots/_estimate.html", context)


@login_required
def headshot_gallery(request: HttpRequest) -> HttpResponse:
    filters = {
        "favorite": True if request.GET.get("favorite") == "1" else None,
        "status": request.GET.get("status") if request.GET.get("status") in Status.values else None,
        "style": request.GET.get("style") or None,
    }
    page = Paginator(selectors.headshot_list(user=request.user, filters=filters), 12).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "headshots/gallery.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Status.choices,
            "styles": selectors.styles_active(),
        },
    )


def _detail_context(request: HttpRequest, generation_id: int) -> dict:
    generation = selectors.headshot_get(user=request.user, generation_id=generation_id)
    return {
        "generation": generation,
        "images": [
            (image, files.file_url(image.image), files.file_url(image.thumbnail))
            for image in generation.images.all()
        ],
        "original_url": files.file_url(generation.source)
        if generation.source and not generation.source_deleted_at
        else None,
        "retention_minutes": site_settings().retention_minutes,
    }


@login_required
def headshot_detail(request: HttpRequest, generation_id: int) -> HttpResponse:
    template = "headshots/_progress.html" if request.htmx else "headshots/detail.html"
    return render(request, template, _detail_context(request, generation_id))


@login_required
@require_POST
def headshot_favorite(request: HttpRequest, generation_id: int) -> HttpResponse:
    generation = selectors.headshot_get(user=request.user, generation_id=generation_id)
    services.headshot_set_favorite(
        user=request.user, generation_id=generation.pk, favorite=not generation.is_favorite
    )
    return render(
        request,
        "headshots/_favorite.html",
        {"generation": selectors.headshot_get(user=request.user, generation_id=generation_id)},
    )


@login_required
@require_POST
def headshot_retry(request: HttpRequest, generation_id: int) -> HttpResponse:
    try:
        services.headshot_retry(user=request.user, generation_id=generation_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("headshots:detail", generation_id=generation_id)


@login_required
@require_POST
def headshot_delete(request: HttpRequest, generation_id: int) -> HttpResponse:
    try:
        services.headshot_delete(user=request.user, generation_id=generation_id)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("headshots:detail", generation_id=generation_id)
    messages.success(request, "Deleted.")
    return redirect("headshots:gallery")


def file_serve(request: HttpRequest, token: str) -> HttpResponse:
    """A signed, expiring URL to a private file on local disk (S3 presigns its own)."""
    name = files.file_name_from_token(token)
    if not name or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


def shared_image(request: HttpRequest, token: str) -> HttpResponse:
    image_id = files.image_id_from_share_token(
        token, max_age_seconds=settings.HEADSHOT_SHARE_LINK_HOURS * 3600
    )
    image = selectors.image_shared(image_id=image_id) if image_id else None
    if image is None:
        return render(request, "headshots/shared.html", {"image": None}, status=404)
    return render(
        request, "headshots/shared.html", {"image": image, "url": files.file_url(image.image)}
    )


@login_required
def team_styles(request: HttpRequest, team_id: int) -> HttpResponse:
    """Team admin: which styles members may use, and one backdrop for the whole team."""
    team = teams_selectors.team_get_for_admin(user=request.user, team_id=team_id)
    policy = selectors.style_policy_for_team(team=team)
    if request.method == "POST":
        try:
            services.team_style_policy_set(
                actor=request.user,
                team_id=team.id,
                style_slugs=request.POST.getlist("styles"),
                backdrop=request.POST.get("backdrop", ""),
                backdrop_color=request.POST.get("backdrop_color", ""),
                backdrop_image=request.FILES.get("backdrop_image"),
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, "Brand settings saved. They apply to every new generation in the team."
            )
            return redirect("headshots:team-styles", team_id=team.id)
    allowed = {s.pk for s in policy.allowed_styles.all()} if policy else set()
    return render(
        request,
        "headshots/team_styles.html",
        {
            "team": team,
            "policy": policy,
            "styles": selectors.styles_active(),
            "allowed": allowed,
            "backdrops": Backdrop.choices,
        },
    )
