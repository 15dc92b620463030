"""The processes of the dev stack's servers (HDFS, the Spark cluster, the Airflow stack): one helper for all.

Find processes by a marker on their command line, tell whether one is alive, stop them (SIGTERM,
wait, SIGKILL), who listens on a port, wait until a server is ready (a probe and a timeout), a lock
for up/down, the tail of a log, and `Supervisor`: the up/down skeleton every server fills in.
Linux (/proc) and Python's standard library only: `make hdfs-up` runs before `make setup`.

Why not supervisor (supervisord, PyPI)? It would replace the start/stop/pid-file part (a few dozen
lines here), and cost a daemon of its own to start, find and stop, a config file per server (ports
and homes change per test and per OIL_* variable), one more package before `make setup`, and it has
no readiness of its own: a process that runs is not an HDFS out of safe mode, a Spark master with
its workers ALIVE or a healthy Airflow. Those probes, and stopping what a server started (a worker's
executors, a DAG run's spark-submits), are most of this code and would stay ours. So: our own.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


class DevstackError(Exception):
    """A failure to report to the person: printed without a traceback, exit code 1."""


class NotReady(DevstackError, TimeoutError):
    """wait_for ran out of time."""


# --- processes -------------------------------------------------------------------------------------


def pids() -> Iterator[int]:
    """Every process of this machine but this one."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            yield int(entry.name)


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def find(*markers: str) -> list[int]:
    """Processes whose command line has every marker as a whole argument."""
    return [pid for pid in pids() if markers and set(markers) <= set(cmdline(pid))]


def cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat from its 3rd field (state) on; [] when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def start_time(pid: int) -> float | None:
    """When the process started, in seconds since the epoch (as psutil's create_time); None when gone."""
    fields = _stat(pid)
    if not fields:
        return None
    with open("/proc/stat") as handle:
        boot = next(float(line.split()[1]) for line in handle if line.startswith("btime "))
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The children of a process, their children, and so on."""
    children: dict[int, list[int]] = {}
    for other in pids():
        fields = _stat(other)
        if fields:
            children.setdefault(int(fields[1]), []).append(other)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child of ours that exited stays a zombie until reaped: reap it, it is not alive.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    fields = _stat(pid)
    if not fields:
        return False
    # A JVM's main thread shows as a zombie ("Z") while its other threads still exit and hold its
    # sockets open: it is gone only when no thread but the leader is left.
    return fields[0] != "Z" or _threads(pid) > 1


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def terminate(
    pids: Iterable[int], what: str, timeout: float = 30, groups: bool = False, say: Callable[[str], None] = print
) -> list[int]:
    """SIGTERM each process (its process group when groups), wait until they and their descendants
    have exited, SIGKILL what is left after timeout seconds. Returns every pid it waited for."""
    leaders = list(dict.fromkeys(pids))
    everyone = list(dict.fromkeys([*leaders, *(child for pid in leaders for child in descendants(pid))]))
    for pid in leaders:
        try:
            (os.killpg if groups else os.kill)(pid, signal.SIGTERM)
        except ProcessLookupError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)  # found by its marker, not a group leader
        except PermissionError:
            pass
    deadline = time.monotonic() + timeout
    for pid in everyone:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            say(f"{what} (pid {pid}) did not stop within {timeout:.0f} s: SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while alive(pid):
                time.sleep(0.1)
    return everyone


# --- ports -----------------------------------------------------------------------------------------


def listener_pids(port: int) -> list[int]:
    """Processes listening on a TCP port (Linux /proc; empty when not visible)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(fields[9])
    if not inodes:
        return []
    targets = {f"socket:[{inode}]" for inode in inodes}
    found = []
    for pid in [os.getpid(), *pids()]:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in targets:
                        found.append(pid)
                        break
    return found


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers do: a port left in TIME_WAIT by a stopped server is free to bind again.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def taken_ports(ports: dict[int, str], host: str = "127.0.0.1") -> list[str]:
    """'host:port (what) is in use by pid N: command' for each of ports (port -> what) that is taken."""
    taken = []
    for port, what in ports.items():
        if port_in_use(port, host):
            holders = [f"pid {pid}: {' '.join(cmdline(pid))[:160]}" for pid in listener_pids(port)]
            taken.append(f"{host}:{port} ({what}) is in use by " + ("; ".join(holders) or "another process"))
    return taken


# --- waiting, locks, logs --------------------------------------------------------------------------


