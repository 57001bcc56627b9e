import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from xiaobao.accounts.models import Role

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def pdf(text: str = "折页 v1", name: str = "宣传折页.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, f"%PDF-1.4\n{text}\n".encode())


@pytest.fixture
def clock():
    with time_machine.travel(at("2024-05-06 09:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def bob(personas):
    """A handler of C1: submits material for review and answers the opinions."""
    return personas[(Role.HANDLER, "inside")]


@pytest.fixture
def submit(tree, bob, clock):
    from xiaobao.reviews.services import review_submit

    def make(**kw):
        defaults = dict(
            actor=bob,
            unit=tree["C1"],
            title="安康重疾险宣传折页",
            review_type="营销宣传",
            upload=pdf(),
            description="用于 3·15 宣传周",
        )
        defaults.update(kw)
        return review_submit(**defaults)

    return make


def opinions(review, **by_code):
    """entries for review_items_record: 符合 for every item, except by_code = {code: opinion text}."""
    return {
        item.pk: (("有意见", by_code[item.code]) if item.code in by_code else ("符合", ""))
        for item in review.items.all()
    }
