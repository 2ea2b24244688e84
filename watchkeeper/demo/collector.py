"""The demo's collector process: ``watchkeeper serve`` with the accelerated clock.

It is what ``watchkeeper serve --config watchkeeper.yaml`` runs — the collector, its
write-ahead log, analysis, alert rules, retraining action, ``/metrics`` and the
dashboard — except that its clock is the demo's :class:`AcceleratedClock`, started
by a JSON line on stdin (see :mod:`watchkeeper.demo._processes`), so windows close,
alert durations and action cool-downs count in simulated time.

``python -m watchkeeper.demo.collector --config watchkeeper.yaml --port 8000
--sim-start 1.7e9 --speed 2400``
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from watchkeeper.demo._processes import read_clock
from watchkeeper.demo.clock import AcceleratedClock

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sim-start", type=float, required=True)
    parser.add_argument("--speed", type=float, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import uvicorn

    from watchkeeper.server.app import create_app
    from watchkeeper.service import Service
    from watchkeeper.service.config import load_config

    clock = AcceleratedClock(args.sim_start, args.speed)
    read_clock(clock)
    cfg = load_config(args.config)
    collector = Service(cfg, clock=clock)
    app = create_app(cfg, service=collector, config_path=args.config)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
