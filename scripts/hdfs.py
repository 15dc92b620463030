#!/usr/bin/env python3
"""A single-node Apache Hadoop HDFS (one NameNode, one DataNode) for development, tests and CI.

    python3 scripts/hdfs.py up                  fetch the jars if missing, format once, start, wait until ready
    python3 scripts/hdfs.py down [namenode|datanode]   stop (both by default); nothing is left running
    python3 scripts/hdfs.py status              what runs, safe mode, live DataNodes (exit 0 when ready, 3 if not)
    python3 scripts/hdfs.py ls [PATH]           list a folder through WebHDFS, like `hadoop fs -ls PATH`

Python standard library only: it runs before the virtualenv exists. Needs Java (JAVA_HOME or
`java` on PATH) and Maven (`mvn`), which fetches the pinned jars of conf/hadoop/pom.xml once into
var/hadoop/lib. Everything else (configuration, name and data directories, pid files, logs) is
under OIL_HDFS_HOME (default var/hdfs of the checkout), so tests can run their own.

Addresses (all on localhost): NameNode RPC 8020 (fs.defaultFS hdfs://localhost:8020), NameNode
HTTP/WebHDFS 9870, DataNode data transfer 9866, HTTP 9864 (WebHDFS data is redirected there),
IPC 9867. OIL_HDFS_PORT_OFFSET=N adds N to every port, for a second HDFS beside the first (with its
own OIL_HDFS_HOME); clients then use the same variable (tests, include/local_airflow.py).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import getpass
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

PROJECT_DIR = Path(__file__).resolve().parents[1]
POM = PROJECT_DIR / "conf" / "hadoop" / "pom.xml"
LIB_DIR = PROJECT_DIR / "var" / "hadoop" / "lib"  # shared by every OIL_HDFS_HOME: fetched once
LIB_STAMP = LIB_DIR / ".pom.sha256"

HOST = "localhost"
# Read here, not from include/settings.py: this script runs with the system python before setup.
PORT_OFFSET = int(os.getenv("OIL_HDFS_PORT_OFFSET", "0"))
NAMENODE_RPC_PORT = 8020 + PORT_OFFSET
NAMENODE_HTTP_PORT = 9870 + PORT_OFFSET
DATANODE_DATA_PORT = 9866 + PORT_OFFSET
DATANODE_HTTP_PORT = 9864 + PORT_OFFSET
DATANODE_IPC_PORT = 9867 + PORT_OFFSET

START_TIMEOUT = float(os.getenv("OIL_HDFS_START_TIMEOUT", "180"))
STOP_TIMEOUT = float(os.getenv("OIL_HDFS_STOP_TIMEOUT", "30"))
HEAP = os.getenv("OIL_HDFS_HEAP", "512m")
USER = os.getenv("OIL_HDFS_USER") or getpass.getuser()
WEBHDFS = f"http://{HOST}:{NAMENODE_HTTP_PORT}"


class HdfsError(Exception):
    """A failure to report to the person: printed without a traceback, exit code 1."""


def say(message: str) -> None:
    # A closed stdout (`hdfs.py up | head -1`) must not stop `up` half-way: the message is lost, not the work.
    with contextlib.suppress(BrokenPipeError):
        print(f"[hdfs] {message}", flush=True)


# --- where things are ----------------------------------------------------------------------------


class Home:
    """The folders of one HDFS instance (OIL_HDFS_HOME)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.conf = base / "conf"
        self.name = base / "name"
        self.data = base / "data"
        self.tmp = base / "tmp"
        self.logs = base / "logs"
        self.run = base / "run"

    @classmethod
    def from_env(cls) -> Home:
        value = os.getenv("OIL_HDFS_HOME")
        return cls(Path(value).expanduser().resolve() if value else PROJECT_DIR / "var" / "hdfs")

    @property
    def formatted(self) -> bool:
        return (self.name / "current" / "VERSION").is_file()


class Daemon:
    def __init__(self, role: str, java_class: str, ports: dict[int, str]) -> None:
        self.role = role  # namenode | datanode
        self.java_class = java_class
        self.ports = ports  # port -> what it is for

    @property
    def title(self) -> str:
        return "NameNode" if self.role == "namenode" else "DataNode"

    def pid_file(self, home: Home) -> Path:
        return home.run / f"{self.role}.pid"

    def log_file(self, home: Home) -> Path:
        return home.logs / f"{self.role}.log"


