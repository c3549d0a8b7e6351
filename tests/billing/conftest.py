from tests.billing.fixtures import (  # noqa: F401 - fixtures for every billing test
    _fake_stripe_server,
    _stripe_never_reaches_the_internet,
    fake_stripe,
    no_stripe_keys,
    packages,
    webhook_endpoint,
)
