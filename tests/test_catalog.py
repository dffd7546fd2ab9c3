"""The catalog: `zoo list --sort/--where`, `zoo catalog -o DIR`, `zoo serve`.

The site is checked as files (every model has a page, CSP, only relative
references, untrusted card text escaped) and in a real headless Chromium
(Debian's ``chromium``) driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ending in NUL on file descriptors 3
and 4, so no websocket client is needed): the index lists every model, sorting
and filtering work from the URL and from the controls, a model page shows its
card and picture, and every request the pages make is a file:// (or, served,
127.0.0.1) one. Browser tests skip when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zoo.catalog import metrics as M
from zoo.catalog.query import Query, parse_sort, parse_where
from zoo.catalog.records import catalog_names, entries
from zoo.catalog.site import CSP, MARKER, build_site
from zoo.cli import cli
from zoo.errors import CatalogError, QueryError, ZooError
from zoo.plugins import load_plugins

CHROMIUM = Path(os.environ.get("CATALOG_CHROMIUM", "/usr/bin/chromium"))  # another browser build: set the path
_NO_CHROMIUM = f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)"
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=_NO_CHROMIUM)
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


# -- metric directions and the query language ------------------------------------------


def test_metric_directions_and_baselines():
    for name in ("fid", "kid", "test_mse", "content_loss_judge", "palette_l1", "lpips"):
        assert M.direction(name) == "lower", name
    for name in ("accuracy", "ssim_to_content", "test_explained_variance", "psnr", "inception_score"):
        assert M.direction(name) == "higher", name
    assert M.direction("widgets") is None
    for name in ("fid50k_train", "fid10k_train", "kid10k"):  # a sample count stays the metric it counts for
        assert M.direction(name) == "lower", name
    assert M.direction("l2") == "lower" and M.direction("palette_l1") == "lower"
    assert M.baseline_of("fid_real_baseline") == "fid" and M.baseline_of("fid") is None
    headline, baselines = M.split({"fid": 20.7, "kid": 2.3, "fid_real_baseline": 0.17})
    assert headline == {"fid": 20.7, "kid": 2.3} and baselines == {"fid": 0.17}


def test_where_and_sort_parse_with_typed_errors():
    metrics = ["accuracy", "fid", "fid_baseline", "kid"]
    conds = parse_where("fid<20, kid <= 2 and dataset=mnist", metrics)
    assert [(c.key, c.op, c.value) for c in conds] == [("fid", "<", 20.0), ("kid", "<=", 2.0), ("dataset", "=", "mnist")]
    assert parse_sort("fid", metrics).descending is False  # lower is better: smallest first
    assert parse_sort("accuracy", metrics).descending is True  # higher is better: largest first
    assert parse_sort("-fid", metrics).descending is True
    assert parse_sort("fid_baseline", metrics).direction == "lower"
    for bad, words in [("fdi<20", "Did you mean 'fid'"), ("fid<<2", "a number"), ("fid", "KEY OP VALUE"),
                       ("dataset<3", "= or !="), ("", "empty")]:
        with pytest.raises(QueryError, match=re.escape(words)) as info:
            parse_where(bad, metrics)
        assert isinstance(info.value, ZooError)
    with pytest.raises(QueryError, match="Did you mean 'accuracy'"):
        parse_sort("acuracy", metrics)


# -- zoo list --sort / --where ---------------------------------------------------------


def _fid(name: str) -> float | None:
    from zoo import model_info

    w = model_info(name).weights
    return None if w is None else w.metrics.get("fid")


def test_list_sort_knows_the_direction():
    rows = json.loads(run("list", "--sort", "fid", "--json").output)
    assert {"name", "task", "weights", "source", "metrics", "protocols"} <= set(rows[0])
    fids = [r["metrics"].get("fid") for r in rows]
    present = [f for f in fids if f is not None]
    assert len(present) >= 5
    assert all(f is None for f in fids[len(present):]), "models without an FID come last"
    # ranked within each protocol (an Inception FID is never ranked against a classifier FID): each
    # protocol's rows are contiguous and best first
    groups = [r["protocols"]["fid"] for r in rows[: len(present)]]
    assert len(set(groups)) >= 2 and all(groups.index(g) + groups.count(g) - 1 == max(
        i for i, x in enumerate(groups) if x == g) for g in groups)
    for g in set(groups):
        mine = [r["metrics"]["fid"] for r in rows[: len(present)] if r["protocols"]["fid"] == g]
        assert mine == sorted(mine), g
    worst = json.loads(run("list", "--sort", "-fid", "--json").output)
    for g in set(groups):
        mine = [r["metrics"]["fid"] for r in worst[: len(present)] if r["protocols"]["fid"] == g]
        assert mine == sorted(mine, reverse=True), g
    acc = json.loads(run("list", "--pretrained", "--sort", "accuracy", "--json").output)
    # accuracy on MNIST and on Fashion-MNIST are two protocols: not ranked against each other
    assert {acc[0]["name"], acc[1]["name"]} == {"classifier.mnist", "classifier.fashion-mnist"}
    assert acc[0]["protocols"]["accuracy"] != acc[1]["protocols"]["accuracy"]
    text = run("list", "--sort", "fid").stdout
    assert text.splitlines()[0].split()[0] == rows[0]["name"] and "fid=" in text


def test_list_where_filters_by_metric_and_field():
    rows = json.loads(run("list", "--where", "fid<20", "--json").output)
    expected = sorted(n for n in load_plugins().registry.weights if (_fid(n) or 99) < 20)
    assert sorted(r["name"] for r in rows) == expected and expected
    both = json.loads(run("list", "--where", "dataset=mnist", "--where", "kid<2", "--json").output)
    assert both and all(r["weights"] == "mnist" and r["metrics"]["kid"] < 2 for r in both)
    assert run("list", "--where", "fid>1000").output.startswith("no models match")
    bad = run("list", "--where", "fdi<20", ok=False)
    assert bad.exit_code == 1 and "Did you mean 'fid'" in bad.output
    # the pattern narrows the listing, not the metric names that may be used
    assert json.loads(run("list", "adain*", "--where", "fid<20", "--json").output) == []


def test_list_and_catalog_import_no_torch(tmp_path: Path):
    code = textwrap.dedent(f"""
        import sys
        from zoo.cli import cli
        for args in (["list", "--sort", "fid", "--where", "fid<30"], ["catalog", "-o", {str(tmp_path / 'site')!r}]):
            try:
                cli(args, standalone_mode=False)
            except SystemExit:
                pass
        assert "torch" not in sys.modules, "torch imported"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and "ok" in out.stdout, out.stdout + out.stderr
    assert (tmp_path / "site" / "index.html").is_file()


