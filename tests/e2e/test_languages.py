"""Persian and Hebrew in a real browser (issue 19, acceptance 1 and 2).

Chromium set to `fa-IR` and to `he-IL` (Playwright's `locale`, which sends Accept-Language) opens
the dashboard, the Resident and Device tree, the Add APT dialog with an error, a list with two
pages and the subscription wizard: each is right to left, fits the window, and (with
SMARTPLUS_SCREENSHOTS=1) is saved as docs/screenshots/<lang>-<page>.png for the README. A second
test fails on any visible English word left on those pages (names, codes and the spec's fixed
terms aside). The eleven left-to-right languages open the same pages: left to right, fitting the
window, and no visible text is an English string that their catalogue translates (and, for the
languages of other scripts, no English word at all). The language menu changes the UI at once, is
saved and survives a logout.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from tests.e2e.conftest import TIMEOUT_MS
from tests.factories import PASSWORD, make_apartment
from tests.i18n.test_catalogues import parse_po, po_path

LOCALES = {"fa": "fa-IR", "he": "he-IL"}
# The other languages, as their browsers ask for them; those written in another script than
# Latin also get the word check of Persian and Hebrew.
LTR_LOCALES = {
    "bs": "bs-BA",
    "da": "da-DK",
    "es": "es-ES",
    "fr": "fr-FR",
    "ja": "ja-JP",
    "ko": "ko-KR",
    "pl": "pl-PL",
    "ru": "ru-RU",
    "tr": "tr-TR",
    "vi": "vi-VN",
    "zh-hans": "zh-CN",
}
OTHER_SCRIPTS = {"ja", "ko", "ru", "zh-hans"}
SCREENSHOT_LANGUAGES = {"es", "ja"}  # the README's examples
# The top bar shows the current language's code ("zh-hans") beside the menu.
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
VIEWPORT = {"width": 1366, "height": 900}
EXTRA_APARTMENTS = [str(n) for n in range(102, 113)]  # with 101: 12 rows, two pages of 10

PAGES = ["dashboard", "resident-tree", "add-apt-error", "paginated-list", "subscription-wizard"]

# Words that stay Latin in every language: the brand, the spec's technical terms that a user
# searches for as they are (docs/languages.md), and the languages' own names in the menu.
KEPT_LATIN = {
    "SmartPlus",
    "Akuvox",
    "SIP",
    "MAC",
    "PIN",
    "AutoP",
    "CAP",
    "RTSP",
    "ONVIF",
    "English",
    # Languages' own names in the menu.
    "Bosanski",
    "Dansk",
    "Español",
    "Français",
    "Polski",
    "Türkçe",
    "Tiếng",
    "Việt",
}
# Names of other products, kept as their makers write them (the sidebar's "Rent Manager").
KEPT_PHRASES = ("Rent Manager",)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]{2,}")
CODE_LIKE = re.compile(
    r"\b[0-9A-F]{12}\b|\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b|\S+@\S+|\b[A-Z]+\d+\w*\b|\b\d[\w.:/-]*\b"
)

VISIBLE_TEXT_JS = """() => {
  const visible = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || e.hidden) return false;
    }
    return el.getClientRects().length > 0;
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(el.tagName)) continue;
    if (visible(el)) out.push(text);
  }
  document.querySelectorAll("input[placeholder], textarea[placeholder]").forEach((el) => {
    if (visible(el) && el.placeholder.trim()) out.push(el.placeholder.trim());
  });
  document.querySelectorAll("input[type=submit], input[type=button]").forEach((el) => {
    if (visible(el) && el.value.trim()) out.push(el.value.trim());
  });
  return out;
}"""


def data_values(world) -> list[str]:
    """What the test's own data puts on the pages: names, usernames, numbers (never translated)."""
    values = {
        "SmartPlus",
        world.installer_a.username,
        world.community_a.name,
        world.community_a2.name,
        world.building_a.name,
        world.device_a.name,
        world.camera_a.name,
        world.device_a.mac_address.mac,
        world.pm_a.username,
        world.pm_a.get_full_name(),
        world.pm_nothing.username,
        world.pm_nothing.get_full_name(),
        world.sub_a.username,
        "Lily",
        "Zheng",
        "Jim",
        "Wang",
        world.installer_a.email,
        world.pm_a.first_name,
        world.pm_a.last_name,
        world.pm_nothing.first_name,
        world.pm_nothing.last_name,
    }
    for community in (world.community_a, world.community_a2):
        values.update(
            str(v) for v in (community.address, community.city, getattr(community, "postal_code", "")) if v
        )
    return sorted((v for v in values if v), key=len, reverse=True)


