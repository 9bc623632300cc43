"""The bench's child processes: the pipeline (`visitor-intent run`) and GoAccess, each timed with its own peak RSS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

from bench.generate import Generated
from bench.report import Out

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "config"
DATABASE_URL_ENV_VAR = "VISITOR_INTENT_DATABASE_URL"
SALT_ENV_VAR = "VISITOR_INTENT_VISITOR_SALT"
BENCH_SALT = "visitor-intent-bench-salt-made-up-visitors-only"  # the log's visitors are made up


def child_pipeline(spec_file: str) -> int:
    """Run `visitor-intent run` in this process as the spec says; write wall time and outcome."""
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    result: dict[str, object] = {}
    started = time.perf_counter()
    try:
        from pipelines.cli import main as cli_main

        lines: list[str] = []
        code = cli_main(
            [
                "--settings",
                spec["settings"],
                "run",
                "--hits",
                spec["log"],
                "--maxmind-dir",
                spec["maxmind_dir"],
                "--out",
                spec["reports"],
            ],
            out=lines.append,
        )
        result.update(exit_code=code, output=lines[-3:])
        if code != 0:
            result["error"] = f"visitor-intent run exited with {code}"
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which prints it
        traceback.print_exc()
        result["error"] = root_cause(error)
    result["seconds"] = time.perf_counter() - started
    Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")
    return 0 if "error" not in result else 1


def root_cause(error: BaseException) -> str:
    """The innermost exception of a chain (Dagster wraps the one that matters), in one line."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = error.__cause__ or error.__context__
        if inner is None:
            break
        error = inner
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message[:160]}"


def run_pipeline(data: Generated, work: Path, *, database_url: str) -> tuple[float, int, dict[str, object]]:
    """Run the pipeline once in a child process: (wall seconds, peak RSS KiB, child's result)."""
    run_dir = Path(tempfile.mkdtemp(prefix="pipeline-", dir=work))
    settings = run_dir / "settings.yaml"
    settings.write_text(
        f"""# written by bench/run.py
partitions_start: {data.first_day}
sources: [{{paths: [{json.dumps(data.log)}]}}]
maxmind: {{directory: {json.dumps(str(Path(data.mmdb).parent))}}}
taxonomy: {json.dumps(str(CONFIG_DIR / "taxonomy.yaml"))}
target_accounts: {json.dumps(str(CONFIG_DIR / "target_accounts.csv"))}
warehouse_file: warehouse.db
spool_directory: spool
cleaning: {{office_networks: [212.0.10.0/28]}}
report: {{directory: reports}}
""",
        encoding="utf-8",
    )
    spec = {
        "settings": str(settings),
        "log": data.log,
        "maxmind_dir": str(Path(data.mmdb).parent),
        "reports": str(run_dir / "reports"),
        "result": str(run_dir / "result.json"),
    }
    (run_dir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # a throwaway Dagster instance
    env[DATABASE_URL_ENV_VAR] = database_url
    env.setdefault(SALT_ENV_VAR, BENCH_SALT)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    with (run_dir / "stdout.txt").open("wb") as stdout, (run_dir / "stderr.txt").open("wb") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.run", "--child-pipeline", str(run_dir / "spec.json")],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
        wall, rss_kib, status = wait_for(child, started)
    result_file = run_dir / "result.json"
    result = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    if status != 0 and "error" not in result:
        tail = (run_dir / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        result["error"] = f"child exited with {status}: {' '.join(tail)[:200]}"
    result["log_dir"] = str(run_dir)
    if status == 0 and "error" not in result:
        shutil.rmtree(run_dir, ignore_errors=True)  # kept only when there is a failure to read
    return wall, rss_kib, result


def wait_for(child: subprocess.Popen, started: float) -> tuple[float, int, int]:
    """Reap ``child`` with wait4: its wall time, its own peak RSS (KiB on Linux) and exit code."""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, child.returncode


def ensure_goaccess(install: bool, out: Out) -> tuple[str | None, str]:
    """The goaccess binary (installed with apt-get when missing and allowed) and its version line,
    or (None, why not)."""
    binary = shutil.which("goaccess")
    if binary is None and install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        out("GoAccess not found: installing the Debian package (apt-get install goaccess) ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "goaccess"]):
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        binary = shutil.which("goaccess")
    if binary is None:
        return None, "not installed" + ("" if install else "; --no-install")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    if "geoip=mmdb" not in version.replace(" ", ""):
        return None, f"{binary} was built without MaxMind DB (mmdb) support"
    first = version.strip().splitlines()[0] if version.strip() else "GoAccess"
    return binary, first.rstrip(".").replace(" - ", " ")


def run_goaccess(binary: str, data: Generated, work: Path) -> tuple[float, int, dict[str, object]]:
    """GoAccess over the whole log (COMBINED, with the .mmdb), non-interactive, JSON report to a file."""
    report = work / f"goaccess-{uuid.uuid4().hex[:8]}.json"
    command = [
        binary,
        data.log,
        "--log-format=COMBINED",
        f"--geoip-database={data.mmdb}",
        "--no-global-config",
        "--no-progress",
        "-o",
        str(report),
    ]
    started = time.perf_counter()
    # stdin closed: GoAccess reads a piped stdin as a second log.
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall, rss_kib, status = wait_for(child, started)
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if status != 0:
        return wall, rss_kib, {"error": f"goaccess exited with {status}: {stderr.strip()[:200]}"}
    general = json.loads(report.read_text(encoding="utf-8")).get("general", {})
    report.unlink()
    return (
        wall,
        rss_kib,
        {
            "total": general.get("total_requests"),
            "valid": general.get("valid_requests"),
            "failed": general.get("failed_requests"),
        },
    )
