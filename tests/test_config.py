"""Settings: environment, .env and keyword arguments, one name each."""

import pytest

from satchel import App
from satchel.config import Settings, load_settings


def test_environment_then_keywords(monkeypatch):
    monkeypatch.setenv("SATCHEL_DEBUG", "1")
    monkeypatch.setenv("SATCHEL_ALLOWED_HOSTS", "example.com, .example.org")
    monkeypatch.setenv("SATCHEL_MAX_BODY_SIZE", "2048")
    app = App()
    assert app.debug is True
    assert app.settings.allowed_hosts == ["example.com", ".example.org"]
    assert app.max_body_size == 2048
    assert App(debug=False).debug is False


def test_json_list_in_environment(monkeypatch):
    monkeypatch.setenv("SATCHEL_ALLOWED_HOSTS", '["a.com", "b.com"]')
    assert load_settings().allowed_hosts == ["a.com", "b.com"]


def test_dotenv_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SATCHEL_TITLE=From dotenv\nSATCHEL_SECRET_KEY=s3cret\n")
    settings = load_settings()
    assert settings.title == "From dotenv"
    assert settings.secret_key.get_secret_value() == "s3cret"
    assert not settings.uses_development_key


def test_unknown_setting_is_an_error():
    with pytest.raises(TypeError, match="debugg"):
        App(debugg=True)


def test_invalid_value_is_an_error(monkeypatch):
    monkeypatch.setenv("SATCHEL_MAX_BODY_SIZE", "-5")
    with pytest.raises(Exception, match="max_body_size"):
        load_settings()


def test_settings_object_with_overrides():
    settings = Settings(title="base")
    app = App(settings=settings, version="9")
    assert (app.title, app.version) == ("base", "9")
    assert settings.version != "9"  # the original is not changed
    assert "secret" not in repr(settings.secret_key)