def english_left(texts: list[str], data: list[str]) -> list[str]:
    """The Latin words of 3+ letters left once data values, codes and kept terms are removed."""
    words = set()
    for text in texts:
        text = CODE_LIKE.sub(" ", text)  # first: an email holds a username
        for value in (*KEPT_PHRASES, *data):
            text = text.replace(value, " ")
        # A kept term joined to a word of the language ("SIP-номер") is still the kept term.
        found = (w.strip("-'\u2019") for w in LATIN_WORD.findall(text))
        words.update(w for w in found if len(w) > 2 and w not in KEPT_LATIN and w not in LANGUAGE_CODES)
    return sorted(words)


def assert_no_page_overflow(page: Page, where: str) -> None:
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{where}: {scroll_width} px wide in a {inner_width} px window"


@pytest.fixture
def languages_world(world):
    community = world.community_a
    community.number_of_apartments = 50
    community.save(update_fields=["number_of_apartments"])
    for number in EXTRA_APARTMENTS:
        make_apartment(world.building_a, number, floor=1)
    return world


def new_page(browser: Browser, locale: str) -> Page:
    context = browser.new_context(locale=locale, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page


def sign_in(page: Page, live_server, username: str) -> None:
    """Through the login form, whatever its language."""
    page.goto(f"{live_server.url}{reverse('account_login')}")
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("[data-testid=login-form] button[type=submit]").click()
    expect(page.get_by_test_id("role-label")).to_be_visible()


def open_page(page: Page, live_server, world, name: str) -> None:
    """Open one of PAGES and wait until it shows what it is about."""
    url = live_server.url
    if name == "dashboard":
        page.goto(url + reverse("communities:dashboard"))
        expect(page.locator(".content").get_by_text(world.community_a.name).first).to_be_visible()
    elif name == "resident-tree":
        page.goto(url + reverse("residents:community_residents", args=[world.community_a.pk]))
        expect(page.get_by_test_id("tree")).to_be_visible()
    elif name == "add-apt-error":
        page.goto(url + reverse("residents:building_apartments", args=[world.building_a.pk]))
        add = reverse("residents:apartment_add", args=[world.building_a.pk])
        page.locator(f"a[href='{add}']").first.click()
        modal = page.locator("#modal")
        expect(modal.locator("input[name=number]")).to_be_visible()
        modal.locator("input[name=number]").fill("101")  # already exists in this building
        later = modal.locator("input[name=add_resident_later]")
        if later.count():
            later.check()
        modal.locator(".modal-footer button[type=submit]").click()
        expect(modal.locator("[data-field-error]").first).to_be_visible()
    elif name == "paginated-list":
        page.goto(url + reverse("residents:building_apartments", args=[world.building_a.pk]))
        expect(page.get_by_test_id("pagination").locator(".pagination")).to_be_visible()
    elif name == "subscription-wizard":
        page.goto(url + reverse("billing:order_add"))
        expect(page.get_by_test_id("steps")).to_be_visible()


@pytest.mark.parametrize("lang", list(LOCALES))
def test_persian_and_hebrew_pages_run_right_to_left(live_server, browser, languages_world, screenshot, lang):
    page = new_page(browser, LOCALES[lang])
    sign_in(page, live_server, "inst_a")
    for name in PAGES:
        open_page(page, live_server, languages_world, name)
        html = page.locator("html")
        expect(html).to_have_attribute("dir", "rtl")
        expect(html).to_have_attribute("lang", lang)
        # Mirrored: the sidebar is at the window's right edge, the page's text runs right to left.
        box = page.get_by_test_id("sidebar").bounding_box()
        assert box["x"] + box["width"] >= VIEWPORT["width"] - 2, f"{lang} {name}: sidebar at {box}"
        assert page.evaluate("() => getComputedStyle(document.body).direction") == "rtl"
        assert_no_page_overflow(page, f"{lang} {name}")
        screenshot(page, f"{lang}-{name}.png")
    page.context.close()


@pytest.mark.parametrize("lang", list(LOCALES))
def test_no_english_left_on_persian_and_hebrew_pages(live_server, browser, languages_world, lang):
    page = new_page(browser, LOCALES[lang])
    sign_in(page, live_server, "inst_a")
    data = data_values(languages_world)
    left: dict[str, list[str]] = {}
    for name in PAGES:
        open_page(page, live_server, languages_world, name)
        words = english_left(page.evaluate(VISIBLE_TEXT_JS), data)
        if words:
            left[name] = words
    page.context.close()
    total = sorted({w for words in left.values() for w in words})
    assert left == {}, f"{lang}: {len(total)} English words still visible: {left}"


def test_the_language_menu_switches_at_once_is_saved_and_survives_logout(live_server, browser, world):
    page = new_page(browser, "en-US")
    sign_in(page, live_server, "inst_a")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")

    page.get_by_test_id("language-button").click()
    page.get_by_test_id("language-he").click()
    expect(page.locator("html")).to_have_attribute("lang", "he")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("role-label")).to_be_visible()  # back on the same page
    assert User.objects.get(pk=world.installer_a.pk).ui_language == "he"

    page.locator(f"form[action='{reverse('account_logout')}'] button[type=submit]").click()
    expect(page.locator("input[name=login]")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "he")
    expect(page.get_by_test_id("language-select")).to_have_value("he")

    sign_in(page, live_server, "inst_a")
    expect(page.locator("html")).to_have_attribute("lang", "he")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.context.close()


