"""One settings object from the environment; the secret key is made once and shared."""

from __future__ import annotations

import stat

from formserver.config import Settings


def test_defaults_give_the_embedded_set_up(tmp_path):
    settings = Settings.from_env({"FORMSERVER_DATA_DIR": str(tmp_path / "instance")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'formserver.sqlite3'}"
    assert settings.public_url == "http://127.0.0.1:5000"
    assert settings.time_zone == "Asia/Bangkok"


def test_a_generated_secret_key_is_kept_for_every_worker_and_restart(tmp_path):
    env = {"FORMSERVER_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env).secret_key
    second = Settings.from_env(env).secret_key
    assert first == second and len(first) >= 40
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_a_configured_secret_key_and_public_url_win(tmp_path):
    settings = Settings.from_env(
        {
            "FORMSERVER_DATA_DIR": str(tmp_path),
            "FORMSERVER_SECRET_KEY": "from-the-environment",
            "FORMSERVER_PUBLIC_URL": "https://forms.example.org/",
        }
    )
    assert settings.secret_key == "from-the-environment"
    assert settings.public_url == "https://forms.example.org"
    assert not (tmp_path / "secret_key").exists()
