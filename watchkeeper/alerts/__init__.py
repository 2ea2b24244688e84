"""Alerting: rules on metric points, the engine that fires and resolves them, silences,
notifiers and the actions (retraining) a firing alert starts.

- :mod:`~watchkeeper.alerts.rules`: the ``rules:`` of a config file, validated;
- :mod:`~watchkeeper.alerts.engine`: evaluates rules when a window closes (state machine
  pending -> firing -> resolved, with reminders), records alerts in the store;
- :mod:`~watchkeeper.alerts.silences`: matchers that hold notifications back until a time;
- :mod:`~watchkeeper.alerts.notifiers`: webhook, Slack, e-mail and log notifiers;
- :mod:`~watchkeeper.alerts.actions`: commands or webhooks run for a firing alert.
"""

from __future__ import annotations

from watchkeeper.alerts.actions import Action, ActionRunner, parse_actions
from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.rules import Rule, parse_rules
from watchkeeper.alerts.silences import Silences

__all__ = [
    "Action",
    "ActionRunner",
    "AlertEngine",
    "AlertEvent",
    "Rule",
    "Silences",
    "parse_actions",
    "parse_rules",
]
