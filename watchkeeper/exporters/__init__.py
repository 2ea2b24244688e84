"""Exports to other tools: Prometheus exposition (and, later, Grafana and rules)."""

from __future__ import annotations

from watchkeeper.exporters.prometheus import EXPORTED, MonitorCollector

__all__ = ["EXPORTED", "MonitorCollector"]
