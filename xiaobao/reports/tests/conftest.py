import datetime as dt

import pytest

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def demo(db):
    """The demo company at a small scale, every app's demo records included (education's 2024 year
    does not depend on the scale: it is the seed's)."""
    from xiaobao.demo.builders import build_demo

    return build_demo(2024, today=TODAY, scale=0.05)


from xiaobao.book.tests.conftest import audit_log_flushable  # noqa: E402, F401  (a transactional test's flush on SQLite)
