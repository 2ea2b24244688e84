"""Shared fixtures: a clean environment, and the real services the suite starts itself.

PostgreSQL: the session starts one server (Debian ``postgresql``, installed by
``make test``) in a temporary directory on 127.0.0.1 and a free port, and stops it at
the end. Without its binaries an integration test skips locally and fails under
``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PG_BIN_ROOT = Path("/usr/lib/postgresql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def missing_component(what: str) -> None:
    """Fail under CI (a missing component is a broken machine), skip otherwise."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed; make test installs it (scripts/system-deps)")
    pytest.skip(f"{what} is not installed (run make test to install it)")


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WATCHKEEPER_"):
            monkeypatch.delenv(name)


def _pg_bin() -> Path | None:
    versions = sorted(PG_BIN_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


class _Postgres:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.datadir = Path(tempfile.mkdtemp(prefix="wk-pg-", dir="/tmp"))
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self.as_postgres:
            shutil.chown(self.datadir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        d = self.datadir
        self._run(
            self.bindir / "initdb",
            "-D",
            str(d),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {d} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            self.bindir / "pg_ctl",
            "-D",
            str(d),
            "-l",
            str(d / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(self.bindir / "pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.datadir, ignore_errors=True)

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"wk_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_Postgres]:
    bindir = _pg_bin()
    if bindir is None:
        missing_component("PostgreSQL (Debian package postgresql)")
    assert bindir is not None
    server = _Postgres(bindir)
    t0 = time.monotonic()
    server.start()
    print(f"PostgreSQL on 127.0.0.1:{server.port} in {time.monotonic() - t0:.1f} s")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: _Postgres) -> str:
    """A fresh database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of Prometheus's promtool (Debian package prometheus)."""
    path = shutil.which("promtool")
    if path is None:
        missing_component("promtool (Debian package prometheus)")
    assert path is not None
    return path


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers 2xx."""
    import httpx

    end = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2.0).is_success:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > end:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.1)


class Prometheus:
    """A real Prometheus server on 127.0.0.1 scraping the given targets every second."""

    def __init__(
        self,
        binary: str,
        targets: list[str],
        workdir: Path,
        *,
        rule_file: Path | None = None,
        alertmanager: str | None = None,
    ) -> None:
        import yaml

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config: dict = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {"job_name": f"t{i}", "static_configs": [{"targets": [t]}]}
                for i, t in enumerate(targets)
            ],
        }
        if rule_file is not None:
            config["rule_files"] = [str(rule_file)]
        if alertmanager is not None:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]
            }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(workdir / "prometheus.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--rules.alert.resend-delay=1s",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_http(f"{self.url}/-/ready")

    def query(self, promql: str) -> list[dict]:
        import httpx

        r = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10.0)
        r.raise_for_status()
        return list(r.json()["data"]["result"])

    def wait_for(self, promql: str, timeout: float = 60.0) -> list[dict]:
        end = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if result:
                return result
            if time.monotonic() > end:
                raise TimeoutError(f"no result for {promql} within {timeout} s")
            time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[..., Prometheus]]:
    """Start a Prometheus scraping the given ``host:port`` targets (stopped after)."""
    binary = shutil.which("prometheus")
    if binary is None:
        missing_component("Prometheus (Debian package prometheus)")
    assert binary is not None
    started: list[Prometheus] = []

    def start(targets: list[str], **options: Any) -> Prometheus:
        work = Path(tempfile.mkdtemp(prefix="wk-prom-", dir=tmp_path))
        server = Prometheus(binary, targets, work, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Start a real Alertmanager routing every alert to the webhook ``url`` at once;
    returns its ``host:port``."""
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        missing_component("Alertmanager (Debian package prometheus-alertmanager)")
    assert binary is not None
    procs: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(webhook_url: str) -> str:
        import yaml

        work = Path(tempfile.mkdtemp(prefix="wk-am-", dir=tmp_path))
        config = {
            "route": {
                "receiver": "hook",
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {"name": "hook", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}
            ],
        }
        (work / "alertmanager.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log = open(work / "alertmanager.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={work / 'alertmanager.yml'}",
                f"--storage.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append((proc, log))
        wait_http(f"http://127.0.0.1:{port}/-/ready")
        return f"127.0.0.1:{port}"

    yield start
    for proc, log in procs:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
"""Screenshots and other files a test run leaves for people to look at (git-ignored)."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        missing_component("chromium (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield b
        finally:
            b.close()


SPARK_TEST_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    # the test frames are a few thousand rows: two shuffle partitions, no adaptive
    # re-planning, pandas frames sent to the JVM as Arrow
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "512m",
    # short jobs: the JIT's first tier only and one GC thread start the JVM sooner
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
"""The test session's Spark settings (the library's own defaults are in
:func:`watchkeeper.integrations.spark.default_session`)."""


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One ``local[2]`` SparkSession for the whole test run (a JVM start costs seconds)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        missing_component('pyspark (pip install "watchkeeper[spark]")')
    if shutil.which("java") is None:
        missing_component("Java (Debian openjdk-17-jre-headless; make test installs it)")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the venv, with watchkeeper
    builder = SparkSession.builder.master("local[2]").appName("watchkeeper-tests")
    for key, value in SPARK_TEST_CONF.items():
        builder = builder.config(key, value)
    t0 = time.monotonic()
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    print(f"SparkSession local[2] (JVM start) in {time.monotonic() - t0:.1f} s")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """One ``LocalCluster`` of 2 worker processes on 127.0.0.1 for the whole test run."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed
    except ImportError:
        missing_component('dask and distributed (pip install "watchkeeper[dask]")')
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # any free port: 8787 may be taken
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve an ASGI ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yields its
    URL once ``/readyz`` answers, and stops the server at the end."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/readyz")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
