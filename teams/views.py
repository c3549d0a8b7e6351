"""Team pages: list and create, the switcher, members and invitations (htmx in place)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common.errors import ApplicationError
from teams import selectors, services
from teams.models import Role


class TeamCreateForm(forms.Form):
    name = forms.CharField(max_length=100)


def _starting_credits_field(*, label: str, help_text: str) -> forms.IntegerField:
    """What a newcomer gets from the pool: an invitation's and an invite link's."""
    return forms.IntegerField(
        required=False,
        min_value=0,
        max_value=services.STARTING_CREDITS_MAX,
        initial=0,
        label=label,
        help_text=help_text,
    )


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    credits = _starting_credits_field(
        label="Starting credits",
        help_text="From the team pool when they accept, while it has them.",
    )


class InviteLinkForm(forms.Form):
    allowed_domain = forms.CharField(
        required=False,
        max_length=253,
        label="Only for addresses at",
        help_text="A domain like acme.com (a confirmed address there), or empty for anyone.",
    )
    max_uses = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=services.INVITE_LINK_MAX_USES,
        label="Uses",
        help_text="Empty for no cap.",
    )
    days = forms.IntegerField(
        min_value=1, max_value=services.INVITE_LINK_MAX_DAYS, initial=7, label="Open for (days)"
    )
    credits_each = _starting_credits_field(
        label="Credits each", help_text="From the pool to each newcomer, while it lasts."
    )


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    form = TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(name=form.cleaned_data["name"], creator=request.user)
        except ApplicationError as error:
            form.add_error("name", error.message)
        else:
            request.session["team_id"] = team.id
            messages.success(request, f"Team {team.name} created. Invite your people next.")
            return redirect("teams:detail", team_id=team.id)
    return render(request, "teams/list.html", {"form": form})


@login_required
@require_POST
def team_switch(request: HttpRequest) -> HttpResponse:
    try:
        team = selectors.team_get_for_member(user=request.user, team_id=request.POST.get("team_id"))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        request.session["team_id"] = team.id
    target = request.POST.get("next", "")
    # Only a path on this site: never off-site, and never a bare word that `redirect` would
    # try to reverse as a URL name (`next` comes from the form, so anyone can change it).
    local = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(target) if local else redirect("home")


REMOVALS_SHOWN = 50  # the most recent; the API pages through all of them


def _members_context(request: HttpRequest, team_id: int, *, form=None, link_form=None) -> dict:
    membership = selectors.membership_get(user=request.user, team_id=team_id)
    team = membership.team
    overview = selectors.team_credit_overview(team=team)
    context = {
        "team": team,
        "membership": membership,
        "overview": overview,
        "invite_form": form or InviteForm(),
        "roles": Role.choices,
        "admin_count": sum(1 for row in overview.members if row.membership.is_admin),
    }
    if membership.is_admin:
        context["invitations"] = list(selectors.team_pending_invitations(team=team))
        context["link_form"] = link_form or InviteLinkForm()
        context["invite_links"] = [
            (link, services.invite_link_url(link))
            for link in selectors.team_invite_links(team=team)
        ]
        context["removals"] = list(selectors.team_removals(team=team)[:REMOVALS_SHOWN])
    return context


def _members_response(request: HttpRequest, team_id: int, **kwargs) -> HttpResponse:
    template = "teams/_members.html" if request.htmx else "teams/detail.html"
    return render(request, template, _members_context(request, team_id, **kwargs))


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    return _members_response(request, team_id)


@login_required
@require_POST
def team_invite(request: HttpRequest, team_id: int) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                actor=request.user, team_id=team_id, **form.cleaned_data
            )
        except ApplicationError as error:
            form.add_error("email", error.message)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            form = None
    return _members_response(request, team_id, form=form)


@login_required
@require_POST
def team_invitation_revoke(request: HttpRequest, team_id: int, invitation_id: int) -> HttpResponse:
    try:
        services.invitation_revoke(actor=request.user, team_id=team_id, invitation_id=invitation_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    return _members_response(request, team_id)


@login_required
@require_POST
def team_invite_link_create(request: HttpRequest, team_id: int) -> HttpResponse:
    form = InviteLinkForm(request.POST)
    if form.is_valid():
        try:
            services.invite_link_create(actor=request.user, team_id=team_id, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Invite link created. Copy it and share it with your team.")
            form = None
    return _members_response(request, team_id, link_form=form)


@login_required
@require_POST
def team_invite_link_revoke(request: HttpRequest, team_id: int, link_id: int) -> HttpResponse:
    try:
        services.invite_link_revoke(actor=request.user, team_id=team_id, link_id=link_id)
    except ApplicationError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, "Invite link turned off. Nobody can join with it any more.")
    return _members_response(request, team_id)


@login_required
@require_POST
def team_member_role(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    try:
        changed = services.membership_set_role(
            actor=request.user, team_id=team_id, user_id=user_id, role=request.POST.get("role", "")
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return _members_response(request, team_id)
    role = changed.get_role_display().lower()
    role = f"an {role}" if role[0] in "aeiou" else f"a {role}"
    if changed.user_id == request.user.id:
        messages.success(request, f"You are now {role} of this team.")
        # The whole page changes with the actor's role (tabs, forms): reload it.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    messages.success(request, f"{changed.user.display_name} is now {role}.")
    return _members_response(request, team_id)


@login_required
@require_POST
def team_member_remove(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    try:
        services.membership_remove(actor=request.user, team_id=team_id, user_id=user_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Member removed; their unspent credits went back to the pool. Invite links will "
            "not let them back in; an invitation will.",
        )
    return _members_response(request, team_id)


def invitation(request: HttpRequest, key: str) -> HttpResponse:
    """The link in the e-mail: shows what it is, and accepts it for the right signed-in user."""
    found = selectors.invitation_by_key(key=key)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            joined = services.invitation_accept(key=key, user=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            request.session["team_id"] = joined.membership.team_id
            messages.success(request, _welcome(joined))
            return redirect("home")
    return render(
        request, "teams/invitation.html", {"invitation": found}, status=200 if found else 404
    )


def join(request: HttpRequest, key: str) -> HttpResponse:
    """An open invite link: shows the team and whether this person can join, and joins."""
    link = selectors.invite_link_by_key(key=key)
    if link is None:
        return render(request, "teams/join.html", {"link": None}, status=404)
    refusal = None
    if request.method == "POST" and request.user.is_authenticated:
        try:
            joined = services.invite_link_join(key=key, user=request.user)
        except ApplicationError as error:
            refusal = error
        else:
            request.session["team_id"] = joined.membership.team_id
            messages.success(request, _welcome(joined))
            return redirect("home")
    context = {"link": link, "already_member": False, "refusal": refusal}
    if request.user.is_authenticated:
        context["already_member"] = selectors.is_team_member(
            user_id=request.user.id, team_id=link.team_id
        )
        context["refusal"] = refusal or services.invite_link_refusal(link=link, user=request.user)
    return render(request, "teams/join.html", context, status=refusal.status if refusal else 200)


def _welcome(joined: services.TeamJoin) -> str:
    team = joined.membership.team.name
    if not joined.joined:
        return f"You are already a member of {team}."
    if joined.credits_given:
        return f"Welcome to {team}. You have {joined.credits_given} credits to start."
    if joined.credits_offered:
        return (
            f"Welcome to {team}. The team pool could not cover your starting credits: "
            "ask a team admin for some."
        )
    return f"Welcome to {team}."
