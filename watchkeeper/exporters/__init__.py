"""Exports to other tools: the Prometheus exposition, Prometheus alerting rules and a
Grafana dashboard, all under the Prometheus names of :mod:`watchkeeper.metrics`."""

from __future__ import annotations

from watchkeeper.exporters.prometheus import EXPORTED, MonitorCollector

__all__ = ["EXPORTED", "MonitorCollector"]
