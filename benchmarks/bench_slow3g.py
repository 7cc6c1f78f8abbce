"""Page loads on an emulated slow 3G connection (issue 8, §6): the login page, the dashboard
of a commune officer and the registry list, each on a first visit (empty cache) and a repeat
visit, as a phone on a weak connection would see them.

  python benchmarks/bench_slow3g.py [--runs 3] [--debug 1] [--data-dir DIR] [--verbose]

What it does, all in this run:
- a fresh embedded SQLite database in a temporary ANSINH_DATA_DIR (or --data-dir, reused when
  it is already loaded): `migrate`, `load_demo`, `collectstatic`, as `make setup` does;
- the server as `make run` starts it: `manage.py runserver --noreload` with DEBUG=1 (or
  --debug 0, the production settings), static files served by WhiteNoise;
- Debian's chromium through Playwright (headless, the launch arguments of the browser tests),
  throttled with the DevTools protocol (`Network.emulateNetworkConditions`: 400 kbit/s down
  and up, 400 ms latency);
- for each page: a new browser context (empty cache) loads it ("first"), then the same tab
  loads it again ("repeat"); the dashboard and the list carry the session cookie of a demo
  commune officer, signed in beforehand in another context;
- the floor: a 1-byte page from a bare HTTP server in this process, under the same
  throttling: the least any page can take on this connection (one request, one latency).

Prints, per page and visit, the median over --runs of: requests over the network (and served
from the cache), bytes transferred (encoded, headers included), DOMContentLoaded and load
event times, and the load time as a multiple of the floor. Target: every first visit loads in
under 3 s. Needs Debian's chromium (scripts/ensure-chromium.sh) and the `playwright` package.
Exit status 1 when the target is missed, 2 when chromium is missing."""

from __future__ import annotations

import argparse
import http.server
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

TARGET_S = 3.0
KBITS = 400
LATENCY_MS = 400
LAUNCH_ARGS = [  # as tests/browser/conftest.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
PAGES = [("login", "/login/", False), ("dashboard", "/", True), ("registry list", "/beneficiaries/", True)]
DEMO_USER = "canbo.xa"  # the demo's commune officer (ansinh.demo.organisations)


def available() -> str | None:
    """None when the benchmark can run, else why not."""
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed (scripts/ensure-chromium.sh)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def demo_password() -> str:
    """The demo's password, read from its module (importing it would need Django set up)."""
    source = (c.ROOT / "ansinh" / "demo" / "organisations.py").read_text()
    match = re.search(r'^DEMO_PASSWORD = "([^"]+)"', source, re.M)
    if match is None:
        raise SystemExit("DEMO_PASSWORD not found in ansinh/demo/organisations.py")
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, debug: bool) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "BENCH_DATABASE_URL", "STATIC_ROOT", "ANSINH_TESTING"):
        env.pop(name, None)  # the embedded SQLite database of data_dir, whatever run_all.py was given
    env.update({"ANSINH_DATA_DIR": str(data_dir), "DEBUG": "1" if debug else "0", "PYTHONUNBUFFERED": "1"})
    return env


def manage(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(c.ROOT / "manage.py"), *args], cwd=c.ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.monotonic() - started


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    """collectstatic + migrate + load_demo, as `make setup` (load_demo is skipped when data_dir
    already holds the demo)."""
    c.say(f"collectstatic: {manage(env, 'collectstatic', '--noinput'):.1f} s")
    seconds = manage(env, "migrate", "--noinput")
    marker = data_dir / ".slow3g-demo-loaded"
    if marker.exists():
        c.say(f"demo database in {data_dir}: reused (migrate {seconds:.0f} s)")
    else:
        seconds += manage(env, "load_demo", "--quiet-logins")
        marker.touch()
        c.say(f"demo database in {data_dir}: migrate + load_demo {seconds:.0f} s")


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped (exit status {process.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer at {url} within {timeout:.0f} s")


class _OneByte(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(b"x")

    def log_message(self, *args):
        pass


def floor_server() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OneByte)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Probe:
    """Counts what one tab fetches, through the DevTools protocol, and throttles it."""

    def __init__(self, context, page):
        self.page = page
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": LATENCY_MS,
                "downloadThroughput": KBITS * 1000 / 8,
                "uploadThroughput": KBITS * 1000 / 8,
                "connectionType": "cellular3g",
            },
        )
        self.reset()
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.requestServedFromCache", self._cached)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)

    def reset(self) -> None:
        self.requests: dict[str, str] = {}
        self.from_cache: set[str] = set()
        self.bytes: dict[str, float] = {}
        self.encoding: dict[str, str] = {}
        self.cache_control: dict[str, str] = {}

    def _sent(self, event):
        if not event["request"]["url"].startswith("data:"):  # inline images: no request at all
            self.requests[event["requestId"]] = event["request"]["url"]

    def _cached(self, event):
        self.from_cache.add(event["requestId"])

    def _response(self, event):
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self.encoding[event["requestId"]] = headers.get("content-encoding", "")
        self.cache_control[event["requestId"]] = headers.get("cache-control", "")
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])

    def _finished(self, event):
        self.bytes[event["requestId"]] = event["encodedDataLength"]

    def visit(self, url: str) -> dict:
        self.reset()
        self.page.goto(url, wait_until="load", timeout=120_000)
        timing = self.page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, status: n.responseStatus}; }"
        )
        self.page.wait_for_timeout(50)  # let the last loadingFinished events arrive
        network = [rid for rid in self.requests if rid not in self.from_cache]
        cached = [rid for rid in self.requests if rid in self.from_cache]
        return {
            "load_s": timing["load"] / 1000,
            "dcl_s": timing["dcl"] / 1000,
            "status": timing["status"],
            "requests": len(network),
            "cached": len(cached),
            "bytes": sum(self.bytes.get(rid, 0) for rid in network),
            "resources": [
                (
                    self.requests[rid],
                    rid in self.from_cache,
                    self.bytes.get(rid, 0),
                    self.encoding.get(rid, ""),
                    self.cache_control.get(rid, ""),
                )
                for rid in self.requests
            ],
        }


