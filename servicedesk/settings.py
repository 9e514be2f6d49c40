"""Settings read from the environment, so one build runs in every deployment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set; each field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    #: SQLAlchemy URL; empty means an SQLite file in the Flask instance folder.
    database_url: str = ""
    #: Signs sessions and CSRF tokens. Required outside development and tests.
    servicedesk_secret_key: str = ""
    #: Keys the pseudonymisation of callers (HMAC). Rotatable: see docs/privacy.md.
    servicedesk_pseudonym_key: str = ""
    #: Earlier pseudonymisation keys, comma-separated, still matched until their rows age out.
    servicedesk_pseudonym_previous_keys: str = ""
    #: "production", "development" or "test".
    servicedesk_env: str = "production"
    #: Public base URL the providers call (their signatures cover the URL they used).
    servicedesk_public_url: str = ""
    #: Largest request body accepted on the ingest endpoints.
    servicedesk_max_body_bytes: int = 1_000_000
    #: The largest call list Settings → Call lists takes (the command line reads larger ones).
    #: An import runs within the request: 2 MB is about 25,000 calls, some 25 s on SQLite
    #: (docs/benchmarks.md), well inside the server's 60 s request timeout.
    servicedesk_call_import_max_bytes: int = 2_000_000
    #: How far a signed delivery's timestamp may be from now: at most the Standard Webhooks
    #: library's own 300 s, which the setting can only narrow.
    servicedesk_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=300)
    #: Redis URL for the rate limits and the cache shared between workers and hosts; empty
    #: keeps the rate limits in memory and the cache in a directory of the host.
    servicedesk_redis_url: str = ""
    #: Where the cache is kept without Redis (default: ``cache/`` in the instance folder).
    servicedesk_cache_dir: str = ""
    #: Seconds a request's body may take to arrive before the server answers 408.
    servicedesk_body_timeout_seconds: float = 20.0
    #: How many reverse proxies in front add X-Forwarded-For; the client is the address the
    #: outermost of them saw (0: the peer's address itself, for a server reached directly).
    servicedesk_trusted_proxies: int = 0
    #: Deliveries refused before their sender proved who it is, per client address.
    servicedesk_refused_rate_limit: str = "30 per minute; 300 per hour"
    #: What such refused deliveries may store in one UTC day, in bytes (the rest is counted).
    servicedesk_refused_daily_bytes: int = 20_000_000

    #: The mail server that sends the monthly reports by e-mail (docs/integrations.md): host
    #: (empty: no report e-mail), port, "starttls" (587), "tls" (465) or "none" (a local relay
    #: only), the sign-in, and the sender address.
    servicedesk_smtp_host: str = ""
    servicedesk_smtp_port: int = 587
    servicedesk_smtp_security: str = "starttls"
    servicedesk_smtp_username: str = ""
    servicedesk_smtp_password: str = ""
    servicedesk_mail_from: str = ""
    #: The comparison hub this installation publishes its sharing organisations' figures to
    #: (docs/benchmarking.md): its base URL, this installation's member key there, and the
    #: ``whsec_`` secret the hub gave it. Empty: nothing is published.
    servicedesk_benchmark_hub_url: str = ""
    servicedesk_benchmark_hub_member: str = ""
    servicedesk_benchmark_hub_secret: str = ""

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres(cls, value: str) -> str:
        """Accept the Heroku-style ``postgres://`` and pick the psycopg 3 driver."""
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @property
    def is_production(self) -> bool:
        return self.servicedesk_env == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
