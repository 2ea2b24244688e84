"""E-mail over SMTP."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from watchkeeper.alerts.engine import AlertEvent
from watchkeeper.alerts.notifiers.webhook import message

__all__ = ["EmailNotifier"]


class EmailNotifier:
    """Send one plain-text mail per event through an SMTP server."""

    def __init__(self, name: str, *, host: str, port: int, sender: str, to: Sequence[str]) -> None:
        self.name, self.host, self.port, self.sender, self.to = name, host, port, sender, list(to)

    def send(self, event: AlertEvent) -> None:
        mail = EmailMessage()
        mail["Subject"] = (
            f"[{event.kind.upper()}] {event.rule.name} on {event.model} v{event.version}"
        )
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        lines = [message(event), "", "Evidence:"]
        lines += [f"  {k}: {v}" for k, v in sorted(event.evidence.items())]
        mail.set_content("\n".join(lines))
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(mail)
