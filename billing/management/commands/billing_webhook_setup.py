"""Create the Stripe webhook endpoint for this site and print what to configure."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator

from billing import services, stripe_gateway
from common.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create (through dj-stripe) the Stripe webhook endpoint that delivers checkout and "
        "refund events to this site, store its signing secret, and print its URL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--url",
            required=True,
            help="The site's public base URL, e.g. https://studio.example.com",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Create a new endpoint even if one exists for this URL (e.g. after a key change).",
        )

    def handle(self, *args, url: str, force: bool, **options) -> None:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise CommandError(
                f"{url!r} is not a URL; pass e.g. --url https://studio.example.com"
            ) from None
        if not url.startswith("https://"):
            self.stderr.write(self.style.WARNING("Stripe delivers live events to https URLs only."))
        try:
            setup = services.webhook_endpoint_setup(base_url=url, force=force)
        except ApplicationError as error:
            # An operator runs this: name the setting, not the buyer's message.
            missing = error.code == "stripe_not_configured"
            message = stripe_gateway.stripe_not_configured_message() if missing else error.message
            raise CommandError(message) from error
        endpoint = setup.endpoint
        if setup.created:
            self.stdout.write(self.style.SUCCESS(f"Created Stripe webhook endpoint {endpoint.id}."))
        else:
            self.stdout.write(
                f"A webhook endpoint for this URL already exists ({endpoint.id}); "
                "pass --force to create a new one."
            )
        self.stdout.write(f"  URL:     {endpoint.url}")
        self.stdout.write(f"  Events:  {', '.join(endpoint.enabled_events or [])}")
        self.stdout.write(f"  Secret:  {endpoint.secret}")
        self.stdout.write(
            "The secret is stored on dj-stripe's WebhookEndpoint row (Django admin > "
            "dj-stripe > Webhook endpoints); nothing else needs setting. Make sure this URL "
            "reaches the app from the internet."
        )