def translated_away(code: str) -> set[str]:
    """The English strings (without placeholders) that the language's catalogue translates to
    something else: seeing one on a page means a string was not translated there."""
    english = set()
    for entry in parse_po(po_path(code)):
        forms = entry["msgstr"]
        if "%" in entry["msgid"] or "{" in entry["msgid"] or not forms or forms[0].strip() == entry["msgid"]:
            continue
        english.add(entry["msgid"].strip())
    return english


@pytest.mark.parametrize("lang", list(LTR_LOCALES))
def test_the_other_languages_show_their_translations_left_to_right(
    live_server, browser, languages_world, screenshot, lang
):
    page = new_page(browser, LTR_LOCALES[lang])
    sign_in(page, live_server, "inst_a")
    english = translated_away(lang) - set(KEPT_LATIN) - set(KEPT_PHRASES)
    data = data_values(languages_world)
    left: dict[str, list[str]] = {}
    for name in PAGES:
        open_page(page, live_server, languages_world, name)
        html = page.locator("html")
        expect(html).to_have_attribute("lang", lang)
        expect(html).to_have_attribute("dir", "ltr")
        assert_no_page_overflow(page, f"{lang} {name}")
        if lang in SCREENSHOT_LANGUAGES and name == "dashboard":
            screenshot(page, f"{lang}-{name}.png")
        texts = page.evaluate(VISIBLE_TEXT_JS)
        shown = sorted({t for t in texts if t in english})
        if lang in OTHER_SCRIPTS:
            shown += english_left(texts, data)
        if shown:
            left[name] = shown
    page.context.close()
    assert left == {}, f"{lang}: English still visible: {left}"
