import pytest

from archive.errors import ConfigError
from retention.schedule import RetentionPeriod, load_schedule


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("Vĩnh viễn", None),
        ("vinh vien", None),
        ("VĨNH VIỄN", None),
        ("permanent", None),
        ("10 năm", 10),
        ("70", 70),
        ("5 years", 5),
        (" 20  nam ", 20),
    ],
)
def test_parse_period(text: str, years: int | None) -> None:
    assert RetentionPeriod.parse(text).years == years


@pytest.mark.parametrize("text", ["", "0", "mười năm", "-5", "10 months", "1000"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        RetentionPeriod.parse(text)


def test_review_falls_on_the_year_after_the_period() -> None:
    # vietnamese-records.md: a file closed in 2019 with 10 years is due for review in 2030.
    assert RetentionPeriod(10).review_year(2019) == 2030
    assert RetentionPeriod(None).review_year(2019) is None


def test_default_schedule_loads() -> None:
    schedule = load_schedule()
    assert schedule["QC"].period.permanent
    assert schedule["HS-CB"].period.years == 70
    assert str(schedule["CV"].period) == "10 năm"


def test_duplicate_series_is_refused(tmp_path) -> None:
    path = tmp_path / "s.toml"
    entry = '[[series]]\ncode = "A"\ntitle = "a"\nperiod = "5"\n'
    path.write_text(entry * 2)
    with pytest.raises(ConfigError, match="twice"):
        load_schedule(path)
