"""A single-node Apache Hadoop HDFS (one NameNode, one DataNode) for development, tests and CI.

    python3 -m devstack.hdfs up                  fetch the jars if missing, format once, start, wait until ready
    python3 -m devstack.hdfs down [namenode|datanode]   stop (both by default); nothing is left running
    python3 -m devstack.hdfs status              what runs, safe mode, live DataNodes (exit 0 when ready, 3 if not)
    python3 -m devstack.hdfs ls [PATH]           list a folder through WebHDFS, like `hadoop fs -ls PATH`

Python standard library only: it runs before the virtualenv exists. Needs Java (JAVA_HOME or
`java` on PATH) and Maven (`mvn`), which fetches the pinned jars of conf/hadoop/pom.xml once into
var/hadoop/lib. Everything else (configuration, name and data directories, pid files, logs) is
under OIL_HDFS_HOME (default var/hdfs of the checkout), so tests can run their own.

Addresses (all on localhost): NameNode RPC 8020 (fs.defaultFS hdfs://localhost:8020), NameNode
HTTP/WebHDFS 9870, DataNode data transfer 9866, HTTP 9864 (WebHDFS data is redirected there),
IPC 9867. OIL_HDFS_PORT_OFFSET=N adds N to every port, for a second HDFS beside the first (with its
own OIL_HDFS_HOME); clients then use the same variable (tests, devstack/local_airflow.py).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from devstack import settings
from devstack.process import Daemon, DevstackError, Supervisor, http_json, main_of, tail

POM = settings.PROJECT_DIR / "conf" / "hadoop" / "pom.xml"
LIB_DIR = settings.VAR_DIR / "hadoop" / "lib"  # shared by every OIL_HDFS_HOME: fetched once
LIB_STAMP = LIB_DIR / ".pom.sha256"

HOST = settings.HDFS_HOST
USER = settings.HDFS_USER
WEBHDFS = settings.LOCAL_WEBHDFS
NAMENODE_CLASS = "org.apache.hadoop.hdfs.server.namenode.NameNode"
DATANODE_CLASS = "org.apache.hadoop.hdfs.server.datanode.DataNode"


class Hdfs(Supervisor):
    """One HDFS instance (OIL_HDFS_HOME): its folders, its two daemons, up/down."""

    tag = "hdfs"
    what = "HDFS"
    host = HOST
    port_hint = (
        "Stop that process (an HDFS of another OIL_HDFS_HOME? `OIL_HDFS_HOME=... python -m devstack.hdfs down`) "
        "or free the port; this HDFS uses fixed ports (OIL_HDFS_PORT_OFFSET moves them all)."
    )
    start_timeout = settings.HDFS_START_TIMEOUT
    stop_timeout = settings.HDFS_STOP_TIMEOUT

    def __init__(self, base: Path = settings.HDFS_HOME) -> None:
        super().__init__(base)
        self.base = self.home
        self.conf = base / "conf"
        self.name = base / "name"
        self.data = base / "data"
        self.tmp = base / "tmp"
        self.logs = self.log_dir
        self.run = self.run_dir

    @property
    def formatted(self) -> bool:
        return (self.name / "current" / "VERSION").is_file()

    def daemons(self) -> list[Daemon]:
        namenode = {settings.NAMENODE_RPC_PORT: "NameNode RPC", settings.NAMENODE_HTTP_PORT: "NameNode HTTP/WebHDFS"}
        datanode = {
            settings.DATANODE_DATA_PORT: "DataNode data transfer",
            settings.DATANODE_HTTP_PORT: "DataNode HTTP",
            settings.DATANODE_IPC_PORT: "DataNode IPC",
        }
        return [  # start order; stop in reverse
            self.daemon("namenode", "NameNode", NAMENODE_CLASS, namenode),
            self.daemon("datanode", "DataNode", DATANODE_CLASS, datanode),
        ]

    def daemon(self, role: str, title: str, java_class: str, ports: dict[int, str]) -> Daemon:
        command = lambda: java_command(self, java_class, role)  # noqa: E731 - Java is needed to start only
        return Daemon(role, command, ports, (java_class, self.marker), title)

    @property
    def marker(self) -> str:
        """On the command line of our daemons: finds them, and only them."""
        return f"-Doil.hdfs.home={self.base}"

    def where(self) -> str:
        return f"hdfs://{HOST}:{settings.NAMENODE_RPC_PORT} ({WEBHDFS})"

    def probe(self) -> dict | None:
        state = namenode_state()
        return state if ready(state) else None

    def up(self, timeout: float | None = None) -> float:
        java_bin()
        fetch_jars()
        return super().up(timeout)

    def prepare(self, running: dict[str, int]) -> None:
        write_conf(self)
        if not self.formatted:
            if "datanode" in running:  # a DataNode of the old file system would not register
                self.stop_daemon(self.daemons()[1])
                running.pop("datanode")
            format_namenode(self)

    def summary(self, state: dict | None = None) -> str:
        state = state or namenode_state()
        live = state.get("NumLiveDataNodes", 0) if state else 0
        return f"{settings.LOCAL_NAMENODE}, WebHDFS {WEBHDFS}, live DataNodes: {live}"


say = Hdfs.say


# --- tools: Java and Maven -------------------------------------------------------------------------


def java_bin() -> str:
    java_home = settings.JAVA_HOME
    if java_home and os.access(Path(java_home) / "bin" / "java", os.X_OK):
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise DevstackError(
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
        raise DevstackError(
            "Maven (`mvn`) is needed to fetch the Hadoop jars of conf/hadoop/pom.xml and was not found on PATH. "
            "Install it (Debian: apt-get install maven)."
        )
    java_bin()  # Maven needs Java too: say so plainly rather than through Maven's own error
    staging = LIB_DIR.with_name(LIB_DIR.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    say(f"fetching the Hadoop jars of {POM.relative_to(settings.PROJECT_DIR)} into {LIB_DIR} (Maven Central, once)")
    started = time.monotonic()
    command = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={staging}"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stdout + result.stderr).strip().splitlines()
        raise DevstackError(
            f"fetching the Hadoop jars failed ({' '.join(command)} exited {result.returncode}):\n  "
            + "\n  ".join(output[-25:])
        )
    jars = list(staging.glob("*.jar"))
    if not any(j.name.startswith("hadoop-hdfs-") for j in jars):
        raise DevstackError(f"Maven ran but {staging} has no hadoop-hdfs jar; check {POM}")
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
        "<!-- Written by devstack/hdfs.py on every `up`: edit the module, not this file. -->\n"
        f"<configuration>\n{body}</configuration>\n"
    )


LOG4J = """\
# Written by devstack/hdfs.py. The daemons write to stderr, which goes to <OIL_HDFS_HOME>/logs/<role>.log.
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