NAMENODE = Daemon(
    "namenode",
    "org.apache.hadoop.hdfs.server.namenode.NameNode",
    {NAMENODE_RPC_PORT: "NameNode RPC", NAMENODE_HTTP_PORT: "NameNode HTTP/WebHDFS"},
)
DATANODE = Daemon(
    "datanode",
    "org.apache.hadoop.hdfs.server.datanode.DataNode",
    {
        DATANODE_DATA_PORT: "DataNode data transfer",
        DATANODE_HTTP_PORT: "DataNode HTTP",
        DATANODE_IPC_PORT: "DataNode IPC",
    },
)
DAEMONS = (NAMENODE, DATANODE)  # start order; stop in reverse


# --- tools: Java and Maven -------------------------------------------------------------------------


def java_bin() -> str:
    java_home = os.getenv("JAVA_HOME")
    if java_home and os.access(Path(java_home) / "bin" / "java", os.X_OK):
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise HdfsError(
            "Java is needed to run HDFS and was not found (no JAVA_HOME, no `java` on PATH). "
            "Install Java 17 (Debian: apt-get install openjdk-17-jre-headless; `make setup` does) or set JAVA_HOME."
        )
    return found


def pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def jars_ready() -> bool:
    return LIB_STAMP.is_file() and LIB_STAMP.read_text().strip() == pom_digest()


def fetch_jars() -> None:
    """Copy the pinned Hadoop jars of conf/hadoop/pom.xml into var/hadoop/lib (once per pom change)."""
    if jars_ready():
        return
    LIB_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(LIB_DIR.parent / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two `up`s at once (tests of two homes) fetch once
        if not jars_ready():
            _fetch_jars()


def _fetch_jars() -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise HdfsError(
            "Maven (`mvn`) is needed to fetch the Hadoop jars of conf/hadoop/pom.xml and was not found on PATH. "
            "Install it (Debian: apt-get install maven)."
        )
    java_bin()  # Maven needs Java too: say so plainly rather than through Maven's own error
    staging = LIB_DIR.with_name(LIB_DIR.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    say(f"fetching the Hadoop jars of {POM.relative_to(PROJECT_DIR)} into {LIB_DIR} (Maven Central, once)")
    started = time.monotonic()
    command = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={staging}"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stdout + result.stderr).strip().splitlines()
        raise HdfsError(
            f"fetching the Hadoop jars failed ({' '.join(command)} exited {result.returncode}):\n  "
            + "\n  ".join(output[-25:])
        )
    jars = list(staging.glob("*.jar"))
    if not any(j.name.startswith("hadoop-hdfs-") for j in jars):
        raise HdfsError(f"Maven ran but {staging} has no hadoop-hdfs jar; check {POM}")
    (staging / LIB_STAMP.name).write_text(pom_digest() + "\n")
    shutil.rmtree(LIB_DIR, ignore_errors=True)
    staging.rename(LIB_DIR)
    say(f"fetched {len(jars)} jars in {time.monotonic() - started:.0f} s")


# --- configuration ---------------------------------------------------------------------------------


def site_xml(properties: dict[str, str]) -> str:
    body = "".join(
        f"  <property><name>{escape(k)}</name><value>{escape(v)}</value></property>\n" for k, v in properties.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Written by scripts/hdfs.py on every `up`: edit the script, not this file. -->\n"
        f"<configuration>\n{body}</configuration>\n"
    )


LOG4J = """\
# Written by scripts/hdfs.py. The daemons write to stderr, which goes to <OIL_HDFS_HOME>/logs/<role>.log.
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
# One line per block and per request at INFO: too much for a log nobody rotates.
log4j.logger.BlockStateChange=WARN
log4j.logger.org.apache.hadoop.hdfs.StateChange=WARN
log4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=WARN
log4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode.clienttrace=WARN
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.http.requests=WARN
"""


def write_conf(home: Home) -> None:
    core = {
        "fs.defaultFS": f"hdfs://{HOST}:{NAMENODE_RPC_PORT}",
        "hadoop.tmp.dir": str(home.tmp),
        "hadoop.http.staticuser.user": USER,
    }
    hdfs = {
        "dfs.replication": "1",
        "dfs.namenode.name.dir": home.name.as_uri(),
        "dfs.datanode.data.dir": home.data.as_uri(),
        "dfs.namenode.rpc-address": f"{HOST}:{NAMENODE_RPC_PORT}",
        "dfs.namenode.http-address": f"{HOST}:{NAMENODE_HTTP_PORT}",
        "dfs.datanode.address": f"{HOST}:{DATANODE_DATA_PORT}",
        "dfs.datanode.http.address": f"{HOST}:{DATANODE_HTTP_PORT}",
        "dfs.datanode.ipc.address": f"{HOST}:{DATANODE_IPC_PORT}",
        # WebHDFS redirects reads and writes to the DataNode by this name.
        "dfs.datanode.hostname": HOST,
        "dfs.namenode.datanode.registration.ip-hostname-check": "false",
        "dfs.webhdfs.enabled": "true",
        # A development HDFS: no permission checks (every user may write everywhere).
        "dfs.permissions.enabled": "false",
        # One DataNode: leave safe mode as soon as its block report is in, not 30 s later.
        "dfs.namenode.safemode.extension": "0",
        # Small metadata footprint; no periodic checkpoints to wait for (no SecondaryNameNode).
        "dfs.namenode.checkpoint.period": "86400",
        "dfs.heartbeat.interval": "1",
        # A stopped DataNode counts as dead after 2 x recheck + 10 x heartbeat = 30 s (default 10.5 min).
        "dfs.namenode.heartbeat.recheck-interval": "10000",
        # The DataNode serves WebHDFS reads and writes through its own HDFS client to the NameNode.
        # After a NameNode restart that client's cached connection is dead, and its first call
        # failed with "End of File Exception ... localhost:8020" (no retry by default). Retry the
        # NameNode calls (on a new connection, and through safe mode): 10 times, about 1 s apart.
        "dfs.client.retry.policy.enabled": "true",
        "dfs.client.retry.policy.spec": "1000,10",
    }
    home.conf.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("core-site.xml", site_xml(core)),
        ("hdfs-site.xml", site_xml(hdfs)),
        ("log4j.properties", LOG4J),
    ):
        path = home.conf / name
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)


