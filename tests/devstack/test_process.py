"""devstack/process.py without a server: real child processes, a real listening socket, a toy supervisor."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from devstack import process
from devstack.process import Daemon, DevstackError, NotReady, Supervisor

SLEEPER = "import time; time.sleep(60)"
# Ignores SIGTERM: only SIGKILL stops it.
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)
# A child of its own, in the same process group.
PARENT = (
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "time.sleep(60)"
)


def marker() -> str:
    return f"--oil-test-marker={uuid.uuid4().hex}"


@pytest.fixture
def child():
    """Start `python -c CODE MARKER` children; whatever is left is killed at the end."""
    started: list[subprocess.Popen] = []

    def start(code: str = SLEEPER, mark: str | None = None, **popen) -> tuple[subprocess.Popen, str]:
        mark = mark or marker()
        started.append(subprocess.Popen([sys.executable, "-c", code, mark], **popen))
        return started[-1], mark

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# Its main thread exits and another goes on, as a JVM's main thread may while the JVM shuts down.
LEADER_GONE_THREAD_LEFT = (
    "import ctypes, threading, time; threading.Thread(target=time.sleep, args=(60,)).start(); "
    "ctypes.CDLL(None).pthread_exit(None)"
)


def test_a_process_is_alive_while_any_of_its_threads_runs(child):
    proc, _ = child(LEADER_GONE_THREAD_LEFT)
    process.wait_for("the leader thread gone", lambda: process._stat(proc.pid)[0] == "Z", timeout=10, interval=0.05)

    assert process.alive(proc.pid)  # its sockets and files are still open

    proc.kill()
    process.wait_for("the process gone", lambda: not process.alive(proc.pid), timeout=10, interval=0.05)


def test_find_alive_terminate(child):
    proc, mark = child()
    process.wait_for("the child's command line", lambda: process.find(mark), timeout=10, interval=0.05)
    assert process.find(mark) == [proc.pid]
    assert process.find(mark, "--no-such-argument") == []
    assert process.find() == []  # no marker finds nothing, not everything
    assert process.alive(proc.pid)
    assert mark in process.cmdline(proc.pid)
    assert abs(process.start_time(proc.pid) - time.time()) < 30
    assert process.terminate([proc.pid], "the child", timeout=5) == [proc.pid]
    assert not process.alive(proc.pid)  # exited and reaped (no zombie counts as alive)
    assert process.find(mark) == []
    assert process.cmdline(proc.pid) == []


def test_terminate_kills_what_ignores_sigterm(child):
    proc, _ = child(STUBBORN, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    said = []
    started = time.monotonic()
    process.terminate([proc.pid], "the stubborn child", timeout=0.5, say=said.append)
    assert not process.alive(proc.pid)
    assert time.monotonic() - started < 5
    assert said == [f"the stubborn child (pid {proc.pid}) did not stop within 0 s: SIGKILL"]


def test_terminate_of_a_group_stops_the_descendants_too(child):
    proc, _ = child(PARENT, start_new_session=True)
    grandchildren = process.wait_for("the grandchild", lambda: process.descendants(proc.pid), timeout=10, interval=0.05)
    stopped = process.terminate([proc.pid], "the parent", timeout=5, groups=True)
    assert set(stopped) == {proc.pid, *grandchildren}
    assert not any(process.alive(pid) for pid in stopped)


def test_ports_of_a_real_listening_socket():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert process.port_in_use(port)
        assert process.listener_pids(port) == [process.os.getpid()]
        (taken,) = process.taken_ports({port: "a test port"})
        assert taken.startswith(f"127.0.0.1:{port} (a test port) is in use by pid {process.os.getpid()}: ")
    assert not process.port_in_use(port)
    assert process.listener_pids(port) == []
    assert process.taken_ports({port: "a test port"}) == []


def test_wait_for_returns_the_first_truthy_answer():
    answers = iter([None, OSError("refused"), KeyError("status"), {}, {"status": "ALIVE"}])

    def check():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer  # "not yet"
        return answer

    assert process.wait_for("the master", check, timeout=5, interval=0.01) == {"status": "ALIVE"}


def test_wait_for_times_out_with_one_line_naming_what_and_where():
    def refused():
        raise ConnectionRefusedError("connection refused")

    started = time.monotonic()
    with pytest.raises(NotReady) as raised:
        process.wait_for("the Spark cluster", refused, timeout=0.3, interval=0.05, where="spark://127.0.0.1:7377")
    assert time.monotonic() - started < 3
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("the Spark cluster at spark://127.0.0.1:7377: not ready after 0 s")
    assert "connection refused" in message
    assert isinstance(raised.value, TimeoutError) and isinstance(raised.value, DevstackError)


def test_wait_for_gives_up_when_the_watch_raises():
    def watch():
        raise DevstackError("the master exited during start")

    with pytest.raises(DevstackError, match="exited during start"):
        process.wait_for("the master", lambda: None, timeout=30, watch=watch)


def test_lock_lets_one_holder_at_a_time(tmp_path):
    events = []

    def second():
        with process.locked(tmp_path):
            events.append("second")

    with process.locked(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        events.append("first")
    thread.join(5)
    assert events == ["first", "second"]


def test_tail_of_a_log(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert process.tail(log, 2) == "  line 98\n  line 99"
    assert process.tail(tmp_path / "missing.log") == "  (no log)"


class Toy(Supervisor):
    """Two sleeping daemons; ready once both run (a file they never write would do as well)."""

    tag = "toy"
    what = "the toy"
    start_timeout = 5.0
    stop_timeout = 5.0
    interval = 0.05
    min_wait = 0.0

    def __init__(self, home: Path, port: int, ready: bool = True) -> None:
        super().__init__(home)
        self.port, self.ready = port, ready

    def daemons(self) -> list[Daemon]:
        mark = f"--toy={self.home}"
        return [
            Daemon("one", [sys.executable, "-c", SLEEPER, mark, "one"], {self.port: "toy port"}, (mark, "one")),
            Daemon("two", [sys.executable, "-c", SLEEPER, mark, "two"], {}, (mark, "two")),
        ]

    def probe(self) -> bool:
        return self.ready and len(self.running()) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_supervisor_up_is_idempotent_and_down_leaves_nothing(tmp_path, capsys):
    toy = Toy(tmp_path, free_port())
    try:
        assert toy.up() > 0
        pids = toy.running()
        assert set(pids) == {"one", "two"}
        assert toy.up() == 0.0  # already running: nothing new
        assert toy.running() == pids
        assert "already running" in capsys.readouterr().out
        (toy.run_dir / "two.pid").unlink()  # a pid file removed by hand: found by its markers
        assert toy.running() == pids
        assert toy.status_lines(5)[0] == f"one   running, pid {pids['one']}"
    finally:
        stopped = toy.down()
    assert set(pids.values()) <= set(stopped)
    assert not any(process.alive(pid) for pid in pids.values())
    assert toy.running() == {}
    assert toy.down() == []


def test_supervisor_refuses_a_taken_port_and_starts_nothing(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        toy = Toy(tmp_path, holder.getsockname()[1])
        taken = r"cannot start the one: 127\.0\.0\.1:\d+ \(toy port\) is in use by pid"
        with pytest.raises(DevstackError, match=taken):
            toy.up()
    assert toy.running() == {}


def test_supervisor_that_is_never_ready_stops_what_it_started(tmp_path):
    toy = Toy(tmp_path, free_port(), ready=False)
    with pytest.raises(NotReady, match=rf"the toy at {tmp_path}: not ready after 0 s.*; logs in "):
        toy.up(timeout=0.3)
    assert toy.running() == {}
