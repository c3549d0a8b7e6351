"""Team, membership, invitation and team-credit endpoints. Thin: validate, call, serialise."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import TextField, amount_field, created, id_field, idempotency_key, paginated
from credits import selectors as credits_selectors
from teams import selectors, services
from teams.models import Role


class TeamOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="team.id")
    name = serializers.CharField(source="team.name")
    slug = serializers.CharField(source="team.slug")
    is_personal = serializers.BooleanField(source="team.is_personal")
    role = serializers.CharField()


class TeamListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = TextField(max_length=100)

    @extend_schema(responses=TeamOutputSerializer(many=True))
    def get(self, request):
        return paginated(
            request=request,
            view=self,
            queryset=selectors.memberships_for_user(user=request.user),
            serializer_class=TeamOutputSerializer,
        )

    @extend_schema(request=InputSerializer, responses={201: TeamOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(name=data.validated_data["name"], creator=request.user)
        membership = selectors.membership_get(user=request.user, team_id=team.id)
        return created(TeamOutputSerializer(membership).data)


class MemberOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="membership.user_id")
    email = serializers.EmailField(source="membership.user.email")
    name = serializers.CharField(source="membership.user.display_name")
    role = serializers.CharField(source="membership.role")
    joined_at = serializers.DateTimeField(source="membership.created_at")
    balance = serializers.IntegerField(allow_null=True)
    held = serializers.IntegerField(
        allow_null=True, help_text="Set aside by the member's running jobs (not in `balance`)."
    )
    spent = serializers.IntegerField(allow_null=True)


class TeamMembersApi(APIView):
    @extend_schema(responses=MemberOutputSerializer(many=True))
    def get(self, request, team_id: int):
        """Members with their role; balances are shown to admins (and each member their own)."""
        membership = selectors.membership_get(user=request.user, team_id=team_id)
        rows = selectors.team_members_visible(membership=membership)
        return paginated(
            request=request, view=self, queryset=rows, serializer_class=MemberOutputSerializer
        )


class TeamMemberApi(APIView):
    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices)

    @extend_schema(request=InputSerializer, responses=MemberOutputSerializer)
    def patch(self, request, team_id: int, user_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_set_role(
            actor=request.user, team_id=team_id, user_id=user_id, role=data.validated_data["role"]
        )
        allocation = credits_selectors.allocation_member(
            team_id=membership.team_id, user_id=user_id
        )
        row = selectors.MemberCredits(membership, allocation.balance, None, allocation.held)
        return Response(MemberOutputSerializer(row).data)

    @extend_schema(responses={204: None})
    def delete(self, request, team_id: int, user_id: int):
        services.membership_remove(actor=request.user, team_id=team_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RemovalOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    removed_by_id = serializers.IntegerField(allow_null=True)
    removed_at = serializers.DateTimeField()


class TeamRemovalsApi(APIView):
    """Who the team's admins removed: invite links refuse them, an invitation lets them back."""

    @extend_schema(responses=RemovalOutputSerializer(many=True))
    def get(self, request, team_id: int):
        team = selectors.team_get_for_admin(user=request.user, team_id=team_id)
        return paginated(
            request=request,
            view=self,
            queryset=selectors.team_removals(team=team),
            serializer_class=RemovalOutputSerializer,
        )


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    credits = serializers.IntegerField(
        help_text="Given from the team pool on acceptance, while the pool has them."
    )
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class TeamInvitationsApi(APIView):
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)
        credits = serializers.IntegerField(
            min_value=0, max_value=services.STARTING_CREDITS_MAX, default=0
        )

    @extend_schema(responses=InvitationOutputSerializer(many=True))
    def get(self, request, team_id: int):
        team = selectors.team_get_for_admin(user=request.user, team_id=team_id)
        return paginated(
            request=request,
            view=self,
            queryset=selectors.team_pending_invitations(team=team),
            serializer_class=InvitationOutputSerializer,
        )

    @extend_schema(request=InputSerializer, responses={201: InvitationOutputSerializer})
    def post(self, request, team_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            actor=request.user, team_id=team_id, **data.validated_data
        )
        return created(InvitationOutputSerializer(invitation).data)


class InvitationAcceptApi(APIView):
    @extend_schema(request=None, responses=TeamOutputSerializer)
    def post(self, request, key: str):
        joined = services.invitation_accept(key=key, user=request.user)
        return Response(TeamOutputSerializer(joined.membership).data)


class InviteLinkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    allowed_domain = serializers.CharField()
    max_uses = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()
    credits_each = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    def get_url(self, link) -> str:
        return services.invite_link_url(link)


