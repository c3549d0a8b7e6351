"""Every page passes axe-core's checks (WCAG 2 A/AA and best practices: contrast, names
of controls and progress bars, table headers, heading order...), signed out and signed
in, on a desktop and on a phone. axe-core runs inside the page, from the copy bundled in
axe-playwright-python; nothing is fetched."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.test_ux import NARROWEST, acme, page_walk  # noqa: F401  (acme: fixture)

pytestmark = pytest.mark.django_db(transaction=True)
DESKTOP = {"width": 1280, "height": 900}


def _violations(result) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, NARROWEST], ids=["desktop", "phone"])
def test_every_page_passes_axe(browser, live_server, login, acme, viewport):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    axe = Axe()
    signed_out, signed_in = page_walk(acme)
    found = {}
    for n, path in enumerate(signed_out + signed_in):
        if n == len(signed_out):
            login(page, acme["admin"])
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations = _violations(axe.run(page))
        if violations:
            found[f"{'in' if n >= len(signed_out) else 'out'} {path}"] = violations
    context.close()
    assert found == {}
