"""Settings: one typed object for the whole app.

Every setting has one name, used everywhere: ``SATCHEL_<NAME>`` in the
environment, ``NAME=`` in a ``.env`` file, or ``name=`` as a keyword argument to
``App(...)`` (which wins)::

    SATCHEL_DEBUG=1 SATCHEL_ALLOWED_HOSTS=example.com,www.example.com satchel serve app:app

List settings accept a comma-separated string in the environment or a JSON list.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The secret key used when none is configured: fine for development, refused by
#: ``satchel serve`` and ``satchel check --deploy`` when debug is off.
DEVELOPMENT_SECRET_KEY = "satchel-insecure-development-key-change-me"  # noqa: S105 - the known-bad default

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every Satchel setting, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="SATCHEL_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # -- core ------------------------------------------------------------------------
    debug: bool = False
    title: str = "Satchel"
    version: str = "0.1.0"
    redirect_slashes: bool = True
    max_body_size: int = Field(1024 * 1024, gt=0)
    max_path_length: int = Field(8192, gt=0)
    thread_pool_size: int = Field(40, gt=0)

    # -- security --------------------------------------------------------------------
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    #: Older keys still accepted when verifying signatures (key rotation).
    secret_key_fallbacks: Annotated[list[SecretStr], NoDecode] = []
    #: Hosts this app answers for; ``.example.com`` matches subdomains, ``*`` anything.
    allowed_hosts: CommaList = []
    #: Proxies whose ``X-Forwarded-*`` headers are trusted (addresses or networks;
    #: ``*`` trusts every peer).
    trusted_proxies: CommaList = []
    https_redirect: bool = False
    hsts_seconds: int = Field(0, ge=0)
    hsts_include_subdomains: bool = False
    hsts_preload: bool = False
    content_type_nosniff: bool = True
    frame_options: Literal["DENY", "SAMEORIGIN"] | None = "DENY"
    referrer_policy: str | None = "same-origin"
    cross_origin_opener_policy: str | None = "same-origin"
    content_security_policy: str | None = None
    content_security_policy_report_only: str | None = None
    cors_allow_origins: CommaList = []
    cors_allow_methods: CommaList = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    cors_allow_headers: CommaList = []
    cors_expose_headers: CommaList = []
    cors_allow_credentials: bool = False
    cors_max_age: int = 600
    csrf_enabled: bool = True
    csrf_field_name: str = "csrf_token"
    csrf_header_name: str = "X-CSRF-Token"
    csrf_trusted_origins: CommaList = []
    #: Check ids ``satchel check`` stays quiet about (``security.W001``, ...).
    silenced_checks: CommaList = []

    # -- sessions --------------------------------------------------------------------
    #: Off: no session middleware, and ``request.session`` raises.
    sessions_enabled: bool = True
    session_store: Literal["cookie", "database", "redis"] = "cookie"
    session_cookie_name: str = "session"
    session_max_age: int = Field(14 * 24 * 3600, gt=0)
    session_cookie_secure: bool | None = None
    session_cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    session_cookie_host_prefix: bool = False
    #: Share the session cookie with subdomains (``example.com``); not with the prefix.
    session_cookie_domain: str | None = None
    #: Where the Redis store keeps sessions: ``<prefix><sha256 of the key>``.
    session_redis_prefix: str = "satchel:session:"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Where login throttling counts attempts: "redis" shares them across workers.
    auth_throttle_store: Literal["memory", "redis"] = "memory"

    # -- forms and uploads -----------------------------------------------------------
    max_form_fields: int = Field(1000, gt=0)
    max_form_files: int = Field(100, gt=0)
    max_file_size: int = Field(100 * 1024 * 1024, gt=0)
    max_field_size: int = Field(1024 * 1024, gt=0)

    # -- templates and static files --------------------------------------------------
    templates_auto_reload: bool | None = None
    static_url: str = "/static"
    static_root: str = "staticfiles"

    # -- database --------------------------------------------------------------------
    database_url: str = "sqlite:///app.db"
    database_echo: bool = False
    database_pool_size: int = Field(5, gt=0)
    database_max_overflow: int = Field(10, ge=0)
    database_pool_timeout: float = Field(30.0, gt=0)
    #: Seconds before a connection is replaced (``-1``: never; pings catch dead ones).
    database_pool_recycle: int = Field(-1, ge=-1)
    #: Ping a pooled connection before use if it sat idle this long (seconds; ``0``:
    #: before every use, ``-1``: never).
    database_pool_pre_ping: float = Field(1.0, ge=-1)
    #: Seconds to wait for the database server to accept a connection.
    database_connect_timeout: float = Field(5.0, gt=0)
    #: Report a request that runs one SELECT shape more often than this (debug only).
    n_plus_one_threshold: int = Field(10, gt=0)
    #: Turn the N+1 query detector on or off; ``None`` follows ``debug``.
    n_plus_one_detection: bool | None = None

    # -- APIs ------------------------------------------------------------------------
    #: ``None`` turns the schema off; off in production unless set explicitly.
    openapi_url: str | None = "/openapi.json"
    docs_url: str | None = "/docs"
    openapi_in_production: bool = False

    # -- email -----------------------------------------------------------------------
    #: ``None``: "console" when debug is on, "smtp" when it is off.
    email_backend: Literal["console", "file", "smtp", "memory"] | None = None
    email_host: str = "localhost"
    email_port: int = Field(25, gt=0, lt=65536)
    email_host_user: str = ""
    email_host_password: SecretStr = SecretStr("")
    #: Implicit TLS (port 465); ``email_use_starttls`` upgrades a plain connection (587).
    email_use_tls: bool = False
    email_use_starttls: bool = False
    email_timeout: float = Field(10.0, gt=0)
    #: Where the file backend writes one ``.eml`` file per message.
    email_file_path: str = "sent_emails"
    default_from_email: str = "webmaster@localhost"

    @field_validator(
        "allowed_hosts",
        "trusted_proxies",
        "cors_allow_origins",
        "cors_allow_methods",
        "cors_allow_headers",
        "cors_expose_headers",
        "csrf_trusted_origins",
        "silenced_checks",
        "secret_key_fallbacks",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @property
    def uses_development_key(self) -> bool:
        """Whether the secret key is still the built-in development one."""
        return self.secret_key.get_secret_value() == DEVELOPMENT_SECRET_KEY


def load_settings(**overrides: Any) -> Settings:
    """Return settings from the environment and ``.env``, with ``overrides`` on top.

    An unknown override name raises ``TypeError`` naming it (a typo should not pass
    silently).
    """
    unknown = set(overrides) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return Settings(**overrides)


__all__ = ["DEVELOPMENT_SECRET_KEY", "Settings", "load_settings"]