class TeamInviteLinksApi(APIView):
    class InputSerializer(serializers.Serializer):
        allowed_domain = TextField(max_length=253, required=False, allow_blank=True, default="")
        max_uses = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            min_value=1,
            max_value=services.INVITE_LINK_MAX_USES,
        )
        days = serializers.IntegerField(
            required=False, default=7, min_value=1, max_value=services.INVITE_LINK_MAX_DAYS
        )
        credits_each = serializers.IntegerField(
            required=False,
            default=0,
            min_value=0,
            max_value=services.STARTING_CREDITS_MAX,
            help_text="Credits moved from the pool to each person who joins, while it lasts.",
        )

    @extend_schema(responses=InviteLinkOutputSerializer(many=True))
    def get(self, request, team_id: int):
        """The team's open invite links (admin): not turned off, newest first."""
        team = selectors.team_get_for_admin(user=request.user, team_id=team_id)
        return paginated(
            request=request,
            view=self,
            queryset=selectors.team_invite_links(team=team),
            serializer_class=InviteLinkOutputSerializer,
        )

    @extend_schema(request=InputSerializer, responses={201: InviteLinkOutputSerializer})
    def post(self, request, team_id: int):
        """A link anyone can use to join as a member, within a domain, a use cap and days."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.invite_link_create(
            actor=request.user, team_id=team_id, **data.validated_data
        )
        return created(InviteLinkOutputSerializer(link).data)


class TeamInviteLinkApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, team_id: int, link_id: int):
        services.invite_link_revoke(actor=request.user, team_id=team_id, link_id=link_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InviteLinkJoinApi(APIView):
    @extend_schema(request=None, responses=TeamOutputSerializer)
    def post(self, request, key: str):
        """Join the link's team as a member; joining a team you are in changes nothing."""
        joined = services.invite_link_join(key=key, user=request.user)
        return Response(TeamOutputSerializer(joined.membership).data)


# --- team credits ---------------------------------------------------------------------------


class TeamCreditsOutputSerializer(serializers.Serializer):
    team_id = serializers.IntegerField(source="team.id")
    pool = serializers.IntegerField()
    allocated = serializers.IntegerField()
    low_balance = serializers.BooleanField()
    members = MemberOutputSerializer(many=True)


class MovementOutputSerializer(serializers.Serializer):
    transaction_id = serializers.IntegerField(source="transaction.id")
    kind = serializers.CharField(source="transaction.kind")
    memo = serializers.CharField(source="transaction.memo")
    replayed = serializers.SerializerMethodField()
    pool = serializers.SerializerMethodField()

    def get_replayed(self, movement) -> bool:
        return not movement.created

    def get_pool(self, movement) -> int:
        return credits_selectors.balance_pool(team_id=movement.transaction.team_id)


class TeamCreditsApi(APIView):
    @extend_schema(responses=TeamCreditsOutputSerializer)
    def get(self, request, team_id: int):
        team = selectors.team_get_for_admin(user=request.user, team_id=team_id)
        return Response(TeamCreditsOutputSerializer(selectors.team_credit_overview(team=team)).data)


class TeamCreditsAllocateApi(APIView):
    class InputSerializer(serializers.Serializer):
        user_id = id_field()
        amount = amount_field()

    @extend_schema(request=InputSerializer, responses={201: MovementOutputSerializer})
    def post(self, request, team_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        movement = services.team_credits_allocate(
            actor=request.user, team_id=team_id, key=idempotency_key(request), **data.validated_data
        )
        return created(MovementOutputSerializer(movement).data)


class TeamCreditsAutoDistributeApi(APIView):
    @extend_schema(request=None, responses={201: MovementOutputSerializer})
    def post(self, request, team_id: int):
        movement = services.team_credits_auto_distribute(
            actor=request.user, team_id=team_id, key=idempotency_key(request)
        )
        return created(MovementOutputSerializer(movement).data)


class TeamCreditsReassignApi(APIView):
    class InputSerializer(serializers.Serializer):
        from_user_id = id_field()
        to_user_id = id_field()
        amount = amount_field()

    @extend_schema(request=InputSerializer, responses={201: MovementOutputSerializer})
    def post(self, request, team_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        movement = services.team_credits_reassign(
            actor=request.user, team_id=team_id, key=idempotency_key(request), **data.validated_data
        )
        return created(MovementOutputSerializer(movement).data)


# --- team API keys --------------------------------------------------------------------------


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_by_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreatedOutputSerializer(ApiKeyOutputSerializer):
    key = serializers.CharField(help_text="The full key. Shown once: only its hash is stored.")


class TeamApiKeysApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = TextField(max_length=100)

    @extend_schema(responses=ApiKeyOutputSerializer(many=True))
    def get(self, request, team_id: int):
        """The team's keys, active and revoked, without their secrets (admins only)."""
        return paginated(
            request=request,
            view=self,
            queryset=selectors.team_api_key_list(user=request.user, team_id=team_id),
            serializer_class=ApiKeyOutputSerializer,
        )

    @extend_schema(request=InputSerializer, responses={201: ApiKeyCreatedOutputSerializer})
    def post(self, request, team_id: int):
        """A new key; the response carries the plaintext `key`, which is never shown again."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, plaintext = services.team_api_key_create(
            actor=request.user, team_id=team_id, name=data.validated_data["name"]
        )
        return created({**ApiKeyOutputSerializer(key).data, "key": plaintext})


class TeamApiKeyApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, team_id: int, key_id: int):
        services.team_api_key_revoke(actor=request.user, team_id=team_id, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
