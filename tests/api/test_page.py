"""The web pages in a real headless Chromium (Debian's chromium + chromedriver, selenium)
against `luutru serve`, with the network cut as on an offline archive machine: search, open
a record, download its evidence bundle, verify files, the dashboard, the keyboard alone, a
phone's width, and the API docs.

Screenshots of the pages (desktop and phone) are this run's artifacts, in screenshots/ under
pytest's base temp folder; with LUUTRU_SCREENSHOTS=docs they also refresh docs/screenshots/
(the README's), which a plain test run leaves untouched."""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from archive.bundle import verify_bundle
from tests.conftest import IngestedArchive

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True}
MAX_SHOT_HEIGHT = 2600  # CSS pixels: a long page is cut, not a 10 MB picture

# Every host name but 127.0.0.1 fails to resolve, and anything else goes to a dead proxy:
# the browser has no network but the loopback, as on an offline archive machine.
NO_NETWORK = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
)
Shoot = Callable[[webdriver.Chrome, str], None]


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(tmp_path: Path, downloads: Path) -> Iterator[webdriver.Chrome]:
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
        "--window-size=1280,900",
        "--lang=vi-VN",  # the browser's own words (the file input's) in Vietnamese too
        f"--user-data-dir={tmp_path / 'profile'}",
        *NO_NETWORK,
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def shoot(tmp_path_factory: pytest.TempPathFactory) -> Shoot:
    """Save the whole page (up to MAX_SHOT_HEIGHT) as NAME.png, in both folders."""
    artifacts = tmp_path_factory.getbasetemp() / "screenshots"
    artifacts.mkdir(exist_ok=True)
    folders = [artifacts]
    if os.environ.get("LUUTRU_SCREENSHOTS") == "docs":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        DOCS_SCREENSHOTS.chmod(0o755)  # the archive's umask is 077; these are for the README
        folders.append(DOCS_SCREENSHOTS)

    def save(driver: webdriver.Chrome, name: str) -> None:
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "scale": 1,
                "height": min(size["height"], MAX_SHOT_HEIGHT)}  # fmt: skip
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        data = base64.b64decode(shot["data"])
        for folder in folders:
            target = folder / f"{name}.png"
            target.write_bytes(data)
            target.chmod(0o644)

    return save


def _wait(driver: webdriver.Chrome, css: str, seconds: float = 15) -> WebElement:
    return WebDriverWait(driver, seconds).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def _images_loaded(driver: webdriver.Chrome) -> None:
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script(
            "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        )
    )


