#!/usr/bin/python3
"""The live view in a real browser, during a real run.

Starts `taskmaster run --live` on a 2D function, opens the page in Debian's
headless Chromium through the DevTools protocol, and checks that the page
loads, that its point count grows between two reads of the DOM, that the
plots have drawn (a screenshot that is not blank, a function plot of many
colours), that "+ worker" adds a worker, that the stop button stops the run,
and that there were no console
errors. Only Debian's python3 standard library: the DevTools protocol is
JSON over a WebSocket, spoken here in a few lines.

Usage: live_view_check.py TASKMASTER [--chromium PATH] [--screenshot FILE.png]
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib


def fail(message):
    print(f"live view browser test: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def wait_for_line(path, pattern, seconds, process=None):
    """The first match of `pattern` in the file `path`, waited for while
    `process` (if given) runs."""
    until = time.monotonic() + seconds
    while time.monotonic() < until and (process is None or process.poll() is None):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                m = re.search(pattern, f.read())
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return None


class WebSocket:
    """A WebSocket client (RFC 6455) for text messages: enough for DevTools."""

    def __init__(self, url):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"DevTools refused the WebSocket: {head[:100]!r}")

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            data += chunk
        return data

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])  # a final text frame
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)  # a client masks what it sends
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0, 1, 2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class DevTools:
    """Commands to one page, and the events that came meanwhile."""

    def __init__(self, url):
        self.ws = WebSocket(url)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self):
        """Console errors, uncaught exceptions and failed loads so far."""
        self.call("Runtime.evaluate", expression="0")  # collects what is queued
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append(json.dumps(p["exceptionDetails"])[:300])
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"{p['entry'].get('url', '')}: {p['entry']['text']}")
        return out


def png_pixels(data):
    """The RGB(A) rows of a PNG (8-bit, non-interlaced, as Chromium writes it)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth == 8 and colour in (2, 6), f"unexpected PNG: depth {depth}, colour type {colour}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, bpp, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("taskmaster")
    parser.add_argument("--chromium", default=shutil.which("chromium-headless-shell")
                        or shutil.which("chromium") or "chromium-headless-shell")
    parser.add_argument("--screenshot", default=None)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="taskmaster-browser-")
    history = os.path.join(scratch, "run.jsonl")
    run_log = os.path.join(scratch, "run.log")
    # A ring-shaped function of two variables, a little slow per point so
    # that the run lasts while the page is read.
    program = os.path.join(scratch, "ring.sh")
    with open(program, "w") as f:
        f.write("#!/bin/sh\nsleep 0.03\nawk -v a=\"$1\" -v b=\"$2\" "
                "'BEGIN { r = sqrt(a*a + b*b); print a + exp(-((r - 0.5) * 10) ^ 2) }'\n")
    os.chmod(program, 0o755)
    run = subprocess.Popen(
        [args.taskmaster, "run", "--learner", "2d", "--bounds", "-1,1", "--bounds", "-1,1",
         "--goal", "npoints=100000", "-j", "2", "--live", "0", "--history", history, "-q",
         "--", program, "{x0}", "{x1}"],
        stdout=subprocess.DEVNULL, stderr=open(run_log, "w"))
    browser = None
    try:
        m = wait_for_line(run_log, r"http://\S+", 30, run)
        if not m:
            fail(f"the run printed no address: {open(run_log).read()}")
        url = m.group(0)
        print(f"run serving {url}")

        browser_log = os.path.join(scratch, "chromium.log")
        browser = subprocess.Popen(
            [args.chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-port=0", f"--user-data-dir={scratch}/profile",
             "--window-size=1280,1400", "--no-first-run", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(browser_log, "w"),
            # Its own process group: the browser's processes (a wrapper's
            # child, zygotes, renderers) all go with it at the end.
            start_new_session=True)
        m = wait_for_line(browser_log, r"DevTools listening on (ws://\S+)", 30)
        if not m:
            fail(f"Chromium did not start: {open(browser_log).read()[-2000:]}")
        port = re.match(r"ws://[^:]+:(\d+)/", m.group(1)).group(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        for domain in ("Runtime", "Log", "Page"):
            tools.call(f"{domain}.enable")
        tools.call("Page.navigate", url=url)

        def wait_until(expression, seconds, what):
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                try:
                    if tools.evaluate(expression):
                        return
                except RuntimeError:
                    pass  # the page is still loading
                time.sleep(0.1)
            fail(f"{what} (waited {seconds} s)")

        wait_until("Number(document.getElementById('npoints')?.textContent) > 10", 30,
                   "the page shows no points")
        first = int(tools.evaluate("document.getElementById('npoints').textContent"))
        time.sleep(3)
        second = int(tools.evaluate("document.getElementById('npoints').textContent"))
        print(f"points on the page: {first}, then 3 s later {second}")
        if second <= first:
            fail(f"the point count did not grow ({first}, then {second})")
        # The 2D triangulation came from the server and was drawn.
        wait_until("view.mesh && view.mesh.kind === 'triangles' && view.mesh.triangles.length > 30",
                   10, "no triangulation was drawn")
        time.sleep(0.5)
        colours = tools.evaluate("""(() => {
            const c = document.querySelector('#fn-plot canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
            return seen.size; })()""")
        print(f"colours in the function plot: {colours}")
        if colours < 50:
            fail(f"the function plot looks empty ({colours} colours)")
        for plot in ("loss-plot", "busy-plot", "rate-plot"):
            drawn = tools.evaluate(f"""(() => {{
                const c = document.querySelector('#{plot} canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let ink = 0;
                for (let i = 3; i < d.length; i += 4) ink += d[i] > 0;
                return ink; }})()""")
            if not drawn or drawn < 500:
                fail(f"{plot} has not drawn ({drawn} pixels)")
        text = tools.evaluate("document.getElementById('run').textContent")
        for expected in ("2d", "ring.sh", "seed"):
            if expected not in text:
                fail(f"the run's panel lacks {expected!r}: {text[:300]}")

        shot = base64.b64decode(tools.call("Page.captureScreenshot", format="png")["data"])
        if args.screenshot:
            with open(args.screenshot, "wb") as f:
                f.write(shot)
        width, height, bpp, rows = png_pixels(shot)
        distinct = {row[i:i + 3] for row in rows[::4] for i in range(0, width * bpp, bpp * 4)}
        print(f"screenshot {width}x{height}, {len(distinct)} colours")
        if len(distinct) < 100:
            fail(f"the screenshot is blank ({len(distinct)} colours)")

        # The worker buttons: a click on "+ worker" shows as one more in the capacity.
        if tools.evaluate("document.getElementById('worker-buttons').hidden"):
            fail("the worker buttons are hidden although the address has the token")
        capacity = lambda: int(tools.evaluate("document.getElementById('busy').textContent.split('/')[1]"))
        before = capacity()
        tools.evaluate("document.getElementById('more-workers').click()")
        wait_until(f"Number(document.getElementById('busy').textContent.split('/')[1]) === {before + 1}", 10,
                   f"the capacity did not go from {before} to {before + 1} after '+ worker'")
        print(f"capacity on the page: {before}, then {capacity()} after a click on '+ worker'")

        # The stop button's request, with the token from the address.
        if tools.evaluate("document.getElementById('stop').hidden"):
            fail("the stop button is hidden although the address has the token")
        answer = tools.evaluate("fetch('api/stop', {method: 'POST', headers: "
                                "{'X-Taskmaster-Token': token}}).then(r => r.status)")
        if answer != 200:
            fail(f"stopping the run gave HTTP {answer}")
        try:
            status = run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            fail("the run did not stop")
        if status != 0:
            fail(f"the run exited with {status}: {open(run_log).read()[-2000:]}")

        errors = tools.errors()
        if not tools.evaluate("document.getElementById('errors').hidden"):
            errors.append(tools.evaluate("document.getElementById('errors').textContent"))
        if errors:
            fail("console errors:\n  " + "\n  ".join(errors))
        print("live view browser test: OK (page loads, points grow, plots drawn, a worker added, stop works, "
              "no console errors)")
    finally:
        for p in (run, browser):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if browser is not None:
            try:
                os.killpg(browser.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
