"""The credit ledger: accounts, transactions of balanced entries, and holds.

Accounts refer to teams and users by id only, so this app depends on no other app of
ours. Rows here are append-only except an account's cached `balance` and `held` and a
hold's settled amounts, which only credits.services writes, under a row lock.

A hold is a reservation on the member's own account, not a movement: `balance` is what
can still be spent, `held` what running jobs have set aside, and the account's entries
sum to `balance + held`. Capture posts member -> spend for what was delivered and lowers
`held`; release moves the rest from `held` back to `balance` and posts nothing.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class AccountKind(models.TextChoices):
    POOL = "pool", "Team pool"
    MEMBER = "member", "Member allocation"
    SYSTEM = "system", "System"


class SystemAccount(models.TextChoices):
    """Where credits come from and go to; their balances run negative by design."""

    PURCHASES = "purchases", "Purchases"
    PROMOTIONS = "promotions", "Promotions and bonuses"
    # Held credits stay on the member's account now (`Account.held`); this account only
    # carries the entries of holds made before that (migration 0005 emptied it).
    HOLDS = "holds", "Held for running jobs"
    SPEND = "spend", "Spent on generations"
    ADJUSTMENTS = "adjustments", "Manual adjustments"


class Account(models.Model):
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    team_id = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system_code = models.CharField(max_length=20, choices=SystemAccount.choices, blank=True)
    # What can be spent now; `held` is set aside by open holds (see the module docstring).
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="system") | Q(balance__gte=0),
                name="credits_account_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(held__gte=0), name="credits_account_held_not_negative"
            ),
            models.UniqueConstraint(
                fields=["team_id"], condition=Q(kind="pool"), name="credits_one_pool_per_team"
            ),
            models.UniqueConstraint(
                fields=["team_id", "user"],
                condition=Q(kind="member"),
                name="credits_one_allocation_per_member",
            ),
            models.UniqueConstraint(
                fields=["system_code"],
                condition=Q(kind="system"),
                name="credits_one_system_account",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.SYSTEM:
            return f"system:{self.system_code}"
        if self.kind == AccountKind.POOL:
            return f"pool:team{self.team_id}"
        return f"member:team{self.team_id}:user{self.user_id}"


class Category(models.TextChoices):
    """What a movement is for; the history filter a member sees."""

    PURCHASE = "purchase", "Purchase"
    ALLOCATION = "allocation", "Allocation"
    HEADSHOT = "headshot", "Headshot"
    CHARACTER = "character", "Character"
    REFUND = "refund", "Refund"
    REWARD = "reward", "Reward"
    BONUS = "bonus", "Bonus"
    ADJUSTMENT = "adjustment", "Adjustment"


class Kind(models.TextChoices):
    """The mechanical kind of movement."""

    GRANT = "grant", "Grant"
    ALLOCATE = "allocate", "Allocate"
    AUTO_DISTRIBUTE = "auto_distribute", "Auto-distribute"
    REASSIGN = "reassign", "Reassign"
    RETURN = "return", "Return to pool"
    HOLD = "hold", "Hold"
    CAPTURE = "capture", "Capture"
    RELEASE = "release", "Release"
    REFUND = "refund", "Refund"
    ADJUST = "adjust", "Adjust"
    CLAWBACK = "clawback", "Claw back"


class Transaction(models.Model):
    """One movement; its entries sum to zero. The key makes every movement happen once.

    Every index here is written by every movement (a hold is the busiest write of the
    product), so each one is here for a read that needs it: the key for idempotency,
    team_id for the team's history and spend, created_at for the staff metrics' ranges,
    actor_id for a user's spend. Nothing reads by category or reference alone (they only
    narrow rows found by another index), and nothing does a LIKE 'prefix%' on them, so
    they have no index, and the key's unique constraint comes without Django's extra
    varchar_pattern_ops index.
    """

    idempotency_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    team_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    memo = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # The name is PostgreSQL's for `unique=True`; credits.services recognises a lost
            # same-key race by it.
            models.UniqueConstraint(
                fields=["idempotency_key"], name="credits_transaction_idempotency_key_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.idempotency_key}"


class Entry(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    # (account, transaction) below would serve every read by account, but with this one
    # gone the planner reads a member's history by a bitmap scan of that index, which
    # tests/common/test_growth_plans.py does not accept yet: kept until it does.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()

    class Meta:
        verbose_name_plural = "entries"
        indexes = [models.Index(fields=["account", "-transaction"], name="credits_entry_acct_tx")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="credits_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} on {self.account_id}"


class Hold(models.Model):
    """Credits set aside on a member's account for a running job; later captured (spent)
    or released. Its key makes each hold happen once."""

    key = models.CharField(max_length=200)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    category = models.CharField(max_length=20, choices=Category.choices)
    reference = models.CharField(max_length=100, blank=True)
    # What the job is ("Headshots: Corporate, 2 image(s)"): the memo of its captures.
    memo = models.CharField(max_length=300, blank=True)
    amount = models.BigIntegerField()
    captured = models.BigIntegerField(default=0)
    released = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(captured__gte=0)
                & Q(released__gte=0)
                & Q(captured__lte=models.F("amount") - models.F("released")),
                name="credits_hold_settles_within_amount",
            ),
            # Unique without a varchar_pattern_ops twin (see Transaction); the name is
            # PostgreSQL's for `unique=True`, which credits.services recognises.
            models.UniqueConstraint(fields=["key"], name="credits_hold_key_key"),
        ]

    def __str__(self) -> str:
        return f"hold {self.key}: {self.amount}"

    @property
    def outstanding(self) -> int:
        return self.amount - self.captured - self.released


class Debt(models.Model):
    """Credits a refunded purchase should have taken back but that were already spent."""

    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="debt")
    team_id = models.BigIntegerField(db_index=True)
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"team {self.team_id} owes {self.amount}"