# Java 17 closes the JDK's internals; WebHDFS's JAXB/Jersey 1 and Hadoop's RPC need these opened
# (without them every WebHDFS call answers HTTP 500: "module java.base does not opens java.lang").
OPENED_PACKAGES = ("java.lang", "java.lang.reflect", "java.io", "java.net", "java.nio", "java.util", "sun.nio.ch")
JAVA_OPENS = [f"--add-opens=java.base/{package}=ALL-UNNAMED" for package in OPENED_PACKAGES]


def java_command(home: Home, java_class: str, role: str, *args: str) -> list[str]:
    return [
        java_bin(),
        f"-Xmx{HEAP}",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",  # quick JIT only: starts about a third faster on 2 busy cores
        "-XX:+IgnoreUnrecognizedVMOptions",  # an older Java ignores --add-opens
        *JAVA_OPENS,
        "-Djava.net.preferIPv4Stack=true",
        f"-Dhadoop.log.dir={home.logs}",
        f"-Dhadoop.log.file={role}.log",
        f"-Dhadoop.home.dir={home.base}",
        f"-Dhadoop.id.str={USER}",
        "-Dhadoop.root.logger=INFO,console",
        f"-Dlog4j.configuration={(home.conf / 'log4j.properties').as_uri()}",
        f"-Doil.hdfs.home={home.base}",  # marks our processes, for `down` and `status`
        "-cp",
        f"{home.conf}{os.pathsep}{LIB_DIR}/*",
        java_class,
        *args,
    ]


def format_namenode(home: Home) -> None:
    """Format once: a new file system, so an old DataNode folder (other cluster id) must go too."""
    shutil.rmtree(home.data, ignore_errors=True)
    shutil.rmtree(home.name, ignore_errors=True)
    home.logs.mkdir(parents=True, exist_ok=True)
    say(f"formatting a new NameNode in {home.name}")
    log = home.logs / "format.log"
    with log.open("w") as out:
        command = java_command(home, NAMENODE.java_class, "format", "-format", "-nonInteractive", "-clusterId", "oil")
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    if code != 0 or not home.formatted:
        raise HdfsError(f"formatting the NameNode failed (exit {code}); last lines of {log}:\n{tail(log)}")