def sign_in(browser, base: str, username: str, password: str) -> list[dict]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    if "/login/" in page.url:
        raise SystemExit(f"could not sign in as {username}")
    cookies = context.cookies()
    context.close()
    return cookies


def measure(browser, url: str, cookies: list[dict] | None) -> dict[str, dict]:
    context = browser.new_context(locale="vi-VN", **PHONE)
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    probe = Probe(context, page)
    first = probe.visit(url)
    repeat = probe.visit(url)
    context.close()
    return {"first": first, "repeat": repeat}


def median_of(samples: list[dict]) -> dict:
    out = dict(samples[0])
    for key in ("load_s", "dcl_s", "requests", "cached", "bytes"):
        out[key] = statistics.median(s[key] for s in samples)
    out["max_load_s"] = max(s["load_s"] for s in samples)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="loads of each page and visit (the median is printed)")
    parser.add_argument("--debug", type=int, choices=(0, 1), default=1, help="DEBUG of the server (1 as make run)")
    parser.add_argument("--data-dir", type=Path, help="ANSINH_DATA_DIR to use and keep (default: a temporary one)")
    parser.add_argument("--verbose", action="store_true", help="list every resource of the first run")
    args = parser.parse_args(argv)

    c.header("slow 3G page loads (login, dashboard, registry list)")
    why_not = available()
    if why_not:
        c.say(f"skipped: {why_not}")
        return {"ok": None, "skipped": why_not}
    from playwright.sync_api import sync_playwright

    temp = None
    if args.data_dir:
        data_dir = args.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.TemporaryDirectory(prefix="ansinh-slow3g-")
        data_dir = Path(temp.name)
    env = server_env(data_dir, bool(args.debug))
    prepare(data_dir, env)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(c.ROOT / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=c.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    floor = floor_server()
    floor_url = f"http://127.0.0.1:{floor.server_address[1]}/floor.html"
    results: dict[str, dict] = {}
    try:
        wait_until_up(f"{base}/login/", server)
        c.say(
            f"server: runserver, DEBUG={args.debug}; throttling {KBITS} kbit/s down and up, {LATENCY_MS} ms latency; "
            f"phone viewport 390 px; {args.runs} run(s), medians"
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=LAUNCH_ARGS
            )
            cookies = sign_in(browser, base, DEMO_USER, demo_password())
            samples: dict[tuple[str, str], list[dict]] = {}
            for _ in range(args.runs):
                for visit, result in measure(browser, floor_url, None).items():
                    samples.setdefault(("floor (1-byte page)", visit), []).append(result)
                for name, path, signed_in in PAGES:
                    for visit, result in measure(browser, base + path, cookies if signed_in else None).items():
                        samples.setdefault((name, visit), []).append(result)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        floor.shutdown()
        if temp is not None:
            temp.cleanup()

    for key, runs in samples.items():
        results[" / ".join(key)] = median_of(runs)
        if any(r["status"] != 200 for r in runs):
            raise SystemExit(f"{key[0]} answered {runs[0]['status']}")
    floor_s = results["floor (1-byte page) / first"]["load_s"]
    c.say(
        f"{'page':<32}{'requests':>9}{'cached':>8}{'bytes':>10}{'DCL':>8}{'load':>8}{'max':>8}{'× floor':>9}"
        f"   target: first visit < {TARGET_S:.0f} s"
    )
    ok = True
    for key, r in results.items():
        first_visit = key.endswith("/ first") and not key.startswith("floor")
        verdict = ""
        if first_visit:
            met = r["load_s"] < TARGET_S
            ok = ok and met
            verdict = "  OK" if met else "  MISSED"
        c.say(
            f"{key:<32}{r['requests']:>9.0f}{r['cached']:>8.0f}{r['bytes'] / 1024:>8.1f}kB"
            f"{r['dcl_s']:>7.2f}s{r['load_s']:>7.2f}s{r['max_load_s']:>7.2f}s{r['load_s'] / floor_s:>8.1f}×{verdict}"
        )
    if args.verbose:
        for key, r in results.items():
            c.say(f"-- {key} (first run)")
            for url, cached, size, encoding, cache_control in r["resources"]:
                where = "cache" if cached else f"{size / 1024:.1f} kB"
                c.say(f"   {where:>10}  {encoding or '-':<5} {cache_control or '-':<40} {url}")
    c.say(f"target (every first visit < {TARGET_S:.0f} s): {'met' if ok else 'MISSED'}")
    return {"ok": ok, "results": results, "floor_s": floor_s}


if __name__ == "__main__":
    outcome = main()
    sys.exit(2 if outcome["ok"] is None else 0 if outcome["ok"] else 1)
