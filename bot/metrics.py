"""Prometheus metrics, one registry per service instance (so tests can run many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """Every metric the service exports on ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.posts_ingested = Counter(
            "convoywatch_posts_ingested", "Posts stored (new or edited), by channel", ["channel"], registry=r
        )
        self.posts_deleted = Counter(
            "convoywatch_posts_deleted", "Posts marked deleted, by channel", ["channel"], registry=r
        )
        self.relevant_posts = Counter(
            "convoywatch_relevant_posts", "Posts classified relevant, by channel", ["channel"], registry=r
        )
        self.post_errors = Counter(
            "convoywatch_post_errors", "Posts that could not be analysed (stored with the error)", registry=r
        )
        self.events = Counter("convoywatch_events", "Events extracted and stored", registry=r)
        self.incidents = Counter("convoywatch_incidents", "New incidents created", registry=r)
        self.digests_pending = Gauge(
            "convoywatch_digests_pending",
            "Digest parts committed but not yet accepted by Telegram",
            registry=r,
        )
        self.digests_sent = Counter("convoywatch_digests_sent", "Digest parts delivered", registry=r)
        self.alerts_queued = Counter("convoywatch_alerts_queued", "Immediate alerts queued", registry=r)
        self.flood_waits = Counter(
            "convoywatch_flood_waits", "Telegram flood waits, by what was waiting", ["scope"], registry=r
        )
        self.flood_wait_seconds = Counter(
            "convoywatch_flood_wait_seconds", "Seconds asked to wait by Telegram", ["scope"], registry=r
        )
        self.backfill_lag = Gauge(
            "convoywatch_backfill_lag_messages",
            "Messages known to exist after the channel cursor",
            ["channel"],
            registry=r,
        )
        self.processing_seconds = Histogram(
            "convoywatch_processing_seconds",
            "From a post arriving to its events stored and alerts queued",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )

        # --- operations (bot/health.py) ---------------------------------------------------
        self.source_state = Gauge(
            "convoywatch_source_state",
            "1 for the post source's current state, 0 for the others",
            ["state"],
            registry=r,
        )
        self.store_writable = Gauge(
            "convoywatch_store_writable", "1 when the last heartbeat found the database writable", registry=r
        )
        self.heartbeats = Counter(
            "convoywatch_heartbeats", "Heartbeats (each one checks the store)", registry=r
        )

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return bytes(generate_latest(self.registry))