# --- processes and ports ---------------------------------------------------------------------------


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_ours(pid: int, home: Home, daemon: Daemon) -> bool:
    args = cmdline(pid)
    return daemon.java_class in args and f"-Doil.hdfs.home={home.base}" in args


def running_pid(home: Home, daemon: Daemon) -> int | None:
    """The daemon's pid when it runs (pid file, checked against the command line), else None."""
    pid_file = daemon.pid_file(home)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = None
    if pid is not None and is_ours(pid, home, daemon):
        return pid
    # No (valid) pid file: a process of this home may still run (pid file removed by hand).
    for candidate in stray_pids(home, daemon):
        return candidate
    return None


def stray_pids(home: Home, daemon: Daemon) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and is_ours(int(entry.name), home, daemon):
            pids.append(int(entry.name))
    return pids


def listener_pids(port: int) -> list[int]:
    """Processes listening on a TCP port (Linux /proc; empty when not visible)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(fields[9])
    pids = []
    if not inodes:
        return pids
    targets = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in targets:
                        pids.append(int(proc.name))
                        break
    return pids


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the daemons do: a port left in TIME_WAIT by a stopped HDFS is free to bind again.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def taken_ports(ports: dict[int, str], host: str = HOST) -> list[str]:
    """'host:port (what) is in use by pid N: command' for each of ports (port -> what) that is taken."""
    taken = []
    for port, what in ports.items():
        if port_in_use(port):
            holders = [f"pid {pid}: {' '.join(cmdline(pid))[:160]}" for pid in listener_pids(port)]
            taken.append(f"{host}:{port} ({what}) is in use by " + ("; ".join(holders) or "another process"))
    return taken


def check_ports_free(daemon: Daemon) -> None:
    taken = taken_ports(daemon.ports)
    if taken:
        raise HdfsError(
            f"cannot start the {daemon.title}: "
            + "; ".join(taken)
            + ". Stop that process (an HDFS of another OIL_HDFS_HOME? `OIL_HDFS_HOME=... scripts/hdfs.py down`) "
            "or free the port; this HDFS uses fixed ports."
        )


def start(home: Home, daemon: Daemon) -> int:
    check_ports_free(daemon)
    home.logs.mkdir(parents=True, exist_ok=True)
    home.run.mkdir(parents=True, exist_ok=True)
    log = daemon.log_file(home)
    with log.open("a") as out:
        out.write(f"\n===== {datetime.now().isoformat(timespec='seconds')} scripts/hdfs.py starts the {daemon.title}\n")
        out.flush()
        process = subprocess.Popen(
            java_command(home, daemon.java_class, daemon.role),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=home.base,
            start_new_session=True,  # not killed with the shell or make that started it
        )
    daemon.pid_file(home).write_text(f"{process.pid}\n")
    say(f"started the {daemon.title} (pid {process.pid}, log {log})")
    return process.pid


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
    state = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        if state.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def stop(home: Home, daemon: Daemon) -> bool:
    """SIGTERM, wait for the exit, SIGKILL after STOP_TIMEOUT; True when something was running."""
    pids = set(stray_pids(home, daemon))
    pid = running_pid(home, daemon)
    if pid:
        pids.add(pid)
    terminate(sorted(pids), f"the {daemon.title}")
    for pid in sorted(pids):
        say(f"stopped the {daemon.title} (pid {pid})")
    daemon.pid_file(home).unlink(missing_ok=True)
    return bool(pids)


def terminate(pids: list[int], what: str, timeout: float = STOP_TIMEOUT, groups: bool = False) -> None:
    """SIGTERM each process (and its process group when groups), SIGKILL after timeout; returns once all are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            (os.killpg if groups else os.kill)(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            say(f"{what} (pid {pid}) did not stop within {timeout:.0f} s: SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while alive(pid):
                time.sleep(0.1)


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join("  " + (line if len(line) <= 300 else line[:300] + " ...") for line in text)
    except OSError:
        return "  (no log)"


@contextlib.contextmanager
def locked(home: Home):
    """One `up` or `down` at a time per home."""
    home.base.mkdir(parents=True, exist_ok=True)
    with open(home.base / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --- WebHDFS and JMX -------------------------------------------------------------------------------


def http_json(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def namenode_state() -> dict | None:
    """FSNamesystemState from the NameNode's JMX (FSState, NumLiveDataNodes, ...), None if unreachable."""
    try:
        beans = http_json(f"{WEBHDFS}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState")["beans"]
    except (OSError, ValueError, KeyError):
        return None
    return beans[0] if beans else None


def safe_mode() -> str | None:
    """The NameNode's safe-mode message ('' when off), None if unreachable."""
    try:
        beans = http_json(f"{WEBHDFS}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo")["beans"]
        return beans[0]["Safemode"] if beans else None
    except (OSError, ValueError, KeyError, IndexError):
        return None


def datanode_registered() -> bool:
    """The DataNode's own view (its JMX): this process has registered with the NameNode.

    The NameNode alone is not enough: it counts a stopped DataNode as live until the heartbeat
    expiry (30 s here), so after a DataNode restart only the new process can say it is in.
    """
    try:
        beans = http_json(f"http://{HOST}:{DATANODE_HTTP_PORT}/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo")
        actors = json.loads(beans["beans"][0]["BPServiceActorInfo"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return False
    return any(actor.get("ActorState") == "RUNNING" for actor in actors)


def ready(state: dict | None) -> bool:
    return (
        state is not None
        and state.get("FSState") == "Operational"
        and state.get("NumLiveDataNodes", 0) >= 1
        and state.get("CapacityRemaining", 0) > 0
        and safe_mode() == ""
        and datanode_registered()
    )


def wait_ready(home: Home, pids: dict[str, int]) -> dict:
    """Poll the NameNode's JMX until it is out of safe mode with a live DataNode (bounded)."""
    deadline = time.monotonic() + START_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        for daemon in DAEMONS:
            pid = pids.get(daemon.role)
            if pid and not alive(pid):
                daemon.pid_file(home).unlink(missing_ok=True)
                raise HdfsError(
                    f"the {daemon.title} exited during start; last lines of {daemon.log_file(home)}:\n"
                    f"{tail(daemon.log_file(home))}"
                )
        last = namenode_state()
        if ready(last):
            return last
        time.sleep(0.5)  # poll interval, not a synchronisation: the loop checks the state
    raise HdfsError(
        f"HDFS was not ready within {START_TIMEOUT:.0f} s (NameNode state: {last}); "
        f"logs in {home.logs}. Last lines of the NameNode log:\n{tail(NAMENODE.log_file(home))}"
    )


# --- commands --------------------------------------------------------------------------------------


def cmd_up(home: Home, _args: argparse.Namespace) -> int:
    java_bin()
    fetch_jars()
    with locked(home):
        running = {d.role: pid for d in DAEMONS if (pid := running_pid(home, d))}
        if len(running) == len(DAEMONS) and ready(namenode_state()):
            say(f"already running ({describe(running)}); {summary()}")
            return 0
        for daemon in DAEMONS:  # before formatting anything: a port taken by another process stops us here
            if daemon.role not in running:
                check_ports_free(daemon)
        write_conf(home)
        if not home.formatted:
            if DATANODE.role in running:  # a DataNode of the old file system would not register
                stop(home, DATANODE)
                running.pop(DATANODE.role)
            format_namenode(home)
        started, started_now = time.monotonic(), []
        try:
            for daemon in DAEMONS:
                if daemon.role in running:
                    say(f"the {daemon.title} is already running (pid {running[daemon.role]})")
                else:
                    running[daemon.role] = start(home, daemon)
                    started_now.append(daemon)
            wait_ready(home, running)
        except BaseException:  # a failure or Ctrl-C: leave nothing half-started behind
            say(f"start failed: stopping what this run started (logs stay in {home.logs})")
            for daemon in reversed(started_now):
                stop(home, daemon)
            raise
        say(f"ready in {time.monotonic() - started:.1f} s: {summary()}")
    return 0


def cmd_down(home: Home, args: argparse.Namespace) -> int:
    chosen = [d for d in reversed(DAEMONS) if args.role in (None, d.role)]
    with locked(home):
        stopped = [d.title for d in chosen if stop(home, d)]
    if not stopped:
        say(f"nothing was running ({home.base})")
    return 0


def describe(pids: dict[str, int]) -> str:
    return ", ".join(f"{d.title} pid {pids[d.role]}" for d in DAEMONS if d.role in pids)


def summary() -> str:
    state = namenode_state()
    live = state.get("NumLiveDataNodes", 0) if state else 0
    return f"hdfs://{HOST}:{NAMENODE_RPC_PORT}, WebHDFS {WEBHDFS}, live DataNodes: {live}"


def cmd_status(home: Home, _args: argparse.Namespace) -> int:
    print(f"OIL_HDFS_HOME   {home.base}")
    for daemon in DAEMONS:
        pid = running_pid(home, daemon)
        print(f"{daemon.title:<15} {'running, pid ' + str(pid) if pid else 'not running'}")
    state = namenode_state()
    if state is None:
        print(f"WebHDFS         {WEBHDFS} not reachable")
        print("live DataNodes  0")
        return 3
    mode = safe_mode()
    print(f"WebHDFS         {WEBHDFS} reachable; fs.defaultFS hdfs://{HOST}:{NAMENODE_RPC_PORT}")
    print(f"safe mode       {'off' if mode == '' else 'ON: ' + str(mode)}")
    print(f"live DataNodes  {state.get('NumLiveDataNodes', 0)} (as the NameNode counts them)")
    print(f"registration    {'the DataNode is registered' if datanode_registered() else 'no DataNode registered'}")
    used, free = human(state.get("CapacityUsed", 0)), human(state.get("CapacityRemaining", 0))
    print(f"capacity        {used} used, {free} free")
    return 0 if ready(state) else 3


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


def cmd_ls(_home: Home, args: argparse.Namespace) -> int:
    path = urllib.parse.urlparse(args.path).path if "://" in args.path else args.path  # hdfs://host:8020/x -> /x
    path = "/" + path.strip("/")
    query = urllib.parse.urlencode({"op": "LISTSTATUS", "user.name": USER})
    url = f"{WEBHDFS}/webhdfs/v1{urllib.parse.quote(path)}?{query}"
    try:
        statuses = http_json(url)["FileStatuses"]["FileStatus"]
    except urllib.error.HTTPError as error:
        try:
            message = json.load(error)["RemoteException"]["message"]
        except (ValueError, KeyError):
            message = str(error)
        raise HdfsError(f"ls {path}: {message}") from None
    except OSError as error:
        raise HdfsError(f"HDFS WebHDFS at {WEBHDFS} is not reachable ({error}); start it: make hdfs-up") from None
    if len(statuses) != 1 or statuses[0]["pathSuffix"]:
        print(f"Found {len(statuses)} items")
    for status in statuses:
        name = path.rstrip("/") + "/" + status["pathSuffix"] if status["pathSuffix"] else path
        is_dir = status["type"] == "DIRECTORY"
        mode = ("d" if is_dir else "-") + permissions(status["permission"])
        replication = "-" if is_dir else str(status.get("replication", 0))
        stamp = datetime.fromtimestamp(status["modificationTime"] / 1000).strftime("%Y-%m-%d %H:%M")
        print(f"{mode} {replication:>3} {status['owner']} {status['group']} {status['length']:>10} {stamp} {name}")
    return 0


def permissions(octal: str) -> str:
    bits = int(octal, 8)
    return "".join((char if bits & (1 << (8 - i)) else "-") for i, char in enumerate("rwxrwxrwx"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start HDFS (idempotent) and wait until it is ready").set_defaults(run=cmd_up)
    down = commands.add_parser("down", help="stop HDFS; waits until the processes have exited")
    down.add_argument("role", nargs="?", choices=[d.role for d in DAEMONS], help="stop only this daemon")
    down.set_defaults(run=cmd_down)
    commands.add_parser("status", help="what runs; exit 0 when ready, 3 when not").set_defaults(run=cmd_status)
    ls = commands.add_parser("ls", help="list a folder through WebHDFS, like `hadoop fs -ls`")
    ls.add_argument("path", nargs="?", default="/", help="an HDFS path or hdfs:// URI (default /)")
    ls.set_defaults(run=cmd_ls)
    args = parser.parse_args(argv)
    try:
        return args.run(Home.from_env(), args)
    except HdfsError as error:
        print(f"[hdfs] ERROR: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `hdfs.py ls / | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
