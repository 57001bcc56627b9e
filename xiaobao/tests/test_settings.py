"""Start-up configuration: XIAOBAO_* variables, checked in a fresh process as an operator would run it."""

import os
import subprocess
import sys

import pytest

from xiaobao.privacy.keys import encode_key, new_key


def run_check(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("XIAOBAO_")}
    base["XIAOBAO_DATA_DIR"] = str(tmp_path / "data")
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "xiaobao", "check"], capture_output=True, text=True, env=base, timeout=120
    )


def test_with_nothing_set_you_get_the_embedded_demo(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "keys" / "django-secret.key").exists()


@pytest.mark.parametrize(
    "variable, value",
    [
        ("XIAOBAO_DEBUG", "maybe"),
        ("XIAOBAO_TIME_ZONE", "Mars/Olympus"),
        ("XIAOBAO_DATABASE_URL", "nosuchdb://x"),
        ("XIAOBAO_SESSION_MINUTES", "ten"),
        ("XIAOBAO_SMTP_URL", "http://mail.example"),
        ("XIAOBAO_ALLOWED_HOSTS", "a,,b"),
        ("XIAOBAO_MODE", "staging"),
        ("XIAOBAO_SECRET_KEY", "short"),
        ("XIAOBAO_ANALYTICS_BACKEND", "hadoop"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(tmp_path, variable, value):
    result = run_check(tmp_path, **{variable: value})
    assert result.returncode == 2
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_its_keys(tmp_path):
    result = run_check(tmp_path, XIAOBAO_MODE="production")
    assert result.returncode == 2
    assert "XIAOBAO_SECRET_KEY" in result.stderr and "XIAOBAO_FIELD_KEY" in result.stderr
    assert not (tmp_path / "data" / "keys").exists()


def test_production_starts_with_both_keys(tmp_path):
    result = run_check(
        tmp_path,
        XIAOBAO_MODE="production",
        XIAOBAO_SECRET_KEY="s" * 50,
        XIAOBAO_FIELD_KEY=encode_key(new_key()),
        XIAOBAO_ALLOWED_HOSTS="xiaobao.intra",
    )
    assert result.returncode == 0, result.stderr


def test_a_malformed_field_key_is_named(settings):
    from django.core.exceptions import ImproperlyConfigured

    from xiaobao.privacy import keys

    settings.FIELD_KEY = "not-a-key"
    keys.clear_caches()
    with pytest.raises(ImproperlyConfigured, match="XIAOBAO_FIELD_KEY"):
        keys.master_key()


def test_smtp_url_becomes_email_settings():
    from xiaobao.lib.envvars import env_smtp

    os.environ["XIAOBAO_TEST_SMTP"] = "smtp://bot:p%40ss@127.0.0.1:2525?tls=1"
    try:
        config = env_smtp("XIAOBAO_TEST_SMTP")
    finally:
        del os.environ["XIAOBAO_TEST_SMTP"]
    assert config["EMAIL_HOST"] == "127.0.0.1" and config["EMAIL_PORT"] == 2525
    assert config["EMAIL_HOST_PASSWORD"] == "p@ss" and config["EMAIL_USE_TLS"] is True
