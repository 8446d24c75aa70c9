"""Vietnam time, in which the agency's dates are written and its days counted.

A Vietnamese document is dated where it is made (Decree 30/2020/NĐ-CP: "Hà Nội, ngày 17
tháng 02 năm 2023"), and a retention period runs out on 1 January there (Circular
10/2022/TT-BNV): between 17:00 and 24:00 UTC it is already the next day in Vietnam.
Asia/Ho_Chi_Minh keeps UTC+7 all year, so a fixed offset needs no time zone database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


def local(moment: datetime) -> datetime:
    """An aware time in Vietnam time; a naive one as given (it says nothing of its zone)."""
    return moment.astimezone(VIETNAM_TIME) if moment.tzinfo is not None else moment


def today() -> date:
    """Today's date in Vietnam."""
    return datetime.now(VIETNAM_TIME).date()
