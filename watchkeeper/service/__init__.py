"""The collector's application service: monitors, write-ahead log and alerts, no web.

:class:`Service` is what ``watchkeeper serve`` runs behind its HTTP routes, and what the
CLI, the demo and the tests drive directly: it checks and durably logs each write, feeds
the models' :class:`~watchkeeper.monitor.Monitor`\\ s in log order, evaluates alert rules
as windows close, and replays the log after a restart. Nothing here imports a web
framework; ``watchkeeper.server`` is a thin HTTP layer on top. A write it cannot take
now (a full disk, a full ingest queue) raises :class:`Unavailable`, which says when to
retry.
"""

from __future__ import annotations

from watchkeeper.service.config import ModelConfig, ServerConfig, load_config, parse_config
from watchkeeper.service.service import Ack, Service
from watchkeeper.service.unavailable import Unavailable

__all__ = [
    "Ack",
    "ModelConfig",
    "ServerConfig",
    "Service",
    "Unavailable",
    "load_config",
    "parse_config",
]
