"""Fixtures of the security tests: one seeded world per module (see world.py), built once inside a
transaction that is rolled back when the module ends; every test runs in a savepoint inside it."""

import pytest
from django.db import transaction
from django.test.utils import override_settings

from xiaobao.conftest import isolated_data_dir
from xiaobao.tests.security import world as w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """{"tree", "people", "A": objects of unit A, "B": objects of unit B, "dir": data folder}."""
    from xiaobao.privacy import keys
    from xiaobao.privacy.services import _unwrap_dek

    data = tmp_path_factory.mktemp("security") / "data"
    overrides = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DATA_DIR=data,
        FIELD_KEY_FILE=data / "keys" / "field.key",
        MEDIA_ROOT=data / "media",
    )
    with django_db_blocker.unblock(), overrides:
        keys.clear_caches()
        _unwrap_dek.cache_clear()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            tree = w.build_tree()
            people = w.build_people(tree)
            built = {"tree": tree, "people": people, "dir": data}
            for side in ("A", "B"):
                built[side] = w.build_side(side, tree, people)
            w.build_book(data.parent)
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            keys.clear_caches()
            _unwrap_dek.cache_clear()


@pytest.fixture(autouse=True)
def _isolated_data_dir(request, settings, tmp_path):
    """Replaces the project-wide fixture of the same name: a test on the module's world keeps the
    world's data folder (its keys and files); any other test gets its own, as everywhere else."""
    if "world" in request.fixturenames:
        yield
        return
    with isolated_data_dir(settings, tmp_path):
        yield
