"""A minimal Hub-compatible server on the loopback, for what olah cannot do.

It speaks just enough of the Hugging Face Hub's HTTP API for huggingface_hub:

- downloads: ``HEAD``/``GET /{org}/{name}/resolve/{revision}/{path}`` with the
  headers hf_hub_download needs (X-Repo-Commit, ETag, Content-Length), ranges;
- uploads: ``POST /api/repos/create``, ``POST /api/validate-yaml``, ``POST /api/models/{repo}/preupload/{rev}``
  (every file "regular", so contents travel inline) and
  ``POST /api/models/{repo}/commit/{rev}`` (the NDJSON commit payload).

Faults, per file, to test the zoo's answers: ``"partial"`` sends part of the
body and then the server goes down (every later connection is dropped, until
``fault`` is cleared); ``"wrong"`` serves other bytes of the same length.
Hostile ones (issue 22): ``"stall"`` sends ``stall_after`` bytes (default half)
and then nothing, holding the connection open; ``"flood"`` states the true size
on HEAD but streams ``flood_bytes`` (no Content-Length) on GET; ``"huge"`` states
``huge_size`` bytes and would stream that many. ``sent`` counts the body bytes
written per path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Repo:
    files: dict[str, bytes] = field(default_factory=dict)  # at the head commit
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> files
    head: str | None = None
    private: bool = False


class FakeHub:
    def __init__(self, token: str | None = None):
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.fault: dict[str, str] = {}  # filename -> "partial" | "wrong" | "stall" | "flood" | "huge"
        self.down = False
        self.requests: list[tuple[str, str]] = []
        self.stall_after: int | None = None
        self.flood_bytes = 300 << 20
        self.huge_size = 400 << 20
        self.sent: dict[str, int] = {}
        self.released = threading.Event()  # ends every stall (set on close)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def handle_one_request(self):
                if hub.down:  # the server is gone: drop the connection unanswered
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                super().handle_one_request()

            def do_HEAD(self):
                hub.requests.append(("HEAD", self.path))
                self._resolve(body=False)

            def do_GET(self):
                hub.requests.append(("GET", self.path))
                self._resolve(body=True)

            def do_POST(self):
                hub.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if hub.token is not None and self.headers.get("Authorization") != f"Bearer {hub.token}":
                    return self._json(401, {"error": "Invalid credentials in Authorization header"})
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:2] == ["api", "validate-yaml"]:  # the card's metadata: the zoo checked it already
                    return self._json(200, {"errors": [], "warnings": []})
                if parts[:3] == ["api", "repos", "create"]:
                    body = json.loads(data or b"{}")
                    repo_id = f"{body.get('organization')}/{body['name']}"
                    if repo_id in hub.repos:
                        return self._json(409, {"error": "You already created this model repo", "url": self._url(repo_id)})
                    hub.repos[repo_id] = Repo(private=body.get("visibility") == "private")
                    return self._json(200, {"url": self._url(repo_id)})
                if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] in ("preupload", "commit"):
                    repo_id = f"{parts[2]}/{parts[3]}"
                    repo = hub.repos.get(repo_id)
                    if repo is None:
                        return self._json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
                    if parts[4] == "preupload":
                        files = json.loads(data)["files"]
                        return self._json(200, {"files": [
                            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                            for f in files]})
                    return self._commit(repo_id, repo, data)
                return self._json(404, {"error": "not found"})

            # -- helpers -------------------------------------------------
            def _url(self, repo_id: str) -> str:
                return f"{hub.endpoint}/{repo_id}"

            def _json(self, status: int, obj, headers=None):
                raw = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _commit(self, repo_id: str, repo: Repo, data: bytes):
                files = dict(repo.files)
                summary = ""
                for line in data.splitlines():
                    if not line.strip():
                        continue
                    item = json.loads(line)
                    if item["key"] == "header":
                        summary = item["value"].get("summary", "")
                    elif item["key"] == "file":
                        files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] == "deletedFile":
                        files.pop(item["value"]["path"], None)
                    else:
                        return self._json(400, {"error": f"unsupported operation {item['key']}"})
                h = hashlib.sha1(summary.encode() + (repo.head or "").encode())
                for path in sorted(files):
                    h.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
                sha = h.hexdigest()
                repo.files, repo.head = files, sha
                repo.commits[sha] = files
                self._json(200, {"commitOid": sha, "commitUrl": f"{self._url(repo_id)}/commit/{sha}",
                                 "pullRequestUrl": None})

            def _resolve(self, body: bool):
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) < 5 or parts[2] != "resolve":
                    return self._json(404, {"error": "not found"}, {"X-Error-Code": "EntryNotFound"})
                repo_id, revision, path = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
                repo = hub.repos.get(repo_id)
                if repo is None:
                    return self._json(401, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
                sha = repo.head if revision == "main" else revision
                files = repo.commits.get(sha or "")
                if files is None:
                    return self._json(404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"})
                if path not in files:
                    return self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
                content = files[path]
                fault = hub.fault.get(path)
                if fault == "wrong":
                    content = bytes(b ^ 0x5A for b in content)
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and body:
                    start = int(rng[len("bytes="):].split("-")[0] or 0)
                etag = hashlib.sha256(files[path]).hexdigest()  # the true file's, as the Hub would say
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", sha)
                self.send_header("ETag", f'"{etag}"')
                if fault == "flood" and body:  # no length: the body ends when the connection does
                    self.send_header("Connection", "close")
                    self.close_connection = True
                elif fault == "huge":
                    self.send_header("Content-Length", str(hub.huge_size))
                else:
                    self.send_header("Content-Length", str(len(content) - start))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if not body:
                    return
                if fault in ("flood", "huge"):
                    total = hub.flood_bytes if fault == "flood" else hub.huge_size
                    block = (content * (65536 // max(1, len(content)) + 1))[:65536]
                    hub.sent[path] = 0
                    try:
                        while hub.sent[path] < total:
                            n = min(len(block), total - hub.sent[path])
                            self.wfile.write(block[:n])
                            hub.sent[path] += n
                    except OSError:  # the client hung up
                        pass
                    self.close_connection = True
                    return
                if fault == "stall":
                    part = content[start: start + (hub.stall_after if hub.stall_after is not None
                                                   else max(1, (len(content) - start) // 2))]
                    self.wfile.write(part)
                    self.wfile.flush()
                    hub.sent[path] = len(part)
                    hub.released.wait(120)  # then nothing: the connection stays open
                    self.close_connection = True
                    return
                if fault == "partial":
                    self.wfile.write(content[start: start + max(1, (len(content) - start) // 2)])
                    self.wfile.flush()
                    hub.down = True  # the Hub goes down mid-download
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.wfile.write(content[start:])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def add_folder(self, repo_id: str, folder: Path, revision: str) -> None:
        """Serve ``folder``'s files as ``repo_id`` at commit ``revision`` (and main)."""
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        repo = self.repos.setdefault(repo_id, Repo())
        repo.commits[revision] = files
        repo.files, repo.head = files, revision

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeHub:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
