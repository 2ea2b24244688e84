"""The collector's application service: monitors, write-ahead log and alerts, no web.

:class:`Service` is what ``watchkeeper serve`` runs behind its HTTP routes, and what the
CLI, the demo and the tests drive directly: it checks and durably logs each write, feeds
the models' :class:`~watchkeeper.monitor.Monitor`\\ s in log order, evaluates alert rules
as windows close, and replays the log after a restart. Nothing here imports a web
framework; ``watchkeeper.server`` is a thin HTTP layer on top.
"""

from __future__ import annotations

from watchkeeper.service.config import ModelConfig, ServerConfig, load_config, parse_config
from watchkeeper.service.service import Ack, Service

__all__ = ["Ack", "ModelConfig", "ServerConfig", "Service", "load_config", "parse_config"]
