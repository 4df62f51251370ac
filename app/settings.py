"""One typed settings object, read from the environment once (prefix ``RESORT_``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from app.clientaddr import parse_networks
from app.clock import parse_today

PREFIX = "RESORT_"
# The local IdP stand-in's secret for the backend client (oidc/provider.mjs): never acceptable in production.
DEMO_OIDC_CLIENT_SECRET = "resort-backend-secret"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


# Every bound of a /live connection: each must be positive.
LIVE_BOUNDS = ("live_buffer_frames", "live_buffer_bytes", "live_send_timeout_s", "live_auth_timeout_s",
               "live_max_channels", "live_subscribes_per_s", "live_subscribes_burst", "live_frames_per_s",
               "live_frames_burst", "live_max_frame_bytes", "live_connections_per_ip",
               "live_connections_per_subject")
PROPERTY_GRANT = "property:"  # how a property grant is written among a session's roles (app.auth.principal)


class SettingsError(RuntimeError):
    """A variable of the environment is missing or malformed; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob of every process role. Field ``foo_bar`` is read from ``RESORT_FOO_BAR``."""

    env: str = "local"
    log_level: str = "INFO"
    log_json: bool = True
    # Tracing (app/tracing): "none" (off, nothing installed), "console" (spans as JSON lines on stdout) or
    # "otlp" (OTLP/HTTP to otel_endpoint + /v1/traces). Each process is "<otel_service_name>-<role>".
    otel_exporter: str = "none"
    otel_endpoint: str = "http://127.0.0.1:4318"
    otel_service_name: str = "resort"
    # Share of new traces kept (a trace continued from a caller follows the caller's decision).
    otel_sample_ratio: float = 1.0
    # How long finished spans wait in the process before they are sent, at most.
    otel_batch_delay_ms: int = 1000
    data_dir: str = str(PROJECT_ROOT / ".data")
    # Pins what "today" is at every resort (an ISO date, e.g. 2028-02-29) for every process of a run: tests
    # and demos on a chosen day (app/clock.py). Empty: each resort's real date in its own time zone.
    # Refused in production.
    today: str = ""

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: list[str] = []
    # Cacheable reads (the public catalogue, app/http_semantics/caching.py): how long a client or a shared
    # cache may reuse an answer before revalidating it with If-None-Match (304); answers larger than
    # http_cache_max_body_bytes are not buffered to compute their ETag.
    http_cache_max_age_s: int = 60
    http_cache_max_body_bytes: int = 2_097_152
    # Load balancers / reverse proxies (addresses or networks, comma separated) whose X-Forwarded-For is
    # believed; from anybody else the header is ignored. Empty: the TCP peer is the client.
    trusted_proxies: list[str] = []

    database_url: str = "postgresql://postgres@127.0.0.1:55432/resort"
    database_pool_min: int = 2
    database_pool_max: int = 10
    redis_url: str = "redis://127.0.0.1:56379/0"
    redis_pool_max: int = 200
    redis_pool_timeout_s: float = 5.0
    kafka_bootstrap: str = "127.0.0.1:59092"
    kafka_topic_prefix: str = "resort."
    # How long a consumer lets the broker hold a fetch that finds nothing (app/fetch_pace.py): this long
    # while messages flow; each empty poll doubles it up to kafka_idle_fetch_wait_ms. The local broker
    # answers a held fetch only when the hold ends, so the busy hold bounds a saga hop's wait and the idle
    # hold bounds the first hop after a quiet spell (and how often an idle consumer asks). 1-5000 ms.
    kafka_fetch_wait_ms: int = 20
    kafka_idle_fetch_wait_ms: int = 250
    mongo_url: str = "mongodb://127.0.0.1:57017"
    mongo_db: str = "resort"
    elasticsearch_url: str = "http://127.0.0.1:59200"
    search_index: str = "products"

    oidc_issuer: str = "http://127.0.0.1:59000"
    oidc_client_id: str = "resort-backend"
    oidc_client_secret: str = DEMO_OIDC_CLIENT_SECRET
    oidc_scopes: str = "openid email profile groups offline_access"
    oidc_api_audience: str = "https://api.resort.local"
    # IdP group -> app role, as "group=role,group=role".
    role_map: str = ("customers=guest,front-desk=front_desk,resort-admins=admin,staff=front_desk,"
                     "housekeeping=housekeeping")
    # IdP groups "<prefix><property id>" grant the user's staff roles (front desk, housekeeping) at that
    # property; they ride in the session's roles as "property:<id>" and are read again at every refresh.
    # Staff with no such group act on no property; admin acts on all.
    property_group_prefix: str = "property:"

    jwt_issuer: str = "http://127.0.0.1:8000"
    jwt_audience: str = "resort-api"
    jwt_keys_file: str = ""
    access_token_ttl: int = 300
    refresh_token_ttl: int = 14 * 24 * 3600
    session_idle_timeout: int = 30 * 60
    session_absolute_timeout: int = 12 * 3600
    # Seconds after a refresh during which the spent refresh token yields the same successor again (two
    # tabs refreshing at once); 0 turns it off. Later use of a spent token is reuse and ends the session.
    refresh_reuse_grace_s: int = 10
    cookie_secure: bool = True

    rate_limit_login_per_minute: int = 20
    rate_limit_refresh_per_minute: int = 30
    rate_limit_api_per_minute: int = 600
    # Invalid tokens per client address and minute before its unverified tokens are answered 429 unchecked.
    rate_limit_bad_tokens_per_minute: int = 60
    # Auth (app/auth): leeway, the gateway's local caches, login state, IdP calls and outage answers.
    jwt_leeway_s: int = 60
    auth_cache_ms: int = 500
    auth_token_cache_size: int = 10_000
    login_state_ttl: int = 300
    oidc_id_token_algs: list[str] = msgspec.field(default_factory=lambda: ["RS256", "ES256"])
    oidc_jwks_ttl: int = 3600
    idp_timeout_s: float = 3.0
    idp_retry_after_s: int = 15

    health_timeout_s: float = 2.0
    # /health/ready: its answer is reused for this long, and each address may ask this often per minute.
    health_cache_ms: int = 1000
    health_rate_limit_per_minute: int = 120
    # Bearer token for the operators' /health/detail; empty: only callers on this machine (not in production).
    health_token: str = ""
    seed_on_up: bool = True

    # Change propagation (sync/) and search (app/search/).
    relay_poll_interval_s: float = 0.05
    # Published outbox rows are kept this long (debugging, replays), then pruned by the relay leader.
    outbox_retention_s: int = 3600
    relay_batch_size: int = 200
    projector_group: str = "catalog-projector"
    projector_max_attempts: int = 3
    reconcile_interval_s: float = 300.0
    # The nights a product's "from" price reads, from today at the resort: the product page's
    # ``from_price`` and search's ``price_min``/``price_max`` (app.catalog.domain.price_range).
    search_price_horizon_days: int = 90
    search_max_page_size: int = 50
    search_cache_ttl_s: int = 60
    # Search ranked by popularity: with sort=relevance a product's score is its text relevance plus
    # search_popularity_weight * log10(1 + popularity), popularity being its bookings + views/10 of the last
    # search_popularity_days days (the activity rollups; the activity role updates the changed products'
    # documents after each rollup round). The weight is between 0 and 10 (0 turns popularity off: the
    # order is relevance, ties by product id); the window between 1 and 366 days.
    search_popularity_weight: float = 0.5
    search_popularity_days: int = 30
    # Holds (app/holds): lifetime, limits against hoarding, Redis locks and sold-out marks.
    hold_ttl_s: int = 600
    hold_max_lifetime_s: int = 1800
    hold_max_active_per_user: int = 5
    hold_max_active_per_partner: int = 500
    hold_rate_per_minute: int = 60
    hold_lock_ttl_ms: int = 2000
    hold_lock_wait_ms: int = 300
    hold_soldout_mark_ms: int = 2000
    hold_commit_pool: int = 10
    # Requests of one api process waiting for a commit connection (hold_commit_pool): at most
    # hold_commit_queue wait, each at most hold_commit_wait_ms; past either bound the answer is 503 busy
    # with Retry-After. The per-night locks have their own budget (hold_lock_wait_ms), from when they are
    # asked for: after the hold's own rows are written, so a slow write never spends it.
    hold_commit_queue: int = 500
    hold_commit_wait_ms: int = 5000
    # Holds of one night of one product that queue behind that night's writer in this api process are
    # decided together, at most hold_coalesce_max a round (one transaction, one guarded update; 1: each
    # alone); at most hold_coalesce_waiting claims of the process wait so (past it: 503 busy).
    hold_coalesce_max: int = 64
    hold_coalesce_waiting: int = 5000
    sale_horizon_days: int = 400
    # Idempotency keys: how long an answer is replayed, how long a running request owns its key.
    idempotency_retention_s: int = 86_400
    idempotency_lock_s: int = 30
    # The sweeper (app/holds/sweeper.py): how often it looks for due holds, how many per batch.
    sweeper_interval_s: float = 0.5
    sweeper_batch_size: int = 200
    # The booking saga (sagas/): a step's deadline, how often its command is re-sent before compensating,
    # the saga's overall deadline, the payment provider's call timeout, the Kafka consumer groups.
    saga_step_timeout_s: float = 5.0
    saga_max_resends: int = 2
    saga_deadline_s: int = 120
    # Payments (app/payments): the provider's API (the Stripe API; locally the sandbox, app/payments/sandbox)
    # and its key; each call's own timeout (payment_timeout_s is the authorization's); how often a failed
    # call is retried within a step and the first pause between tries (doubling); how often money still owed
    # back (a void or refund that kept failing) is tried again, and after how many tries it needs an
    # operator; the sandbox's late answer (tok_late); the reconciliation's period and look-back window.
    # payment_unavailable_retry_after_s: the Retry-After (1-300 s) of POST /bookings' 503
    # payment_provider_unavailable (the provider did not answer the payment's opening; nothing was kept).
    payment_provider_url: str = "http://127.0.0.1:59400"
    payment_api_key: str = "sk_test_sandbox"
    payment_timeout_s: float = 2.0
    payment_open_timeout_s: float = 2.0
    payment_capture_timeout_s: float = 2.0
    payment_void_timeout_s: float = 2.0
    payment_refund_timeout_s: float = 2.0
    payment_retrieve_timeout_s: float = 1.0
    payment_unavailable_retry_after_s: int = 5
    payment_retry_attempts: int = 3
    payment_retry_backoff_s: float = 0.05
    payment_owed_retry_interval_s: float = 30.0
    payment_owed_attention_after: int = 5
    payment_sandbox_late_s: float = 3.0
    payments_reconcile_interval_s: float = 300.0
    payments_reconcile_window_h: int = 72
    # Commands a saga consumer works on at once (one booking's commands still one after another).
    saga_consumer_concurrency: int = 32
    saga_group: str = "saga-orchestrator"
    views_reconcile_interval_s: float = 5.0
    # Repair paths (booking views, live channels) follow the outbox from a watermark: a round reads at most
    # repair_batch_size events committed since the last round, leaving those younger than repair_settle_s
    # to their consumers (app/watermarks.py).
    repair_batch_size: int = 1000
    repair_settle_s: float = 2.0
    services_group: str = "saga-services"
    # The front desk's stay lists (app/frontdesk/views.py): a Redis hash per property and day kept by the
    # ``frontdesk-views`` role from events, rebuilt from PostgreSQL when missing. How long an untouched day
    # is kept, how often the bookings named by events since the repair's watermark are compared with it,
    # and the role's consumer group; how many days each api process keeps decoded (checked at each read).
    frontdesk_view_ttl_s: int = 3 * 24 * 3600
    frontdesk_view_cache_days: int = 32
    frontdesk_views_reconcile_s: float = 5.0
    frontdesk_views_group: str = "frontdesk-views"
    # The room board's answers each api process keeps encoded, one per (property, dates), each valid while
    # the property's board version holds (app/frontdesk/board_cache.py), at most this many bytes in all
    # (0 keeps none; at most 1 GiB). A 500-room, 30-night board is ~670 KiB.
    frontdesk_board_cache_bytes: int = 32 * 1024 * 1024
    # The night audit (app/frontdesk/night_audit.py), a job of the ``frontdesk-views`` role: it closes each
    # property's previous business day once the property's local clock has passed ``night_audit_hour``
    # (0-23; -1 turns the scheduled audit off, ``resort night-audit`` still works), looking every
    # ``night_audit_interval_s`` (1 s to 1 h).
    night_audit_hour: int = 3
    # A party's size (one booking of several rooms): at most ``party_max_rooms`` rooms (1-50, the most a hold
    # takes) and ``party_max_guests_per_room`` guests a room (1-20; a room type's own occupancy still applies).
    # Past either, a hold or a booking is refused (422 ``party_too_large``, ``too_many_guests_per_room``).
    party_max_rooms: int = 10
    party_max_guests_per_room: int = 6
    night_audit_interval_s: float = 60.0
    # Live updates (realtime/): the publisher's consumer group, per-channel retention, when `reauth` is
    # sent, how often the publisher repairs channels whose events were lost (0: never). Every bound of a
    # /live connection (each broken one closes the socket with its documented close code, realtime/bounds.py):
    live_publisher_group: str = "realtime-publisher"
    live_repair_interval_s: float = 5.0
    live_stream_maxlen: int = 1000
    live_reauth_before_s: int = 30
    live_max_range_days: int = 62
    # Outbound backlog per connection, catch-up included, in frames and in bytes (a resume whose gap is
    # larger gets a fresh snapshot instead); past it availability is conflated, other channels close 4008.
    live_buffer_frames: int = 256
    live_buffer_bytes: int = 1_048_576
    # A frame write that stays blocked this long (the client reads nothing): close 4008.
    live_send_timeout_s: float = 30.0
    # Seconds a socket has to authenticate or subscribe (a handshake that never does: close 4001).
    live_auth_timeout_s: float = 5.0
    # Channels one connection may hold (more: refused with an error frame).
    live_max_channels: int = 32
    # subscribe + unsubscribe requests per second per connection (sustained, and the burst allowed),
    # and every frame a client sends (same); more: close 4029.
    live_subscribes_per_s: float = 5.0
    live_subscribes_burst: int = 40
    live_frames_per_s: float = 20.0
    live_frames_burst: int = 60
    # Largest frame a client may send, in bytes (larger: close 1009).
    live_max_frame_bytes: int = 4096
    # Open connections per client address and per authenticated subject, per api process (more: the
    # handshake is refused with 429 too_many_connections).
    live_connections_per_ip: int = 500
    live_connections_per_subject: int = 16
    # Activity analytics (app/activity/): raw events kept this many days (a TTL index), the api's queue of
    # events waiting for Kafka (beyond it they are dropped and counted, never waited for), the ingesting
    # role's consumer group and fetch size, the rollup's period and batch, and the reports' bounds.
    activity_retention_days: int = 180
    activity_queue_max: int = 10_000
    activity_group: str = "activity-ingest"
    activity_fetch_max: int = 500
    activity_rollup_interval_s: float = 1.0
    activity_rollup_batch: int = 500
    # A subject (guest or partner) with more distinct booked products than this adds no co-booking pairs (a
    # travel agency's bookings are not one guest's taste): a booking costs at most 2x this many pair updates.
    activity_pairs_subject_max: int = 50
    activity_report_max_days: int = 366
    activity_report_max_rows: int = 500
    # Recommendations (app/recommend/): cached answers' lifetime (also invalidated by events), the most
    # items one answer lists, the longest stay asked about, and from how many units left "N left" shows.
    recommend_cache_ttl_s: int = 300
    recommend_max_items: int = 20
    recommend_max_nights: int = 30
    recommend_scarcity_threshold: int = 5
    # A worker role process serves its Prometheus metrics here (0: off); `resort up` gives each its own.
    worker_metrics_port: int = 0
    # After SIGTERM a worker role finishes its current batch and commits its offsets within this long, then
    # its tasks are cancelled (Kubernetes: terminationGracePeriodSeconds is above it).
    worker_stop_timeout_s: float = 10.0
    # More worker roles, "name=module:function" comma separated (plug-ins; the tests add a failing one).
    extra_roles: list[str] = []

    # `resort up`: api processes behind the one api port (uvicorn workers), and how it supervises its
    # processes: restart after a pause that doubles from backoff_s up to backoff_max_s; a run of
    # healthy_s seconds resets it; crash_limit short runs in a row is reported as crash-looping.
    api_workers: int = 1
    # Graceful stop of an api process (SIGTERM): /health/ready answers 503 at once, every /live client is
    # sent a `reconnect` frame with its resume position (backlogs flushed for at most live_drain_s) and
    # closed 1012, new connections are refused, requests in flight get api_shutdown_timeout_s to finish.
    api_shutdown_timeout_s: float = 20.0
    live_drain_s: float = 3.0
    # After SIGTERM, how long the api keeps serving with /health/ready at 503 before it starts to stop: for load
    # balancers that learn from readiness (Kubernetes removes a stopping pod itself: preStop covers it there).
    api_drain_delay_s: float = 0.0
    # Bind the api port with SO_REUSEPORT, so several api processes share it (`resort up --scale api=N`).
    api_reuse_port: bool = False
    supervise_backoff_s: float = 0.5
    supervise_backoff_max_s: float = 30.0
    supervise_healthy_s: float = 30.0
    supervise_crash_limit: int = 5

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build the settings from ``environ`` (default: the process environment).

        Raises :class:`SettingsError` naming the first variable that cannot be parsed.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in msgspec.structs.fields(cls):
            var = PREFIX + field.name.upper()
            if var not in environ:
                continue
            raw = environ[var]
            if field.type == list[str]:
                values[field.name] = [item.strip() for item in raw.split(",") if item.strip()]
                continue
            try:
                values[field.name] = msgspec.convert(raw, field.type, strict=False)
            except msgspec.ValidationError as exc:
                raise SettingsError(f"{var}={raw!r} is not a valid {field.type.__name__}: {exc}") from None
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def to_env(self) -> dict[str, str]:
        """These settings as ``RESORT_*`` variables, for a child process that must see the same ones."""
        env = {}
        for field in msgspec.structs.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = str(value).lower()
            env[PREFIX + field.name.upper()] = str(value)
        return env

    def validate(self) -> None:
        """Checks that need more than a type: URL schemes, positive timeouts."""
        checks = {
            "RESORT_DATABASE_URL": urlsplit(self.database_url).scheme in {"postgresql", "postgres"},
            "RESORT_REDIS_URL": urlsplit(self.redis_url).scheme in {"redis", "rediss"},
            "RESORT_MONGO_URL": urlsplit(self.mongo_url).scheme in {"mongodb", "mongodb+srv"},
            "RESORT_ELASTICSEARCH_URL": urlsplit(self.elasticsearch_url).scheme in {"http", "https"},
            "RESORT_OIDC_ISSUER": urlsplit(self.oidc_issuer).scheme in {"http", "https"},
            "RESORT_KAFKA_BOOTSTRAP": ":" in self.kafka_bootstrap,
            "RESORT_KAFKA_FETCH_WAIT_MS": 1 <= self.kafka_fetch_wait_ms <= 5000,
            "RESORT_KAFKA_IDLE_FETCH_WAIT_MS": self.kafka_fetch_wait_ms <= self.kafka_idle_fetch_wait_ms <= 5000,
            "RESORT_ACCESS_TOKEN_TTL": self.access_token_ttl > 0,
            "RESORT_ACTIVITY_PAIRS_SUBJECT_MAX": self.activity_pairs_subject_max >= 1,
            "RESORT_API_PORT": 0 < self.api_port < 65536,
            "RESORT_API_WORKERS": self.api_workers >= 1,
            "RESORT_API_SHUTDOWN_TIMEOUT_S": self.api_shutdown_timeout_s > 0,
            "RESORT_WORKER_STOP_TIMEOUT_S": self.worker_stop_timeout_s > 0,
            "RESORT_SUPERVISE_BACKOFF_S": 0 < self.supervise_backoff_s <= self.supervise_backoff_max_s,
            "RESORT_SUPERVISE_CRASH_LIMIT": self.supervise_crash_limit >= 1,
            "RESORT_OTEL_EXPORTER": self.otel_exporter in ("none", "console", "otlp"),
            "RESORT_OTEL_ENDPOINT": urlsplit(self.otel_endpoint).scheme in {"http", "https"},
            "RESORT_OTEL_SAMPLE_RATIO": 0.0 <= self.otel_sample_ratio <= 1.0,
            "RESORT_OTEL_BATCH_DELAY_MS": self.otel_batch_delay_ms > 0,
            "RESORT_TODAY": _is_iso_date(self.today),
            "RESORT_EXTRA_ROLES": all("=" in item and ":" in item for item in self.extra_roles),
            **{f"RESORT_{name.upper()}": getattr(self, name) > 0 for name in LIVE_BOUNDS},
            "RESORT_PAYMENT_PROVIDER_URL": urlsplit(self.payment_provider_url).scheme in {"http", "https"},
            "RESORT_PAYMENT_RETRY_ATTEMPTS": self.payment_retry_attempts >= 1,
            "RESORT_PAYMENT_UNAVAILABLE_RETRY_AFTER_S": 1 <= self.payment_unavailable_retry_after_s <= 300,
            "RESORT_SAGA_CONSUMER_CONCURRENCY": self.saga_consumer_concurrency >= 1,
            "RESORT_SEARCH_POPULARITY_WEIGHT": 0.0 <= self.search_popularity_weight <= 10.0,
            "RESORT_SEARCH_POPULARITY_DAYS": 1 <= self.search_popularity_days <= 366,
            "RESORT_NIGHT_AUDIT_HOUR": -1 <= self.night_audit_hour <= 23,
            "RESORT_PARTY_MAX_ROOMS": 1 <= self.party_max_rooms <= 50,
            "RESORT_FRONTDESK_BOARD_CACHE_BYTES": 0 <= self.frontdesk_board_cache_bytes <= 1 << 30,
            "RESORT_PARTY_MAX_GUESTS_PER_ROOM": 1 <= self.party_max_guests_per_room <= 20,
            "RESORT_NIGHT_AUDIT_INTERVAL_S": 1 <= self.night_audit_interval_s <= 3600,
            **{f"RESORT_{name.upper()}": getattr(self, name) > 0 for name in (
                "payment_timeout_s", "payment_open_timeout_s", "payment_capture_timeout_s", "payment_void_timeout_s",
                "payment_refund_timeout_s", "payment_retrieve_timeout_s")},
        }
        for var, ok in checks.items():
            if not ok:
                raise SettingsError(f"{var} has an invalid value")
        self._validate_production()
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as exc:
            raise SettingsError(f"RESORT_TRUSTED_PROXIES has an invalid entry: {exc}") from None

    def _validate_production(self) -> None:
        """With ``RESORT_ENV=production`` the development defaults that would be unsafe stop the process."""
        if self.env != "production":
            return
        if self.oidc_client_secret in ("", DEMO_OIDC_CLIENT_SECRET):
            raise SettingsError("RESORT_OIDC_CLIENT_SECRET is the demo secret (or empty); production needs the "
                                "backend's real client secret at the IdP")
        if self.today:
            raise SettingsError("RESORT_TODAY is refused in production: the business date is the real one")
        if not self.cookie_secure:
            raise SettingsError("RESORT_COOKIE_SECURE=false is refused in production: session cookies must be Secure")

    def roles_for_groups(self, groups: list[str]) -> list[str]:
        """Map IdP groups to the app's roles by ``role_map``; everyone is at least a guest."""
        mapping = dict(pair.split("=", 1) for pair in self.role_map.split(",") if "=" in pair)
        roles = {mapping[g] for g in groups if g in mapping}
        prefix = self.property_group_prefix
        roles |= {PROPERTY_GRANT + g[len(prefix):] for g in groups if prefix and g.startswith(prefix) and g != prefix}
        roles.add("guest")
        return sorted(roles)

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"


def _is_iso_date(raw: str) -> bool:
    try:
        parse_today(raw)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings.from_env()
