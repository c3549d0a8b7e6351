"""The credits dashboard (htmx, in place), the buy buttons and Stripe's success page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from billing import selectors, services, stripe_gateway
from billing.forms import AllocateForm, DistributeForm, ReassignForm
from common.errors import ApplicationError, Forbidden
from credits import selectors as credits_selectors
from teams import selectors as teams_selectors
from teams import services as teams_services


def _member_choices(overview) -> list[tuple[int, str]]:
    return [
        (row.membership.user_id, f"{row.membership.user.display_name} ({row.balance})")
        for row in overview.members
    ]


def _manage_context(request: HttpRequest, membership, **forms) -> dict:
    """What the admin's in-place panel shows: balances, members, the forms and the log."""
    team = membership.team
    overview = teams_selectors.team_credit_overview(team=team)
    members = _member_choices(overview)
    log_page, log_rows = selectors.team_movement_log(team=team, page=request.GET.get("log_page"))
    member_count = len(overview.members)
    return {
        "team": team,
        "membership": membership,
        "overview": overview,
        "share": overview.pool // member_count if member_count else 0,
        "allocate_form": forms.get("allocate_form") or AllocateForm(members=members),
        "reassign_form": forms.get("reassign_form") or ReassignForm(members=members),
        "distribute_form": forms.get("distribute_form") or DistributeForm(),
        "distribute_error": forms.get("distribute_error"),
        "log_page": log_page,
        "log_rows": log_rows,
        "low_balance_threshold": settings.CREDITS_LOW_BALANCE_WARNING,
    }


def _buy_context(request: HttpRequest, membership) -> dict:
    purchases = selectors.paginate(
        selectors.payments_for_team(team_id=membership.team_id),
        page=request.GET.get("purchases_page"),
        per_page=selectors.PURCHASES_PAGE_SIZE,
    )
    packages = list(selectors.package_list())
    return {
        # Pack prices come from the same function checkout charges with.
        "offers": [
            (p, None if p.is_custom else selectors.checkout_quote(package=p)) for p in packages
        ],
        "stripe_missing": stripe_gateway.stripe_missing_setting(),
        "stripe_message": stripe_gateway.PAYMENTS_OFF_MESSAGE,
        "stripe_operator_hint": stripe_gateway.stripe_not_configured_message()
        if request.user.is_staff
        else "",
        "purchases": purchases,
    }


def _member_context(request: HttpRequest, membership) -> dict:
    page, rows = selectors.member_history(
        team=membership.team, user=request.user, page=request.GET.get("history_page")
    )
    allocation = credits_selectors.allocation_member(
        team_id=membership.team_id, user_id=request.user.id
    )
    spent = credits_selectors.spent_by_team_members(team_id=membership.team_id)
    return {
        "spent": spent.get(request.user.id, 0),
        "team": membership.team,
        "membership": membership,
        "balance": allocation.balance,
        "held": allocation.held,
        "history_page": page,
        "history_rows": rows,
        "low_balance": credits_selectors.is_low(allocation.balance),
    }


@login_required
@require_GET
def team_credits(request: HttpRequest, team_id: int) -> HttpResponse:
    """Admins manage the pool; a plain member sees only their own balance and history."""
    membership = teams_selectors.membership_get(user=request.user, team_id=team_id)
    if membership.is_admin and not membership.team.is_personal:
        context = _manage_context(request, membership) | _buy_context(request, membership)
    elif membership.is_admin:
        context = _member_context(request, membership) | _buy_context(request, membership)
    else:
        context = _member_context(request, membership)
    if request.GET.get("checkout") == "cancelled":
        messages.info(request, "Checkout cancelled: nothing was charged.")
    return render(request, "billing/dashboard.html", context)


def _admin_membership(request: HttpRequest, team_id: int):
    """The actor's membership if they administer a shared team: outsiders 404, members 403."""
    membership = teams_selectors.membership_get(user=request.user, team_id=team_id)
    if not membership.is_admin:
        raise Forbidden("Only a team admin can do this.")
    if membership.team.is_personal:
        raise Forbidden("A personal team has no members to hand credits to.")
    return membership


def _panel_response(request: HttpRequest, membership, **forms) -> HttpResponse:
    """htmx: the panel, re-rendered in place. A plain post: back to the page (PRG), or the
    page with the form's errors."""
    failed = any(forms.values())
    if request.htmx:
        return render(
            request, "billing/_manage.html", _manage_context(request, membership, **forms)
        )
    if not failed:
        return redirect("billing:team", team_id=membership.team_id)
    context = _manage_context(request, membership, **forms) | _buy_context(request, membership)
    return render(request, "billing/dashboard.html", context, status=400)