# -- the site as files -----------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("catalog") / "site"
    build_site(out, host=load_plugins())
    return out


class _Refs(HTMLParser):
    """Every attribute of every tag, and the text of <script> and <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[dict[str, str]] = []
        self._in: str | None = None
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "script":
            self.scripts.append(a)
        self._in = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.inline.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _refs(html: str) -> _Refs:
    p = _Refs()
    p.feed(html)
    return p


def _assert_offline_refs(html: str, where: str) -> None:
    """Nothing in the page fetches from elsewhere: only <a href> may name an http(s) URL
    (opened only when clicked), every other URL-bearing attribute is relative."""
    p = _refs(html)
    for tag, attrs in p.tags:
        for key, value in attrs.items():
            if key.startswith("on"):
                raise AssertionError(f"{where}: event-handler attribute {key}= on <{tag}>")
            if tag == "a" and key == "href":
                assert not value.lower().startswith(("javascript:", "data:", "vbscript:", "file:")), (where, value)
                continue
            if tag == "svg" and key == "xmlns":
                continue
            if "://" in value or value.startswith("//") or value.lower().startswith(("data:", "javascript:")):
                if tag == "meta" and key == "content":
                    continue
                raise AssertionError(f"{where}: <{tag} {key}={value!r}> refers outside the site")
    assert not p.inline, f"{where}: inline <script>/<style> content: {p.inline[:1]}"
    assert [s.get("src") for s in p.scripts] in ([], ["catalog.js"], ["../catalog.js"]), where


def test_site_has_every_model_with_csp_and_relative_references(site: Path):
    names = catalog_names(load_plugins())
    assert len(names) >= 10
    index = (site / "index.html").read_text()
    for name in names:
        assert f'data-name="{name}"' in index
        page = site / "models" / f"{name}.html"
        assert page.is_file(), name
    pages = [site / "index.html", *sorted((site / "models").glob("*.html"))]
    assert len(pages) == len(names) + 1
    for page in pages:
        html = page.read_text()
        assert f'<meta http-equiv="Content-Security-Policy" content="{CSP.replace(chr(39), "&#x27;")}">' in html, page
        _assert_offline_refs(html, page.name)
    css = (site / "style.css").read_text()
    assert "url(" not in css and "@import" not in css
    js = (site / "catalog.js").read_text()
    assert not re.search(r"\b(fetch|XMLHttpRequest|eval|WebSocket|importScripts)\s*\(", js)
    assert json.loads((site / MARKER).read_text())["models"] == names


def test_model_page_has_card_metrics_pins_and_snippet(site: Path):
    host = load_plugins()
    w = host.registry.weights["dcgan.mnist"]
    html = (site / "models" / "dcgan.mnist.html").read_text()
    for needle in (w.revision, w.sha256, w.repo_id, 'zoo.load(&quot;dcgan.mnist&quot;)', "trained here",
                   "lower is better", "0.1699", "<h2>Model description</h2>", "zoo-models"):
        assert needle in html, needle
    assert '<img src="../assets/dcgan.mnist/card/samples.png"' in html
    assert (site / "assets" / "dcgan.mnist" / "card" / "samples.png").read_bytes() == (ROOT / "cards/zoo/dcgan-mnist/samples.png").read_bytes()
    adain = (site / "models" / "adain.zoo.html").read_text()
    # the "Load it" snippet is the card's own (its How to use block), not one written for every style model
    assert "model.stylize(photo, painting)" in adain and "higher is better" in adain  # ssim_to_content
    assert "luminance SSIM to the photo" in adain  # the card's measured-how of the record's ssim_to_content
    classifier = (site / "models" / "classifier.mnist.html").read_text()
    assert 'id="no-picture"' in classifier and "reads cards" in classifier


def test_fid_chart_has_every_generator_and_its_baseline(site: Path):
    host = load_plugins()
    generators = sorted(n for n, w in host.registry.weights.items() if "fid" in w.metrics)
    root = ET.fromstring((site / "fid-chart.svg").read_text())
    ns = "{http://www.w3.org/2000/svg}"
    bars = [g.get("data-name") for g in root.iter(f"{ns}g") if g.get("class") == "bar"]
    assert sorted(bars) == generators
    text = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
    assert "baseline 0.1699" in text and "20.74" in text
    assert not any(el.tag.endswith(("script", "image", "foreignObject")) for el in root.iter())


def test_catalog_refuses_a_folder_that_is_not_a_catalog(tmp_path: Path, site: Path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CatalogError, match="not empty"):
        build_site(tmp_path, host=load_plugins())
    assert (tmp_path / "notes.txt").read_text() == "mine"
    again = tmp_path / "again"
    shutil.copytree(site, again)
    report = build_site(again, host=load_plugins(), pattern="dcgan*")  # a previous catalog is rewritten
    from zoo import list_models

    expected = sorted(list_models("dcgan.*", pretrained=True))
    assert len(expected) >= 2 and [p.entry.name for p in report.pages] == expected
    assert sorted(p.stem for p in (again / "models").glob("*.html")) == expected
    out = run("catalog", "-o", str(tmp_path / "cli-site"), "gan*")
    assert "wrote the catalog of" in out.output and (tmp_path / "cli-site" / "models" / "gan.mnist.html").is_file()


# -- an untrusted third-party card -----------------------------------------------------

EVIL_CARD = """\
---
license: mit
library_name: zoo
tags: [gan]
model-index:
- name: evil.toy
  results:
  - task: {type: unconditional-image-generation}
    dataset: {name: Toy, type: toy, split: test}
    metrics:
    - {type: fid, value: 12.0, name: "FID measured <b onmouseover=alert(1)>here</b>"}
  - task: {type: unconditional-image-generation}
    dataset: {name: Toy, type: toy, split: test}
    source: {name: A paper, url: "https://example.org/paper"}
    metrics:
    - {type: fid, value: 9.5, name: published FID}
