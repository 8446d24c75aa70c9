"""The search page in a real headless Chromium, against `luutru serve`."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


# Every host name but 127.0.0.1 fails to resolve, and anything else goes to a dead proxy:
# the browser has no network but the loopback, as on an offline archive machine.
NO_NETWORK = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    yield from _chromium(tmp_path)


@pytest.fixture
def offline_browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    yield from _chromium(tmp_path, *NO_NETWORK)


def _chromium(tmp_path: Path, *extra: str) -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # No sandbox as root; no background networking on a machine without network.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'profile'}",
        *extra,
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_search_without_diacritics_shows_highlighted_hits(
    served: str, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    browser.get(f"{served}/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("truc lien thong")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".hit"))
    )
    hits = browser.find_elements(By.CSS_SELECTOR, ".hit")
    assert len(hits) == 1
    assert "Công văn V/v triển khai" in hits[0].text
    highlighted = [b.text for b in hits[0].find_elements(By.CSS_SELECTOR, ".snippet b")]
    assert highlighted[:3] == ["trục", "liên", "thông"]
    assert browser.find_element(By.ID, "summary").text == "1 kết quả"
    browser.save_screenshot(str(tmp_path / "page.png"))


def test_the_api_docs_render_with_the_network_off(
    served: str, offline_browser: webdriver.Chrome, tmp_path: Path
) -> None:
    with pytest.raises(WebDriverException, match="ERR_"):  # the network is really cut
        offline_browser.get("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css")
    offline_browser.get(f"{served}/docs")
    title = WebDriverWait(offline_browser, 20).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, ".swagger-ui .info .title")
        )
    )
    assert "luutru" in title.text
    operations = offline_browser.find_elements(By.CSS_SELECTOR, ".opblock")
    assert any("/api/v1/search" in op.text for op in operations)
    offline_browser.save_screenshot(str(tmp_path / "docs.png"))
    html = offline_browser.page_source
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
