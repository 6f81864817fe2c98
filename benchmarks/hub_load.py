"""A class on JupyterHub, measured: N learners at once, each in their own home, on 127.0.0.1.

Starts a real JupyterHub (DummyAuthenticator, SimpleLocalProcessSpawner with one home folder per
learner, configurable-http-proxy from npm) on loopback, then simulates N learners at once. Each
logs in through the hub's login form, starts a server, uploads lessons 04 and 06 into their home
and runs them through the Jupyter server API the way JupyterLab does (a session, then
execute_request messages over the kernel's websocket), and in lesson 06 moves the explorer's
slider through the widget protocol (comm messages) while the others may still be training.

Measured per N: lesson 04's wall time per learner, the peak memory (VmHWM) of each learner's
kernels, slider-move latency (send to kernel idle; median and p95) with how many other learners
were training at that moment, failures, and isolation (each learner's model and progress are in
their own home and nowhere else). Bounded: every wait has a deadline, and the hub, proxy and
servers are stopped at the end whatever happens.

    npm install --prefix build/chp configurable-http-proxy@5      # once
    .venv/bin/python benchmarks/hub_load.py --learners 1,2,4,8 \\
        --data ../shared/data/mnist-full.npz --json benchmarks/results/hub-load.json
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import requests
import websocket

ROOT = Path(__file__).resolve().parents[1]


def cpu_summary() -> dict:
    """The CPU the figures were measured on: model, cores, AVX-512 or not."""
    model, flags = "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    return {"model": model, "cores": os.cpu_count(), "avx512": "avx512f" in flags}


LESSONS = ("04_training", "06_visualizing_predictions")
SLIDER_MOVES = 20  # at least; more while the others are still training
MAX_MOVES = 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_proxy() -> str:
    found = shutil.which("configurable-http-proxy")
    local = ROOT / "build" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
    if found:
        return found
    if local.exists():
        return str(local)
    raise SystemExit(
        "configurable-http-proxy is not installed; run: "
        "npm install --prefix build/chp configurable-http-proxy@5"
    )


HUB_CONFIG = """
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{python!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.environment = {environment!r}
c.JupyterHub.db_url = "sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/cookie_secret"
c.JupyterHub.pid_file = "{state}/hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{{"name": "loadtest", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": "loadtest", "services": ["loadtest"],
      "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "read:users"]}}
]
"""


class Hub:
    """A JupyterHub on 127.0.0.1 for one measurement; stops everything it started."""

    def __init__(self, workdir: Path, data: str, threads: int):
        self.workdir = workdir
        self.homes = workdir / "homes"
        self.homes.mkdir(parents=True)
        state = workdir / "state"
        state.mkdir()
        self.port, self.token, self.password = free_port(), secrets.token_hex(16), "class"
        env = {
            "MNIST_PATH": data,  # one shared read-only copy, as on a real hub's volume
            "PYTHONPATH": str(ROOT),
            "TF_NUM_INTRAOP_THREADS": str(threads),
            "TF_NUM_INTEROP_THREADS": "1",
            "OMP_NUM_THREADS": str(threads),
            "PATH": os.environ["PATH"],
        }
        for name in ("JUPYTER_PATH",):
            if os.environ.get(name):
                env[name] = os.environ[name]
        (workdir / "jupyterhub_config.py").write_text(
            HUB_CONFIG.format(
                port=self.port,
                hub_port=free_port(),
                proxy_api=free_port(),
                proxy=find_proxy(),
                password=self.password,
                homes=str(self.homes),
                python=sys.executable,
                environment=env,
                state=state,
                token=self.token,
                args=["--allow-root"] if os.geteuid() == 0 else [],
            )
        )
        self.log = open(workdir / "hub.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(workdir / "jupyterhub_config.py")],
            cwd=workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 120
        while True:
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise SystemExit(f"JupyterHub did not start; see {workdir / 'hub.log'}")
            time.sleep(0.5)

    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kw
        )

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with_kill = psutil.Process(self.proc.pid) if psutil.pid_exists(self.proc.pid) else None
            if with_kill:
                os.killpg(self.proc.pid, signal.SIGKILL)
        for p in psutil.process_iter(["cmdline"]):  # servers and kernels the hub started
            try:
                if str(self.homes) in " ".join(p.info["cmdline"] or []) or str(self.homes) in (
                    p.cwd() or ""
                ):
                    p.kill()
            except (psutil.Error, OSError):
                pass
        self.log.close()


def decode(frame: str | bytes) -> dict:
    """One kernel message from the websocket: JSON text, or the binary form used when a message
    carries buffers (a count, offsets, the JSON message, then the buffers)."""
    if isinstance(frame, str):
        return json.loads(frame)
    count = int.from_bytes(frame[:4], "big")
    offsets = [int.from_bytes(frame[4 + 4 * i : 8 + 4 * i], "big") for i in range(count)]
    end = offsets[1] if count > 1 else len(frame)
    return json.loads(frame[offsets[0] : end].decode("utf-8"))


class Learner:
    """One learner: logs in, starts a server, trains in lesson 04, explores in lesson 06."""

    def __init__(
        self, hub: Hub, name: str, training: dict, lock: threading.Lock, epochs: int | None
    ):
        self.hub, self.user, self.training, self.lock, self.epochs = (
            hub,
            name,
            training,
            lock,
            epochs,
        )
        self.result: dict = {"learner": name, "failures": []}

    # -- the hub, as a browser uses it
    def login_and_start(self) -> None:
        web = requests.Session()
        form = web.get(f"{self.hub.url}/hub/login", timeout=60)
        xsrf = web.cookies.get("_xsrf", "")
        reply = web.post(
            f"{self.hub.url}/hub/login",
            data={"username": self.user, "password": self.hub.password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=60,
        )
        if form.status_code != 200 or reply.status_code not in (302, 303):
            raise RuntimeError(f"login failed: {reply.status_code}")
        token = self.hub.api("POST", f"/users/{self.user}/tokens", json={"note": "load test"})
        token.raise_for_status()
        self.token = token.json()["token"]
        started = time.perf_counter()
        self.hub.api("POST", f"/users/{self.user}/server").raise_for_status()
        deadline = time.time() + 240
        while True:
            info = self.hub.api("GET", f"/users/{self.user}").json()
            server = (info.get("servers") or {}).get("", {})
            if server.get("ready"):
                break
            if time.time() > deadline:
                raise RuntimeError("server did not become ready in 240 s")
            time.sleep(0.5)
        self.result["server_start_s"] = round(time.perf_counter() - started, 2)
        self.base = f"{self.hub.url}/user/{self.user}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {self.token}"

    def upload(self, lesson: str) -> None:
        nb = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
        if self.epochs is not None:  # a shorter run, written into the parameters cell
            for cell in nb.cells:
                if "parameters" in cell.metadata.get("tags", []):
                    cell.source += f"\nepochs = {self.epochs}"
        body = {"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(nb))}
        self.http.put(
            f"{self.base}/api/contents/{lesson}.ipynb", json=body, timeout=60
        ).raise_for_status()

    # -- a kernel, as JupyterLab drives it
    def open_kernel(self, lesson: str):
        reply = self.http.post(
            f"{self.base}/api/sessions",
            json={
                "path": f"{lesson}.ipynb",
                "type": "notebook",
                "name": lesson,
                "kernel": {"name": "python3"},
            },
            timeout=120,
        )
        reply.raise_for_status()
        kernel = reply.json()["kernel"]["id"]
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{self.hub.port}/user/{self.user}/api/kernels/{kernel}/channels",
            header=[f"Authorization: token {self.token}"],
            timeout=900,
        )
        return kernel, ws

    def send(self, ws, channel: str, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.user,
                        "session": self.session,
                        "msg_type": msg_type,
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": channel,
                    "buffers": [],
                }
            )
        )
        return msg_id

    def wait_idle(self, ws, msg_id: str, seen: list | None = None) -> dict:
        reply: dict = {}
        idle = False
        while not (idle and reply):
            msg = decode(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                if seen is not None and msg.get("msg_type") == "comm_open":
                    seen.append(msg)
                continue
            if seen is not None:
                seen.append(msg)
            kind = msg.get("msg_type")
            if kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status" and msg["content"].get("execution_state") == "idle":
                idle = True
            elif kind == "error":
                reply = reply or {"status": "error"}
                self.result["failures"].append(
                    f"{msg['content']['ename']}: {msg['content']['evalue'][:200]}"
                )
        return reply

    def run_lesson(self, lesson: str, seen: list | None = None):
        self.upload(lesson)
        kernel, ws = self.open_kernel(lesson)
        self.kernel_pid = None
        started = time.perf_counter()
        nb = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                source = cell.source
                if self.epochs is not None and "parameters" in cell.metadata.get("tags", []):
                    source += f"\nepochs = {self.epochs}"
                msg_id = self.send(
                    ws,
                    "shell",
                    "execute_request",
                    {
                        "code": source,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                )
                reply = self.wait_idle(ws, msg_id, seen)
                if reply.get("status") != "ok":
                    self.result["failures"].append(
                        f"{lesson}: a cell ended with {reply.get('status')}"
                    )
                    break
            seconds = time.perf_counter() - started
            self.result[f"{lesson}_peak_mb"] = self.kernel_peak_mb()
            self.result["server_peak_mb"] = self.kernel_peak_mb("jupyterhub.singleuser")
            return seconds, ws, kernel
        except Exception:
            ws.close()
            raise

    def kernel_peak_mb(self, what: str = "ipykernel") -> float | None:
        """Peak resident memory (VmHWM) of this learner's kernels (or, with
        what="jupyterhub.singleuser", of their Jupyter server)."""
        home = str(self.hub.homes / self.user)
        peaks = []
        for p in psutil.process_iter(["cmdline"]):
            try:
                cmd = " ".join(p.info["cmdline"] or [])
                if what in cmd and p.cwd().startswith(home):
                    with open(f"/proc/{p.pid}/status") as fh:
                        for line in fh:
                            if line.startswith("VmHWM:"):
                                peaks.append(int(line.split()[1]) / 1024)
            except (psutil.Error, OSError):
                pass
        return round(max(peaks), 1) if peaks else None

    def move_slider(self, ws, seen: list, others_done: threading.Event) -> None:
        """Move the explorer's slider, as a learner drags it, until the others stop training."""
        sliders = [
            m["content"]["comm_id"]
            for m in seen
            if m.get("msg_type") == "comm_open"
            and m["content"].get("data", {}).get("state", {}).get("_model_name") == "IntSliderModel"
        ]
        if not sliders:
            self.result["failures"].append("06: no slider in the explorer")
            return
        latencies, others = [], []
        k = 0
        while k < MAX_MOVES and (k < SLIDER_MOVES or not others_done.is_set()):
            k += 1
            with self.lock:
                busy = sum(1 for name, on in self.training.items() if on and name != self.user)
            started = time.perf_counter()
            msg_id = self.send(
                ws,
                "shell",
                "comm_msg",
                {
                    "comm_id": sliders[0],
                    "data": {"method": "update", "state": {"value": k % 500}, "buffer_paths": []},
                },
            )
            while True:
                msg = decode(ws.recv())
                if (
                    msg.get("parent_header", {}).get("msg_id") == msg_id
                    and msg.get("msg_type") == "status"
                    and msg["content"].get("execution_state") == "idle"
                ):
                    break
            latencies.append((time.perf_counter() - started) * 1000)
            others.append(busy)
            time.sleep(0.2)  # a person does not drag faster than a few moves a second
        self.result["slider_ms"] = [round(x, 1) for x in latencies]
        self.result["slider_others_training"] = others

    def _guard(self, step) -> None:
        try:
            step()
        except Exception as exc:  # a failure is a figure, not a crash of the benchmark
            self.result["failures"].append(f"{type(exc).__name__}: {str(exc)[:300]}")
        finally:
            with self.lock:
                self.training[self.user] = False

    def train(self, key: str) -> None:
        """Lesson 04, start to finish, in a fresh kernel."""

        def step():
            with self.lock:
                self.training[self.user] = True
            seconds, ws, kernel = self.run_lesson(LESSONS[0])
            with self.lock:
                self.training[self.user] = False
            self.result[key] = round(seconds, 1)
            ws.close()
            self.http.delete(f"{self.base}/api/kernels/{kernel}", timeout=60)

        self._guard(step)

    def explore(self, others_done: threading.Event) -> None:
        """Lesson 06, then the slider, while the others train."""

        def step():
            seen: list = []
            seconds, ws, kernel = self.run_lesson(LESSONS[1], seen)
            self.result["lesson_06_s"] = round(seconds, 1)
            self.move_slider(ws, seen, others_done)
            ws.close()
            self.http.delete(f"{self.base}/api/kernels/{kernel}", timeout=60)

        self._guard(step)

    def first_steps(self) -> None:
        self.session = uuid.uuid4().hex
        self._guard(self.login_and_start)
        if not self.result["failures"]:
            self.train("lesson_04_s")


