"""lib.dbthread: a writer thread on the caller's connection, inside the caller's transaction."""

import sys
import threading

import pytest
from django.db import connection, transaction

from xiaobao.lib.dbthread import SWITCH_INTERVAL, BackgroundWriter, InlineWriter
from xiaobao.org.models import Unit, UnitLevel


def _unit(code: str) -> None:
    Unit.objects.create(code=code, name=code, level=UnitLevel.HEAD_OFFICE, path=f"/{code}/")


@pytest.mark.django_db(transaction=True)
def test_jobs_run_on_another_thread_inside_the_callers_transaction():
    threads = []

    def job(code: str) -> None:
        threads.append(threading.current_thread())
        assert connection.in_atomic_block  # the caller's transaction, seen from the writer
        _unit(code)

    with transaction.atomic():
        with BackgroundWriter() as writer:
            writer.submit(job, "W1")
            writer.submit(job, "W2")  # waits for W1 first
            writer.wait()
            assert set(Unit.objects.values_list("code", flat=True)) == {"W1", "W2"}
        transaction.set_rollback(True)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert not Unit.objects.exists()  # the caller's rollback took the writer's rows with it


@pytest.mark.django_db
def test_a_jobs_error_is_raised_in_the_caller():
    def job() -> None:
        raise ValueError("写入失败")

    with pytest.raises(ValueError, match="写入失败"):
        with BackgroundWriter() as writer:
            writer.submit(job)
            writer.wait()
    with pytest.raises(ValueError, match="写入失败"):
        with BackgroundWriter() as writer:
            writer.submit(job)  # not waited for: leaving the block raises it
    connection.cursor().execute("SELECT 1")  # the connection is the caller's alone again


@pytest.mark.django_db
def test_the_caller_failing_waits_for_the_job_in_flight():
    started, release, finished = threading.Event(), threading.Event(), []

    def job() -> None:
        started.set()
        release.wait(5)
        finished.append(True)

    def fail() -> None:
        with BackgroundWriter() as writer:
            writer.submit(job)
            started.wait(5)
            threading.Timer(0.2, release.set).start()
            raise KeyError("调用方出错")

    with pytest.raises(KeyError):
        fail()
    assert finished == [True]  # the job ended before the caller's error left the block


def test_the_switch_interval_is_short_only_while_a_writer_is_open():
    before = sys.getswitchinterval()
    first, second = BackgroundWriter(), BackgroundWriter()  # two imports in two threads of a server
    first.__enter__()
    second.__enter__()
    assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL))
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL))  # the second is open
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before


def test_the_inline_writer_runs_each_job_at_once():
    done = []
    with InlineWriter() as writer:
        writer.submit(done.append, threading.current_thread())
        assert done == [threading.current_thread()]