def _downloaded(folder: Path, seconds: float = 30) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = [p for p in folder.glob("*.zip") if not p.name.endswith(".crdownload")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded into {folder}: {list(folder.iterdir())}")


def test_search_open_a_record_download_its_evidence_and_verify_files(
    served: str,
    browser: webdriver.Chrome,
    downloads: Path,
    ingested_copy: IngestedArchive,
    shoot: Shoot,
) -> None:
    browser.get(f"{served}/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("chuyen doi so", Keys.ENTER)
    _wait(browser, ".hit")
    assert browser.current_url == f"{served}/?q=chuyen+doi+so"  # the search is its URL
    assert browser.find_element(By.ID, "summary").text == "2 kết quả"
    first = browser.find_elements(By.CSS_SELECTOR, ".hit")[0]
    assert [b.text for b in first.find_elements(By.CSS_SELECTOR, ".snippet b")][:3] == [
        "chuyển", "đổi", "số"
    ]  # fmt: skip
    shoot(browser, "search-desktop")

    first.find_element(By.CSS_SELECTOR, "h3 a").click()
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    _wait(browser, "#seal-state")
    assert browser.current_url == f"{served}/records/{record_id}"
    assert "Niêm phong nguyên vẹn." in browser.find_element(By.ID, "seal-state").text
    assert "1482/QĐ-UBND" in browser.find_element(By.CSS_SELECTOR, "dl.fields").text
    _images_loaded(browser)
    shoot(browser, "record-desktop")

    browser.find_element(By.ID, "evidence").click()
    bundle = _downloaded(downloads)
    assert bundle.name == f"evidence-{record_id}.zip"
    report = verify_bundle(bundle)
    assert report.ok and report.record_id == record_id, report.problems

    browser.get(f"{served}/verify")
    browser.find_element(By.ID, "file").send_keys(str(bundle))
    browser.find_element(By.CSS_SELECTOR, "#drop button[type=submit]").click()
    answer = _wait(browser, "#answer")
    assert "Gói chứng cứ hợp lệ." in answer.text and record_id in answer.text
    scan = next(r.path for r in ingested_copy.results if r.path.endswith("quyet-dinh-1482.png"))
    browser.find_element(By.ID, "file").send_keys(scan)
    browser.find_element(By.CSS_SELECTOR, "#drop button[type=submit]").click()
    # The answer of the bundle is still shown until the new page replaces it: an element
    # found on the old page can go stale before its text is read, so look again.
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "Tệp này có trong kho lưu trữ" in d.find_element(By.ID, "answer").text
    )
    assert browser.find_element(By.CSS_SELECTOR, "#matches a").get_attribute("href") == (
        f"{served}/records/{record_id}"
    )
    shoot(browser, "verify-desktop")


def test_the_search_form_works_by_keyboard_alone(served: str, browser: webdriver.Chrome) -> None:
    browser.get(f"{served}/")
    page = browser.find_element(By.TAG_NAME, "body")
    page.send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Bỏ qua, đến nội dung chính"
    assert skip.value_of_css_property("outline-style") != "none"  # focus is visible
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    _tab_to(browser, lambda e: e.get_attribute("id") == "q")
    browser.switch_to.active_element.send_keys("truc lien thong", Keys.ENTER)
    _wait(browser, ".hit")
    assert browser.find_element(By.ID, "summary").text == "1 kết quả"
    # On to the first hit by Tab, and open it with Enter.
    _tab_to(browser, lambda e: "/records/" in (e.get_attribute("href") or ""))
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    heading = _wait(browser, "h1")
    assert "trục liên thông văn bản quốc gia" in heading.text


def _tab_to(browser: webdriver.Chrome, wanted: Callable[[WebElement], object]) -> None:
    for _ in range(40):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if wanted(browser.switch_to.active_element):
            return
    raise AssertionError("Tab never reached the element")


def test_the_dashboard_and_the_pages_at_a_phones_width(
    served: str, browser: webdriver.Chrome, ingested_copy: IngestedArchive, shoot: Shoot
) -> None:
    browser.get(f"{served}/dashboard")
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart[role=img]")
    assert len(charts) == 7 and all(c.is_displayed() for c in charts)
    assert browser.find_element(By.ID, "total-records").text == "3"
    shoot(browser, "dashboard-desktop")

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    record_id = ingested_copy.record_id("bao-cao-215.tif")
    for path, name in (("/?q=nam", "search-phone"), (f"/records/{record_id}", "record-phone"),
                       ("/dashboard", "dashboard-phone")):  # fmt: skip
        browser.get(f"{served}{path}")
        _wait(browser, "footer")
        _images_loaded(browser)
        width, inner = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert inner == 360 and width <= inner, f"{path} is wider than a phone: {width}px"
        assert browser.find_element(By.CSS_SELECTOR, "nav a[href='/']").is_displayed()
        shoot(browser, name)


def test_the_api_docs_render_with_the_network_off(
    served: str, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    with pytest.raises(WebDriverException, match="ERR_"):  # the network is really cut
        browser.get("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css")
    browser.get(f"{served}/docs")
    title = WebDriverWait(browser, 20).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, ".swagger-ui .info .title")
        )
    )
    assert "luutru" in title.text
    operations = browser.find_elements(By.CSS_SELECTOR, ".opblock")
    assert any("/api/v1/search" in op.text for op in operations)
    browser.save_screenshot(str(tmp_path / "docs.png"))
    html = browser.page_source
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