def _all(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=3600)


def isolation(hub: Hub, names: list[str]) -> list[str]:
    """Each learner's model and progress live in their home, and only there."""
    problems = []
    for name in names:
        home = hub.homes / name
        if not (home / "artifacts" / "dense_model.keras").is_file():
            problems.append(f"{name}: no saved model in their own home")
        if not list(home.glob(".digit-lessons-progress.json")) and not list(
            home.rglob("progress.json")
        ):
            problems.append(f"{name}: no progress file in their own home")
        for other in names:
            if other != name and any(other in str(p) for p in home.rglob("*")):
                problems.append(f"{name}'s home holds a file named for {other}")
    strays = [p for p in hub.workdir.glob("*.keras")] + [p for p in hub.workdir.glob("artifacts")]
    problems += [f"stray file outside every home: {p}" for p in strays]
    return problems


def measure(n: int, data: str, threads: int, epochs: int | None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"hub-{n}-"))
    hub = Hub(workdir, data, threads)
    names = [f"learner{i}" for i in range(1, n + 1)]
    try:
        training: dict = {}
        lock = threading.Lock()
        learners = [Learner(hub, name, training, lock, epochs) for name in names]
        load_before = os.getloadavg()
        started = time.perf_counter()
        # Phase 1: every learner logs in, starts a server and trains in lesson 04, all at once.
        _all([threading.Thread(target=lr.first_steps) for lr in learners])
        # Phase 2: the first learner explores lesson 06 and drags its slider while the others
        # train again (a second attempt at lesson 04), so the latency is measured under load.
        done = threading.Event()
        trainers = [
            threading.Thread(target=lr.train, args=("lesson_04_again_s",)) for lr in learners[1:]
        ]
        explorer = threading.Thread(target=learners[0].explore, args=(done,))
        explorer.start()
        _all(trainers)
        done.set()
        explorer.join(timeout=3600)
        wall = time.perf_counter() - started
        results = [learner.result for learner in learners]
        lesson04 = [r["lesson_04_s"] for r in results if "lesson_04_s" in r]
        again = [r["lesson_04_again_s"] for r in results if "lesson_04_again_s" in r]
        servers = [r["server_peak_mb"] for r in results if r.get("server_peak_mb")]
        peaks = [
            max(v for k, v in r.items() if k.endswith("_peak_mb") and k != "server_peak_mb" and v)
            for r in results
            if any(k.endswith("_peak_mb") and k != "server_peak_mb" and v for k, v in r.items())
        ]
        pairs = [
            (ms, busy)
            for r in results
            for ms, busy in zip(
                r.get("slider_ms", []), r.get("slider_others_training", []), strict=True
            )
        ]
        under_load = sorted(ms for ms, busy in pairs if busy)
        slider = under_load if under_load else sorted(ms for ms, _ in pairs)
        return {
            "learners": n,
            "wall_s": round(wall, 1),
            "lesson_04_s": lesson04,
            "lesson_04_s_median": round(statistics.median(lesson04), 1) if lesson04 else None,
            "lesson_04_again_s": again,
            "kernel_peak_mb": peaks,
            "kernel_peak_mb_max": max(peaks) if peaks else None,
            "server_peak_mb_max": max(servers) if servers else None,
            "slider_ms_median": round(statistics.median(slider), 1) if slider else None,
            "slider_ms_p95": round(slider[int(0.95 * (len(slider) - 1))], 1) if slider else None,
            "slider_figures_are": "while others trained"
            if under_load
            else "with nobody else training",
            "slider_moves": len(pairs),
            "slider_moves_while_others_trained": len(under_load),
            "failures": [f for r in results for f in r["failures"]],
            "isolation_problems": isolation(hub, names),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "per_learner": results,
        }
    finally:
        hub.stop()
        if os.environ.get("HUB_LOAD_KEEP"):
            print(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", default="1,2,4,8", help="comma-separated class sizes")
    parser.add_argument("--data", required=True, help="the MNIST file every learner reads")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads per kernel")
    parser.add_argument("--epochs", type=int, help="override lesson 04's epochs (a shorter run)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    data = str(Path(args.data).resolve())
    runs = []
    for n in [int(x) for x in args.learners.split(",")]:
        print(f"hub: {n} learner(s) ...", flush=True)
        figures = measure(n, data, args.threads, args.epochs)
        runs.append(figures)
        print(
            f"  lesson 04 median {figures['lesson_04_s_median']} s, kernel peak "
            f"{figures['kernel_peak_mb_max']} MB, slider median {figures['slider_ms_median']} ms "
            f"(p95 {figures['slider_ms_p95']}), failures {len(figures['failures'])}, "
            f"isolation problems {len(figures['isolation_problems'])}",
            flush=True,
        )
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "cpu": cpu_summary(),
        "data": data,
        "threads_per_kernel": args.threads,
        "epochs": args.epochs,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": runs,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    return 0 if all(not r["failures"] and not r["isolation_problems"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
