"""Processes the cluster owns: identified by pid and /proc start time, so a
reused pid is never mistaken for ours. A zombie counts as gone."""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from .common import Fail, say


def proc_stat(pid):
    """(state, start_time) of a live process, or None."""
    if not pid:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[0], int(fields[19])


def proc_alive(entry):
    """True if the process recorded in entry ({"pid", "start_time"}) runs."""
    if not entry or not entry.get("pid"):
        return False
    st = proc_stat(entry["pid"])
    return st is not None and st[1] == entry.get("start_time")


def proc_paused(entry):
    st = proc_stat(entry.get("pid")) if proc_alive(entry) else None
    return st is not None and st[0] in ("T", "t")


_children = {}  # pid -> Popen of processes started by this invocation (reaped)


def spawn(argv, log_path, cwd=None, env=None):
    """Starts argv in its own session (it outlives us); returns pid fields."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%F %T')} starting: {' '.join(map(str, argv))}\n".encode())
        log.flush()
        p = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    _children[p.pid] = p
    st = proc_stat(p.pid)
    return {"pid": p.pid, "start_time": st[1] if st else None}


def reap():
    for p in _children.values():
        p.poll()


def signal_proc(entry, sig):
    if proc_alive(entry):
        with contextlib.suppress(ProcessLookupError):
            os.kill(entry["pid"], sig)


def stop_procs(all_entries, timeout, kill=False):
    """SIGTERM (or SIGKILL) each, then SIGKILL whatever outlives the timeout."""
    entries = [e for e in all_entries if proc_alive(e)]
    for e in entries:
        signal_proc(e, signal.SIGKILL if kill else signal.SIGTERM)
        signal_proc(e, signal.SIGCONT)  # a paused process must run to exit
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap()
        if not any(proc_alive(e) for e in entries):
            break
        time.sleep(0.05)
    for e in entries:
        if proc_alive(e):
            say(f"pid {e['pid']} ignored SIGTERM for {timeout:g}s; sending SIGKILL")
            signal_proc(e, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(proc_alive(e) for e in entries) and time.monotonic() < deadline:
        reap()
        time.sleep(0.05)
    for e in entries:
        if proc_alive(e):
            raise Fail(f"pid {e['pid']} survived SIGKILL")
    for e in all_entries:
        e["pid"] = e["start_time"] = None


def tail(path, lines=30):
    try:
        data = Path(path).read_bytes()[-65536:].decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data.splitlines()[-lines:])


def write_pidfile(state_dir, name, entry):
    run = Path(state_dir) / "run"
    run.mkdir(parents=True, exist_ok=True)
    pidfile = run / f"{name}.pid"
    if entry.get("pid"):
        pidfile.write_text(f"{entry['pid']}\n")
    else:
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()


def sweep(d):
    """Kills leftovers whose command line names d (e.g. after a lost cluster.json)."""
    mine = {os.getpid()}
    pid = os.getpid()
    while pid > 1:  # never our ancestors
        st = Path(f"/proc/{pid}/stat").read_text()
        pid = int(st[st.rindex(")") + 2 :].split()[1])
        mine.add(pid)
    needle = str(d) + "/"
    left = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) in mine:
            continue
        try:
            comm = (p / "comm").read_text().strip()
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if p.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if comm in ("kdfs-node", "redis-server", "haproxy", "java") and needle in cmd:
            st = proc_stat(int(p.name))
            if st:
                left.append({"pid": int(p.name), "start_time": st[1], "cmd": cmd.strip()})
    for e in left:
        say(f"stopping leftover pid {e['pid']}: {e['cmd'][:120]}")
    stop_procs(left, 10)