def write_conf(home: Hdfs) -> None:
    core = {
        "fs.defaultFS": f"hdfs://{HOST}:{settings.NAMENODE_RPC_PORT}",
        "hadoop.tmp.dir": str(home.tmp),
        "hadoop.http.staticuser.user": USER,
    }
    hdfs = {
        "dfs.replication": "1",
        "dfs.namenode.name.dir": home.name.as_uri(),
        "dfs.datanode.data.dir": home.data.as_uri(),
        "dfs.namenode.rpc-address": f"{HOST}:{settings.NAMENODE_RPC_PORT}",
        "dfs.namenode.http-address": f"{HOST}:{settings.NAMENODE_HTTP_PORT}",
        "dfs.datanode.address": f"{HOST}:{settings.DATANODE_DATA_PORT}",
        "dfs.datanode.http.address": f"{HOST}:{settings.DATANODE_HTTP_PORT}",
        "dfs.datanode.ipc.address": f"{HOST}:{settings.DATANODE_IPC_PORT}",
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


def java_command(home: Hdfs, java_class: str, role: str, *args: str) -> list[str]:
    return [
        java_bin(),
        f"-Xmx{settings.HDFS_HEAP}",
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
        home.marker,  # marks our processes, for `down` and `status`
        "-cp",
        f"{home.conf}{os.pathsep}{LIB_DIR}/*",
        java_class,
        *args,
    ]


def format_namenode(home: Hdfs) -> None:
    """Format once: a new file system, so an old DataNode folder (other cluster id) must go too."""
    shutil.rmtree(home.data, ignore_errors=True)
    shutil.rmtree(home.name, ignore_errors=True)
    home.logs.mkdir(parents=True, exist_ok=True)
    say(f"formatting a new NameNode in {home.name}")
    log = home.logs / "format.log"
    with log.open("w") as out:
        command = java_command(home, NAMENODE_CLASS, "format", "-format", "-nonInteractive", "-clusterId", "oil")
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    if code != 0 or not home.formatted:
        raise DevstackError(f"formatting the NameNode failed (exit {code}); last lines of {log}:\n{tail(log)}")


# --- WebHDFS and JMX -------------------------------------------------------------------------------


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
        beans = http_json(
            f"http://{HOST}:{settings.DATANODE_HTTP_PORT}/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo"
        )
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


# --- commands --------------------------------------------------------------------------------------


def cmd_up(home: Hdfs, _args: argparse.Namespace) -> int:
    home.up()
    return 0


def cmd_down(home: Hdfs, args: argparse.Namespace) -> int:
    if not home.down([args.role] if args.role else None):
        home.say(f"nothing was running ({home.base})")
    return 0


def cmd_status(home: Hdfs, _args: argparse.Namespace) -> int:
    print(f"OIL_HDFS_HOME   {home.base}")
    print("\n".join(home.status_lines(15)))
    state = namenode_state()
    if state is None:
        print(f"WebHDFS         {WEBHDFS} not reachable")
        print("live DataNodes  0")
        return 3
    mode = safe_mode()
    print(f"WebHDFS         {WEBHDFS} reachable; fs.defaultFS {settings.LOCAL_NAMENODE}")
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


def cmd_ls(_home: Hdfs, args: argparse.Namespace) -> int:
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
        raise DevstackError(f"ls {path}: {message}") from None
    except OSError as error:
        raise DevstackError(f"HDFS WebHDFS at {WEBHDFS} is not reachable ({error}); start it: make hdfs-up") from None
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
    down.add_argument("role", nargs="?", choices=("namenode", "datanode"), help="stop only this daemon")
    down.set_defaults(run=cmd_down)
    commands.add_parser("status", help="what runs; exit 0 when ready, 3 when not").set_defaults(run=cmd_status)
    ls = commands.add_parser("ls", help="list a folder through WebHDFS, like `hadoop fs -ls`")
    ls.add_argument("path", nargs="?", default="/", help="an HDFS path or hdfs:// URI (default /)")
    ls.set_defaults(run=cmd_ls)
    args = parser.parse_args(argv)
    return main_of("hdfs", lambda: args.run(Hdfs(), args))


if __name__ == "__main__":
    sys.exit(main())
