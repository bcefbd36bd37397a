"""Every page any role reaches, on a phone (390 × 844) in Thai and in English.

Each role signs in and follows every link it is shown, so that a page added later
is visited without a list to keep up to date. On each page, its folded sections
opened: nothing is wider than the screen, a table wider than the screen scrolls
inside a box of its own, and every button, field and choice is at least 44 px
high. A screenshot of each page is kept.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from sqlalchemy import select

from formserver.db import Database
from formserver.models import Form, Organisation
from formserver.network.identity import installation_key
from formserver.network.sharing import set_shared
from formserver.storage import BlobStore

from .browser import PHONE, browser, needs_chromium, screenshots, sign_in  # noqa: F401
from .servers import running_server, server_environment
from .web_fixtures import build_world, make_user, shared_settings  # noqa: F401

pytestmark = needs_chromium

ANALYST = "analyst@network.example"
ROLES = {"admin": "admin@example.org", "manager": "manager@hill.example", "viewer": "viewer@hill.example",
         "collector": "collector@hill.example", "analyst": ANALYST}
TOUCH_TARGET = 44
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width + 1)
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  const scrollsSideways = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      if ((overflow === "auto" || overflow === "scroll") && box.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  for (const table of document.querySelectorAll("table")) {
    if (table.getBoundingClientRect().right > width + 1 && !scrollsSideways(table))
      problems.push(`a table runs past the screen without a scrolling box: ${table.innerText.slice(0, 40)}`);
  }
  const shown = (element) => element.getClientRects().length > 0 && element.getBoundingClientRect().height > 0;
  const controls = 'button, .button, select, input:not([type="hidden"], [type="checkbox"], [type="radio"])';
  for (const control of document.querySelectorAll(controls)) {
    if (shown(control) && control.getBoundingClientRect().height < %(target)d - 0.5)
      problems.push(`${control.outerHTML.slice(0, 80)} is ${control.getBoundingClientRect().height} px high`);
  }
  for (const choice of document.querySelectorAll('input[type="checkbox"], input[type="radio"]')) {
    const label = choice.closest("label");
    if (shown(choice) && (!label || label.getBoundingClientRect().height < %(target)d - 0.5))
      problems.push(`the choice ${choice.name} has no label ${%(target)d} px high to tap`);
  }
  return problems;
}""" % {"target": TOUCH_TARGET}
ANY_ORGANISATION = re.compile(r"^/orgs/[^/?]+")
NOT_PAGES = re.compile(r"/(attachments|download|xlsform|xform|xml|media)(/|$)|\.(xlsx|zip|csv|png|svg|xml)$")


@pytest.fixture(scope="module")
def base_url(shared_settings):
    database = Database(shared_settings)
    blobs = BlobStore(shared_settings.blob_dir)
    build_world(database, blobs, shared_settings)
    network_readers(database, blobs)
    database.dispose()
    with running_server(server_environment(shared_settings)) as (base, _pid):
        yield base


def network_readers(database: Database, blobs: BlobStore) -> None:
    """hillnet shares its form (its manager reads the network's figures), and a network analyst."""
    with database.session_scope() as session:
        form = session.scalar(select(Form).join(Organisation).where(Organisation.slug == "hillnet", Form.form_id == "intake"))
        set_shared(session, installation_key(blobs.data_dir), form, True, actor=None)
        make_user(session, ANALYST).is_analyst = True
        session.commit()


def pages_reached(page, base_url: str, limit: int = 60) -> list[str]:
    """The paths of every page the signed-in person reaches by following links from the home page.

    The same page of another organisation is not visited again.
    """
    seen, queue, reached = {"/"}, deque(["/"]), []
    while queue and len(reached) < limit:
        path = queue.popleft()
        response = page.goto(path)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        reached.append(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)"):
            parts = urlsplit(href)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            page_kind = ANY_ORGANISATION.sub("/orgs/*", target)
            if href.startswith(base_url) and page_kind not in seen and not NOT_PAGES.search(parts.path):
                seen.add(page_kind)
                queue.append(target)
    return reached


def screenshot_name(role: str, language: str, path: str) -> str:
    return f"phone-{language}-{role}-{re.sub(r'[^A-Za-z0-9]+', '-', path).strip('-') or 'home'}.png"


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_fits_a_phone_in_both_languages(browser, base_url, screenshots, role):
    context = browser.new_context(base_url=base_url, locale="th-TH", viewport=PHONE)
    page = context.new_page()
    sign_in(page, ROLES[role])
    paths = pages_reached(page, base_url)
    assert len(paths) >= 2, f"{role} reached only {paths}"
    problems = []
    for language in ("th", "en"):
        context.add_cookies([{"name": "lang", "value": language, "url": base_url}])
        for path in paths:
            page.goto(path)
            assert page.evaluate("document.documentElement.lang") == language, path
            page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")  # folded text too
            problems += [f"{language} {path}: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS)]
            page.screenshot(path=str(screenshots / screenshot_name(role, language, path)), full_page=True)
    context.close()
    assert problems == []