def wait_for(
    what: str,
    check: Callable[[], object],
    timeout: float,
    interval: float = 1.0,
    where: str = "",
    watch: Callable[[], None] | None = None,
):
    """Poll check() until it returns something truthy, and return that. An OSError, ValueError or
    KeyError of check() means "not yet". watch() runs before each check and raises to give up (a
    process died). After timeout seconds: NotReady, one line naming what and where."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        if watch:
            watch()
        try:
            last = check()
            if last:
                return last
        except (OSError, ValueError, KeyError) as error:  # not up yet, half-written file, ...
            last = error
        if time.monotonic() > deadline:
            place = f" at {where}" if where else ""
            detail = f" (last: {last!r})" if last not in (None, False, [], {}, "") else ""
            raise NotReady(f"{what}{place}: not ready after {timeout:.0f} s{detail}")
        time.sleep(interval)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One up or down at a time per folder (a server's home)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join("  " + (line if len(line) <= 300 else line[:300] + " ...") for line in text)
    except OSError:
        return "  (no log)"


def http_json(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


# --- the skeleton of a server ----------------------------------------------------------------------


@dataclass
class Daemon:
    """One process of a server: how to start it, the ports it takes, the markers that find it."""

    name: str
    command: list[str] | Callable[[], list[str]]  # a callable: worked out when it starts
    ports: dict[int, str] = field(default_factory=dict)  # port -> what it is for
    markers: tuple[str, ...] = ()  # whole arguments of its command line; () = found by its pid file only
    title: str = ""
    env: dict[str, str] | Callable[[], dict[str, str]] | None = None  # a callable: worked out when it starts
    cwd: Path | None = None  # default: the server's home

    def __post_init__(self) -> None:
        self.title = self.title or self.name


class Supervisor:
    """up/down of a server of daemons, with pid files, logs, a lock, port checks and a readiness probe.

    A server fills in daemons() and probe() (truthy when ready), and may fill in prepare() (before
    any start), summary() and leftovers() (processes to stop after the daemons)."""

    tag = "dev"  # [tag] before every message
    what = "the server"  # in messages: "<what> at <where>: not ready after ..."
    host = "127.0.0.1"  # where the ports are checked
    port_hint = "Stop that process or free the port."
    start_timeout = 180.0
    stop_timeout = 30.0
    interval = 0.5  # between two probes
    min_wait = 10.0  # seconds of probing at least, whatever is left of the timeout after the starts
    all_or_nothing = False  # True: some daemons running and some not is stopped, then all start

    def __init__(self, home: Path, run_dir: Path | None = None, log_dir: Path | None = None) -> None:
        self.home = Path(home)
        self.run_dir = run_dir or self.home / "run"
        self.log_dir = log_dir or self.home / "logs"

    # --- to fill in --------------------------------------------------------------------------------
    def daemons(self) -> list[Daemon]:
        raise NotImplementedError

    def probe(self) -> object:
        raise NotImplementedError

    def where(self) -> str:
        return str(self.home)

    def prepare(self, running: dict[str, int]) -> None:
        """After the ports were checked, before anything starts; may stop and drop from running."""

    def summary(self, state: object) -> str:
        return self.where()

    def leftovers(self) -> list[int]:
        return []

    # --- given -------------------------------------------------------------------------------------
    @classmethod
    def say(cls, message: str) -> None:
        # A closed stdout (`... up | head -1`) must not stop `up` half-way: the message is lost, not the work.
        with contextlib.suppress(BrokenPipeError):
            print(f"[{cls.tag}] {message}", flush=True)

    def pid_file(self, daemon: Daemon) -> Path:
        return self.run_dir / f"{daemon.name}.pid"

    def log_file(self, daemon: Daemon | str) -> Path:
        return self.log_dir / f"{getattr(daemon, 'name', daemon)}.log"

    def running_pid(self, daemon: Daemon) -> int | None:
        """The daemon's pid when it runs: its pid file's (checked against its markers and start
        time), else a process with its markers (pid file removed by hand); None when it does not run."""
        try:
            pid, *started = self.pid_file(daemon).read_text().split()
            pid = int(pid)
        except (OSError, ValueError):
            pid, started = None, []
        if pid and alive(pid) and set(daemon.markers) <= set(cmdline(pid)):
            when = start_time(pid)
            if not started or (when is not None and abs(when - float(started[0])) < 1):
                return pid
        found = find(*daemon.markers) if daemon.markers else []
        return found[0] if found else None

    def running(self) -> dict[str, int]:
        return {d.name: pid for d in self.daemons() if (pid := self.running_pid(d))}

    def check_ports_free(self, daemon: Daemon) -> None:
        taken = taken_ports(daemon.ports, self.host)
        if taken:
            raise DevstackError(f"cannot start the {daemon.title}: " + "; ".join(taken) + f". {self.port_hint}")

    def start_daemon(self, daemon: Daemon) -> int:
        self.check_ports_free(daemon)
        for folder in (self.log_dir, self.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        log = self.log_file(daemon)
        with log.open("a") as out:
            stamp = datetime.now().isoformat(timespec="seconds")
            out.write(f"\n===== {stamp} devstack ({self.tag}) starts the {daemon.title}\n")
            out.flush()
            process = subprocess.Popen(
                daemon.command() if callable(daemon.command) else daemon.command,
                env=daemon.env() if callable(daemon.env) else daemon.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=daemon.cwd or self.home,
                start_new_session=True,  # its own process group (with its children): not stopped with make
            )
        self.pid_file(daemon).write_text(f"{process.pid} {start_time(process.pid)}\n")
        self.say(f"started the {daemon.title} (pid {process.pid}, log {log})")
        return process.pid

    def stop_daemon(self, daemon: Daemon) -> list[int]:
        """Stop the daemon and every process under it; the pids stopped ([] when it did not run)."""
        found = [pid for pid in [self.running_pid(daemon), *find(*daemon.markers)] if pid]
        stopped = terminate(found, f"the {daemon.title}", self.stop_timeout, groups=True, say=self.say)
        if found and daemon.ports:  # stopped means its ports are free for the next up
            closed = f"the {daemon.title}'s ports closed"
            wait_for(closed, lambda: not taken_ports(daemon.ports), self.stop_timeout, interval=0.1)
        for pid in dict.fromkeys(found):
            self.say(f"stopped the {daemon.title} (pid {pid})")
        self.pid_file(daemon).unlink(missing_ok=True)
        return stopped

    def up(self, timeout: float | None = None) -> float:
        """Start what does not run and wait until the server is ready; the seconds it took (0: it ran)."""
        timeout = self.start_timeout if timeout is None else timeout
        started = time.monotonic()
        with locked(self.home):
            daemons = self.daemons()
            running = self.running()
            if len(running) == len(daemons):
                state = None if self.all_or_nothing else self.probe_quietly()
                if self.all_or_nothing or state:
                    pids = ", ".join(f"{d.title} pid {running[d.name]}" for d in daemons)
                    self.say(f"already running ({pids}); {self.summary(state)}")
                    return 0.0
            if running and self.all_or_nothing:
                self.say(f"some daemons run, some not: stopping {', '.join(running)} first")
                self._stop_all()
                running = {}
            for daemon in daemons:  # every port before anything is prepared or started
                if daemon.name not in running:
                    self.check_ports_free(daemon)
            self.prepare(running)
            started_now: list[Daemon] = []
            try:
                for daemon in daemons:
                    if daemon.name in running:
                        self.say(f"the {daemon.title} is already running (pid {running[daemon.name]})")
                    else:
                        running[daemon.name] = self.start_daemon(daemon)
                        started_now.append(daemon)

                def died() -> None:
                    for daemon in daemons:
                        if not alive(running[daemon.name]):
                            self.pid_file(daemon).unlink(missing_ok=True)
                            log = self.log_file(daemon)
                            raise DevstackError(
                                f"the {daemon.title} exited during start; last lines of {log}:\n{tail(log)}"
                            )

                budget = max(self.min_wait, timeout - (time.monotonic() - started))
                state = wait_for(self.what, self.probe, budget, self.interval, self.where(), died)
            except NotReady as error:
                self._stop_started(started_now)
                raise NotReady(f"{error}; logs in {self.log_dir}") from None
            except BaseException:  # a failure or Ctrl-C: leave nothing half-started behind
                self._stop_started(started_now)
                raise
            seconds = time.monotonic() - started
            self.say(f"ready in {seconds:.1f} s: {self.summary(state)}")
            return seconds

    def down(self, names: Iterable[str] | None = None) -> list[int]:
        """Stop the daemons (all by default, in reverse start order); the pids stopped."""
        with locked(self.home):
            return self._stop_all(names)

    def _stop_all(self, names: Iterable[str] | None = None) -> list[int]:
        chosen = set(names) if names else None
        stopped = []
        for daemon in reversed(self.daemons()):
            if chosen is None or daemon.name in chosen:
                stopped += self.stop_daemon(daemon)
        if chosen is None and (strays := self.leftovers()):
            stopped += terminate(strays, "a leftover process", self.stop_timeout, say=self.say)
            self.say(f"stopped leftover processes of {self.home}: {strays}")
        return stopped

    def _stop_started(self, daemons: list[Daemon]) -> None:
        self.say(f"start failed: stopping what this run started (logs stay in {self.log_dir})")
        for daemon in reversed(daemons):
            self.stop_daemon(daemon)

    def probe_quietly(self) -> object:
        try:
            return self.probe()
        except (OSError, ValueError, KeyError):
            return None

    def status_lines(self, width: int) -> list[str]:
        """'<daemon>   running, pid N' or 'not running', one line a daemon."""
        lines = []
        for daemon in self.daemons():
            pid = self.running_pid(daemon)
            lines.append(f"{daemon.title:<{width}} {'running, pid ' + str(pid) if pid else 'not running'}")
        return lines


def main_of(tag: str, run: Callable[[], int]) -> int:
    """Run a command line: a DevstackError is printed as '[tag] ERROR: ...' (exit 1), without a traceback."""
    try:
        return run()
    except DevstackError as error:
        print(f"[{tag}] ERROR: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `... ls / | head`
        sys.stderr.close()
        return 0
