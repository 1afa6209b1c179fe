"""The web console in a real browser: Debian's chromium, driven by Playwright.

The app runs for real (uvicorn in a thread, on a loopback port chosen by the OS) over a
copy of the seeded sandbox with the offline planner and the fixed sandbox clock, and
the page talks to it exactly as an operator's browser would. Playwright's own browser
downloads are never used: ``make browser`` installs Debian's chromium, and without it
these tests are skipped.

Screenshots land in ``$ARBITER_SCREENSHOTS`` (default: a pytest temporary directory).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.app import create_app
from arbiter.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Read at import: the suite's autouse fixture clears ARBITER_* variables for each test.
SCREENSHOTS_ENV = os.environ.get("ARBITER_SCREENSHOTS")
RUNNING_SHOES = "I need running shoes size 10 under $120 that I can pick up today"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (run `make browser`)",
)

expect.set_options(timeout=10_000)


@dataclass(frozen=True)
class Served:
    """The running app: its base URL and one API key per role."""

    url: str
    keys: dict[str, str]


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    """The real app on 127.0.0.1, with the keys it wrote on start-up."""
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="arbiter-console-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the app did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    document = yaml.safe_load((settings.data_dir / "api-keys.yaml").read_text())
    try:
        yield Served(
            url=f"http://127.0.0.1:{port}",
            keys={entry["role"]: entry["key"] for entry in document["keys"]},
        )
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for the module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    """A fresh browser context on the app; any script error or console error fails the test."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=served.url)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    opened.on(
        "console",
        lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    try:
        yield opened
    finally:
        context.close()
    assert not problems, problems


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots are saved."""
    if SCREENSHOTS_ENV:
        path = Path(SCREENSHOTS_ENV)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def open_chat(page: Page, key: str, customer: str, channel: str = "shopper") -> None:
    page.goto("/console/")
    page.fill("#key", key)
    page.fill("#customer", customer)
    page.select_option("#channel", channel)


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.click("#send")


def open_operator(page: Page, key: str, view: str) -> None:
    page.goto(f"/console/operator.html#{view}")
    page.fill("#key", key)
    page.click("#who button[type=submit]")


def test_shopper_chat_shows_the_answer_and_its_decision(
    page: Page, served: Served, screenshots: Path
) -> None:
    open_chat(page, served.keys["storefront"], "C1001")
    say(page, RUNNING_SHOES)

    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".text")).to_contain_text("Stride Glide 5")
    expect(answer.locator(".text")).to_contain_text("RUN-00005")
    expect(answer.locator(".summary .tools")).to_contain_text("search_products")
    expect(answer.locator(".summary .tools")).to_contain_text("get_delivery_options")
    expect(answer.locator(".decision-link")).to_have_attribute(
        "href", re.compile(r"^operator\.html#decision/turn_")
    )
    expect(page.locator("#session-id")).to_have_text(re.compile(r"^ses_"))
    page.screenshot(path=screenshots / "chat.png", full_page=True)

    # Text from anyone is shown as text, never interpreted as markup.
    markup = '<img src=x onerror="window.injected=1"> hello'
    say(page, markup)
    expect(page.locator(".msg.user").last).to_have_text(markup)
    expect(page.locator(".msg.assistant")).to_have_count(2)
    assert page.locator("#log img").count() == 0
    assert page.evaluate("window.injected") is None


def test_operator_approves_a_copilot_refund_and_sees_it_executed(
    page: Page, served: Served, screenshots: Path
) -> None:
    open_chat(page, served.keys["support_agent"], "C1002", "copilot")
    say(page, "refund order O100004")
    waiting = page.locator(".msg.assistant.pending")
    expect(waiting).to_contain_text("Waiting for approval")
    expect(waiting.locator(".pending-approval")).to_contain_text("approval.copilot_writes")

    open_operator(page, served.keys["operator"], "approvals")
    card = page.locator("article.approval").filter(has_text="O100004")
    expect(card).to_contain_text("request refund")
    expect(card).to_contain_text("146.76")
    expect(card).to_contain_text("approval.copilot_writes")
    expect(page.locator("#pending-count")).to_have_text("1")
    page.screenshot(path=screenshots / "approvals-pending.png", full_page=True)
    card.locator("input.comment").fill("Checked against the order: the rest is refundable.")
    card.get_by_role("button", name="Approve").click()

    result = card.locator(".result")
    expect(result.locator(".text")).to_contain_text("has been issued")
    expect(result.locator(".text")).to_contain_text(re.compile(r"refund RF-\w+"))
    expect(result.locator(".summary .execution")).to_contain_text("request_refund")
    expect(result.locator(".summary .execution")).to_contain_text("executed")
    expect(result.locator(".summary .approval")).to_contain_text("allowed")
    expect(card.locator(".status")).to_have_text("approved")
    expect(page.locator("#pending-count")).to_be_hidden()
    page.screenshot(path=screenshots / "approvals.png", full_page=True)

    result.locator(".decision-link").click()
    view = page.locator("#decision-view")
    expect(view.locator("#record-turn-id")).to_have_text(re.compile(r"^turn_"))
    expect(view.locator(".final-text")).to_contain_text("has been issued")
    expect(view).to_contain_text("approval.copilot_writes")
    expect(view).to_contain_text("re-validated")
    expect(view).to_contain_text(re.compile(r"arb-turn_\w+-act_1"))  # the idempotency key
    expect(view).to_contain_text("operator:local-operator")
    expect(view).to_contain_text("await_approval")  # a step of the turn
    expect(view).to_contain_text("get_order")
    expect(view.get_by_text("verified", exact=True).first).to_be_visible()
    page.screenshot(path=screenshots / "decision.png", full_page=True)

    # Back in the copilot's conversation, the outcome is there.
    page.goto("/console/")
    expect(page.locator(".msg.assistant").last).to_contain_text("has been issued")
    expect(page.locator(".msg.assistant.pending")).to_have_count(0)


def test_kill_switch_from_the_console_denies_a_discount(
    page: Page, served: Served, screenshots: Path
) -> None:
    open_operator(page, served.keys["operator"], "kill-switch")
    expect(page.locator("#switch-list")).to_contain_text("Nothing is switched off")
    page.fill("#switch-scope", "action:offer_discount")
    page.fill("#switch-reason", "Discount abuse under review")
    page.get_by_role("button", name="Switch on").click()
    switch = page.locator('#switch-list tr[data-scope="action:offer_discount"]')
    expect(switch).to_contain_text("Discount abuse under review")
    expect(switch).to_contain_text("operator:local-operator")
    page.screenshot(path=screenshots / "kill-switch.png", full_page=True)

    open_chat(page, served.keys["storefront"], "C1001")
    say(page, "add RUN-00005 to my cart")
    expect(page.locator(".msg.assistant").last).to_contain_text("Added")
    say(page, "can I get 10% off RUN-00005?")
    expect(page.locator(".msg.assistant")).to_have_count(2)
    verdict = page.locator(".msg.assistant").last.locator(".summary .verdict")
    expect(verdict).to_contain_text("offer_discount")
    expect(verdict).to_contain_text("deny")
    expect(verdict).to_contain_text("system.kill_switch")
    expect(verdict).to_contain_text("paused by our team")
    expect(page.locator(".msg.assistant").last).not_to_contain_text("Discount abuse")
    expect(page.locator(".msg.assistant").last.locator(".summary .execution")).to_have_count(0)
    page.screenshot(path=screenshots / "chat-kill-switch.png", full_page=True)