---
# evil.toy <script>window.__pwned = 1</script>

<script>window.__pwned = 2</script>
<img src="x" onerror="window.__pwned = 3">
<iframe src="https://example.com/frame"></iframe>
<style>body { background: url(https://example.com/bg.png) }</style>

[click me](javascript:window.__pwned=4) [the paper](https://example.org/paper) [config](config.json)

![samples](samples.png)
![remote](https://example.com/tracker.png)
![escape](../../../../etc/passwd.png)
![not a picture](fake.png)
![inline](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==)
"""

EVIL_PLUGIN = """
import zoo

@zoo.hookimpl
def register_architectures(register):
    register(zoo.Architecture(name="evil", builder="evil_model:build", default_tag="toy", schema={},
                              paper="A <i>paper</i> https://example.org/paper", reference_code="javascript:alert(1)"))

    register(zoo.Architecture(name="evil-bare", builder="evil_model:build", default_tag="none",
                              schema={"width": zoo.Field("int", 4, help="<b>width</b>")}, paper="none",
                              reference_code="none", task="image-generation"))

@zoo.hookimpl
def register_weights(register):
    register(zoo.Weights(name="evil.toy", repo_id="evil-org/evil-toy", revision="1" * 40, sha256="2" * 64, size=1,
                         config={}, license="mit <script>", dataset="toy<script>", metrics={"fid": 12.0, "fid_real_baseline": 0.5}))
"""


@pytest.fixture
def evil_site(tmp_path: Path, fake_plugins, monkeypatch: pytest.MonkeyPatch) -> Path:
    from PIL import Image

    mirror = tmp_path / "mirror"
    folder = mirror / "evil-org" / "evil-toy"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(EVIL_CARD)
    Image.new("RGB", (64, 48), (200, 30, 30)).save(folder / "samples.png")
    (folder / "fake.png").write_text("<script>not a picture</script>")
    monkeypatch.setenv("ZOO_MIRRORS", f"{mirror}{os.pathsep}@cards")
    fake_plugins({"evil": EVIL_PLUGIN, "crashes": "raise RuntimeError('<script>window.__pwned = 5</script>')\n"})
    out = tmp_path / "site"
    report = build_site(out, host=load_plugins(), pattern="evil*")
    assert [p.entry.name for p in report.pages] == ["evil-bare", "evil.toy"]
    return out


def test_untrusted_card_is_escaped_and_cannot_fetch(evil_site: Path):
    html = (evil_site / "models" / "evil.toy.html").read_text()
    _assert_offline_refs(html, "evil.toy.html")
    _assert_offline_refs((evil_site / "index.html").read_text(), "index.html")
    assert "&lt;script&gt;window.__pwned = 2&lt;/script&gt;" in html
    assert "&lt;img src=&quot;x&quot; onerror" in html and "&lt;iframe" in html
    assert not any("javascript:" in v for _, a in _refs(html).tags for v in a.values())
    assert '<a href="https://example.org/paper" rel="noopener noreferrer nofollow">the paper</a>' in html
    assert '<span class="dead-link">config</span>' in html
    copied = sorted(str(p.relative_to(evil_site)) for p in (evil_site / "assets").rglob("*") if p.is_file())
    assert copied == ["assets/evil.toy/card/samples.png", "assets/evil.toy/thumb.png"]
    for dropped in ("https://example.com/tracker.png", "../../../../etc/passwd.png", "fake.png"):
        assert f"<code>{dropped}</code>" in html, dropped  # listed as not shown
    # a third-party plugin says so; the card's published number reaches the metrics table and the chart
    assert "from plugin evil" in html and "fake-zoo-plugins" in html
    assert '<td class="num">9.5</td>' in html and "FID measured &lt;b onmouseover" in html
    assert "published 9.5" in (evil_site / "fid-chart.svg").read_text()
    # an architecture without weights has a page with zoo.build and its schema; a broken plugin is listed
    bare = (evil_site / "models" / "evil-bare.html").read_text()
    assert "zoo.build(&quot;evil-bare&quot;)" in bare and "&lt;b&gt;width&lt;/b&gt;" in bare
    index = (evil_site / "index.html").read_text()
    assert '<span class="nopic">no weights</span>' in index
    assert "broken" in index and "&lt;script&gt;window.__pwned = 5&lt;/script&gt;" in index


# -- a real browser ----------------------------------------------------------------------


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="zoo-chromium-")
        child_in, self._w = os.pipe()
        self._r, child_out = os.pipe()
        # park the child's ends above 9 so that dup2 onto 3 and 4 cannot clobber them
        a, b = fcntl.fcntl(child_in, fcntl.F_DUPFD, 10), fcntl.fcntl(child_out, fcntl.F_DUPFD, 10)
        os.close(child_in)
        os.close(child_out)

        def onto_3_and_4() -> None:
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", f"--user-data-dir={self.profile}",
             # nothing can leave the machine even if a page tried (the tests check that none tries)
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=onto_3_and_4, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(a)
        os.close(b)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _message(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._r], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError("chromium did not answer over the DevTools pipe")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._message(timeout)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def open(self, url: str) -> "Tab":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tab = Tab(self, target, session)
        tab.send("Network.enable")
        tab.send("Page.enable")
        tab.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        tab.send("Page.navigate", {"url": url})
        tab.wait("document.readyState === 'complete' && location.href !== 'about:blank'")
        return tab

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError, EOFError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)


class Tab:
    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def eval(self, expression: str) -> Any:
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expression: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def requests(self) -> list[str]:
        """Every URL this tab asked for, from the page's own network events."""
        return [e["params"]["request"]["url"] for e in self.browser.events
                if e.get("sessionId") == self.session and e.get("method") == "Network.requestWillBeSent"]

    def blocked(self) -> dict[str, str]:
        """URL -> why the browser refused to send it (e.g. "csp"), for this tab."""
        ids = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in self.browser.events
               if e.get("sessionId") == self.session and e.get("method") == "Network.requestWillBeSent"}
        return {ids.get(e["params"]["requestId"], "?"): e["params"].get("blockedReason", "")
                for e in self.browser.events
                if e.get("sessionId") == self.session and e.get("method") == "Network.loadingFailed"
                and e["params"].get("blockedReason")}

    def visible(self) -> list[str]:
        return self.eval("Array.from(document.querySelectorAll('#models tbody tr'))"
                         ".filter(r => !r.hidden).map(r => r.dataset.name)")

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(_NO_CHROMIUM)
    b = Browser()
    try:
        b.send("Browser.getVersion", timeout=60)
        yield b
    finally:
        b.close()


def _shot(tab: Tab, name: str, tmp_path: Path) -> Path:
    """A full-page screenshot; also kept in $CATALOG_SHOTS when set, for people to look at."""
    path = tab.screenshot(tmp_path / name)
    keep = os.environ.get("CATALOG_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / name)
    return path


def _only_local(urls: list[str], allowed: tuple[str, ...] = ("file://",)) -> None:
    assert urls, "the page made no request at all (the check would be empty)"
    outside = [u for u in urls if not u.startswith(allowed)]
    assert not outside, f"requests leaving the site: {outside}"


@needs_chromium
def test_browser_index_lists_every_model_and_stays_offline(site: Path, browser: Browser, tmp_path: Path):
    names = catalog_names(load_plugins())
    tab = browser.open((site / "index.html").as_uri())
    try:
        assert tab.visible() == names
        assert tab.eval("document.getElementById('status').textContent") == f"Showing {len(names)} of {len(names)} models."
        states = tab.eval("Array.from(document.images).map(i => [i.getAttribute('src'), i.dataset.state, i.naturalWidth])")
        assert states and all(s == "loaded" and w > 0 for _, s, w in states), states
        assert any(src == "fid-chart.svg" for src, _, _ in states)
        _only_local(tab.requests())
        assert any(u.endswith("/catalog.js") for u in tab.requests())
        _shot(tab, "index.png", tmp_path)
    finally:
        tab.close()


def _python_view(sort: str | None, where: str | None, task: str | None = None) -> list[str]:
    host = load_plugins()
    ents = entries(host, catalog_names(host))
    if task:
        ents = [x for x in ents if x.task == task]
    return [x.name for x in Query.parse(ents, [where] if where else [], sort).apply(ents)]


@needs_chromium
@pytest.mark.parametrize("fragment, sort, where, task", [
    ("sort=fid", "fid", None, None),
    ("sort=-fid", "-fid", None, None),
    ("sort=accuracy&task=image-classification", "accuracy", None, "image-classification"),
    ("where=fid%3C20&sort=fid", "fid", "fid<20", None),
    ("where=dataset%3Dmnist%2C%20kid%3C2.2", None, "dataset=mnist, kid<2.2", None),
    ("where=name%3D*gan.*%20and%20fid_baseline%3C0.1&sort=dataset", "dataset", "name=*gan.* and fid_baseline<0.1", None),
])
def test_browser_sorts_and_filters_like_zoo_list(site: Path, browser: Browser, tmp_path: Path, fragment, sort, where, task):
    tab = browser.open((site / "index.html").as_uri() + "#" + fragment)
    try:
        expected = _python_view(sort, where, task)
        assert expected, "the case should keep some models"
        assert tab.visible() == expected
        assert tab.eval("document.getElementById('where-error').hidden") is True
        if fragment.startswith("where=fid"):
            _shot(tab, "index-fid-below-20.png", tmp_path)
    finally:
        tab.close()


@needs_chromium
def test_browser_controls_drive_the_url_and_report_bad_filters(site: Path, browser: Browser):
    tab = browser.open((site / "index.html").as_uri())
    try:
        tab.eval("(() => { const s = document.getElementById('f-task'); s.value = 'image-generation';"
                 " s.dispatchEvent(new Event('change')); })()")
        tab.wait("location.hash === '#task=image-generation'")
        tab.eval("(() => { const s = document.getElementById('f-sort'); s.value = 'fid';"
                 " s.dispatchEvent(new Event('change')); })()")
        tab.wait("location.hash === '#task=image-generation&sort=fid'")
        assert tab.visible() == _python_view("fid", None, "image-generation")
        tab.eval("(() => { const i = document.getElementById('f-where'); i.value = 'fid<15';"
                 " document.getElementById('controls').requestSubmit(); })()")
        tab.wait("location.hash.includes('where=')")
        assert tab.visible() == _python_view("fid", "fid<15", "image-generation")
        assert "where=fid%3C15" in tab.eval("location.hash")
        tab.eval("location.hash = 'where=fdi%3C15'")
        tab.wait("!document.getElementById('where-error').hidden")
        assert "'fdi' is neither a field" in tab.eval("document.getElementById('where-error').textContent")
        tab.eval("document.querySelector('#controls a.reset').click()")
        tab.wait("document.getElementById('where-error').hidden")
        assert tab.visible() == catalog_names(load_plugins())
        assert tab.eval("document.getElementById('f-task').value") == ""
        _only_local(tab.requests())
    finally:
        tab.close()


@needs_chromium
def test_browser_model_page_shows_card_and_picture(site: Path, browser: Browser, tmp_path: Path):
    from PIL import Image

    tab = browser.open((site / "models" / "dcgan.mnist.html").as_uri())
    try:
        assert tab.eval("document.querySelector('h1').textContent") == "dcgan.mnist"
        headings = tab.eval("Array.from(document.querySelectorAll('#card h2')).map(h => h.textContent)")
        assert {"Model description", "How to use", "Evaluation", "Limitations"} <= set(headings)
        hero = tab.eval("(() => { const i = document.querySelector('figure.hero img'); return [i.dataset.state, i.naturalWidth]; })()")
        assert hero == ["loaded", 548]
        assert "zoo.load(\"dcgan.mnist\")" in tab.eval("document.getElementById('snippet').textContent")
        assert tab.eval("document.getElementById('metrics').rows.length") == 3  # header, FID, KID
        _only_local(tab.requests())
        shot = Image.open(_shot(tab, "model-dcgan.mnist.png", tmp_path))
        assert shot.width >= 700 and len(shot.convert("L").getcolors(1 << 16) or []) > 20, "a blank page"
    finally:
        tab.close()


@needs_chromium
def test_browser_runs_no_script_from_a_card(evil_site: Path, browser: Browser, tmp_path: Path):
    tab = browser.open((evil_site / "models" / "evil.toy.html").as_uri())
    try:
        assert tab.eval("typeof window.__pwned") == "undefined"
        assert tab.eval("document.querySelectorAll('iframe, object, embed, #card script, #card img[onerror]').length") == 0
        assert tab.eval("document.querySelectorAll('#card img').length") == 1  # samples.png only
        tab.eval("Array.from(document.querySelectorAll('#card a')).forEach(a => { if (!a.href.startsWith('http')) a.click(); })")
        assert tab.eval("typeof window.__pwned") == "undefined"
        _only_local(tab.requests())
        _shot(tab, "model-untrusted-card.png", tmp_path)
    finally:
        tab.close()
    tab = browser.open((evil_site / "index.html").as_uri())
    try:
        assert tab.visible() == ["evil-bare", "evil.toy"]
        assert tab.eval("typeof window.__pwned") == "undefined"
        assert "window.__pwned = 5" in tab.eval("document.getElementById('plugins-table').textContent")
        _only_local(tab.requests())
    finally:
        tab.close()


@needs_chromium
def test_browser_csp_blocks_what_escaping_would_miss(tmp_path: Path, browser: Browser):
    """The pages' Content-Security-Policy alone stops an inline script and a remote picture
    (the detector is shown to work on the same page without the policy)."""
    from zoo.catalog.site import _page

    body = ('<p id="p">static</p><script>window.__ran = 1</script>'
            '<img id="remote" src="https://example.com/tracker.png" alt="">')
    shutil.copyfile(ROOT / "zoo/catalog/static/catalog.js", tmp_path / "catalog.js")
    (tmp_path / "style.css").write_text("")
    (tmp_path / "with.html").write_text(_page("t", body, ""))
    (tmp_path / "without.html").write_text(_page("t", body, "").replace("Content-Security-Policy", "X-None"))
    tab = browser.open((tmp_path / "with.html").as_uri())
    try:
        assert tab.eval("typeof window.__ran") == "undefined"
        tab.wait("document.getElementById('remote').dataset.state === 'missing'")
        assert tab.blocked() == {"https://example.com/tracker.png": "csp"}  # refused before it was sent
    finally:
        tab.close()
    tab = browser.open((tmp_path / "without.html").as_uri())
    try:
        assert tab.eval("window.__ran") == 1
        assert "https://example.com/tracker.png" in tab.requests() and not tab.blocked()
    finally:
        tab.close()


@needs_chromium
def test_serve_on_loopback(site: Path, browser: Browser, tmp_path: Path):
    opened = tmp_path / "opened.txt"
    fake_browser = tmp_path / "fake-browser"
    fake_browser.write_text(f"#!/bin/sh\nprintf %s \"$1\" > {opened}\n")
    fake_browser.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from zoo.cli import main; main()", "serve", "--port", "0", "--dir", str(site), "--open"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "BROWSER": str(fake_browser)},
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)index\.html", line)
        assert m, line + proc.stderr.read()
        base = m.group(1)
        deadline = time.monotonic() + 20
        while not (opened.exists() and opened.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == base + "index.html"  # --open handed the URL to the browser
        with urllib.request.urlopen(base + "models/dcgan.mnist.html", timeout=10) as r:
            assert r.status == 200 and "script-src 'self'" in r.headers["Content-Security-Policy"]
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + "assets/", timeout=10)  # no folder listings
        tab = browser.open(base + "index.html#sort=fid")
        try:
            assert tab.visible() == _python_view("fid", None)
            _only_local(tab.requests(), (base,))
        finally:
            tab.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_sample_missing_draws_a_picture_only_when_asked(tmp_path: Path, card_copy, monkeypatch: pytest.MonkeyPatch):
    """A generator whose card has no picture: the catalog says so, and with
    --sample-missing (which loads torch and the weights) draws one and says it did."""
    mirror, folder = card_copy("zoo/dcgan-mnist")
    card = folder / "README.md"
    card.write_text(card.read_text().replace("![samples](samples.png)", ""))
    (folder / "samples.png").unlink()
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    plain = build_site(tmp_path / "plain", host=load_plugins(), pattern="dcgan.mnist")
    assert plain.without_picture == ["dcgan.mnist"] and not plain.sampled
    assert 'id="no-picture"' in (tmp_path / "plain" / "models" / "dcgan.mnist.html").read_text()
    out = run("catalog", "-o", str(tmp_path / "drawn"), "dcgan.mnist", "--sample-missing")
    assert "sampled by the catalog" in out.output
    html = (tmp_path / "drawn" / "models" / "dcgan.mnist.html").read_text()
    assert '<code id="sampled">zoo.load(&quot;dcgan.mnist&quot;).sample(64, seed=0)</code>' in html
    from PIL import Image

    with Image.open(tmp_path / "drawn" / "assets" / "dcgan.mnist" / "catalog-samples.png") as im:
        assert im.width > 200 and len(im.convert("L").getcolors(1 << 16) or []) > 20