def _action_key(request: HttpRequest, form) -> str:
    return f"page:{request.user.id}:{form.cleaned_data['key']}"


@login_required
@require_POST
def team_credits_allocate(request: HttpRequest, team_id: int) -> HttpResponse:
    membership = _admin_membership(request, team_id)
    overview = teams_selectors.team_credit_overview(team=membership.team)
    form = AllocateForm(request.POST, members=_member_choices(overview))
    if form.is_valid():
        try:
            teams_services.team_credits_allocate(
                actor=request.user,
                team_id=team_id,
                user_id=form.cleaned_data["user_id"],
                amount=form.cleaned_data["amount"],
                key=_action_key(request, form),
            )
        except ApplicationError as error:
            form.add_error("amount", error.message)
        else:
            messages.success(request, f"Allocated {form.cleaned_data['amount']:,} credits.")
            return _panel_response(request, membership)
    return _panel_response(request, membership, allocate_form=form)


@login_required
@require_POST
def team_credits_reassign(request: HttpRequest, team_id: int) -> HttpResponse:
    membership = _admin_membership(request, team_id)
    overview = teams_selectors.team_credit_overview(team=membership.team)
    form = ReassignForm(request.POST, members=_member_choices(overview))
    if form.is_valid():
        try:
            teams_services.team_credits_reassign(
                actor=request.user,
                team_id=team_id,
                from_user_id=form.cleaned_data["from_user_id"],
                to_user_id=form.cleaned_data["to_user_id"],
                amount=form.cleaned_data["amount"],
                key=_action_key(request, form),
            )
        except ApplicationError as error:
            form.add_error("amount", error.message)
        else:
            messages.success(request, f"Moved {form.cleaned_data['amount']:,} credits.")
            return _panel_response(request, membership)
    return _panel_response(request, membership, reassign_form=form)


@login_required
@require_POST
def team_credits_distribute(request: HttpRequest, team_id: int) -> HttpResponse:
    membership = _admin_membership(request, team_id)
    form = DistributeForm(request.POST)
    if not form.is_valid():
        return _panel_response(request, membership, distribute_form=form)
    try:
        movement = teams_services.team_credits_auto_distribute(
            actor=request.user, team_id=team_id, key=_action_key(request, form)
        )
    except ApplicationError as error:
        return _panel_response(
            request, membership, distribute_form=form, distribute_error=error.message
        )
    messages.success(request, movement.transaction.memo + ".")
    return _panel_response(request, membership)


@login_required
@require_GET
def team_credits_log(request: HttpRequest, team_id: int) -> HttpResponse:
    """One page of the movement log (htmx pagination); admins only."""
    membership = _admin_membership(request, team_id)
    page, rows = selectors.team_movement_log(team=membership.team, page=request.GET.get("log_page"))
    return render(
        request, "billing/_log.html", {"team": membership.team, "log_page": page, "log_rows": rows}
    )


@login_required
@require_GET
def team_credits_quote(request: HttpRequest, team_id: int) -> HttpResponse:
    """The price of a custom quantity, as the buyer types it (the same function checkout uses)."""
    teams_selectors.team_get_for_admin(user=request.user, team_id=team_id)
    try:
        package = selectors.package_get_active(slug=request.GET.get("package", ""))
        raw = request.GET.get("quantity", "").strip()
        quantity = int(raw) if raw.lstrip("-").isdigit() else None
        quote = selectors.checkout_quote(package=package, quantity=quantity)
    except ApplicationError as error:
        return render(request, "billing/_quote.html", {"error": error.message})
    return render(request, "billing/_quote.html", {"quote": quote})


@login_required
@require_POST
def team_credits_checkout(request: HttpRequest, team_id: int) -> HttpResponse:
    """A buy button: create the Stripe Checkout Session and send the browser to it."""
    raw = request.POST.get("quantity", "").strip()
    try:
        quantity = int(raw) if raw else None
    except ValueError:
        messages.error(request, "Enter a whole number of credits.")
        return redirect("billing:team", team_id=team_id)
    try:
        checkout = services.checkout_create(
            actor=request.user,
            team_id=team_id,
            package_slug=request.POST.get("package", ""),
            quantity=quantity,
            site_url=request.build_absolute_uri("/"),
        )
    except ApplicationError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
        return redirect("billing:team", team_id=team_id)
    return redirect(checkout.url)


@login_required
@require_GET
def checkout_success(request: HttpRequest) -> HttpResponse:
    """Stripe sends the buyer back here; fulfil now in case the webhook is late or lost."""
    result = services.payment_reconcile_for_user(
        user=request.user, session_id=request.GET.get("session_id", "")
    )
    return render(request, "billing/success.html", {"result": result})
