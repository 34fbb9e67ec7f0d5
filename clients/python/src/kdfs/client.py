"""kdfs.Client: the HTTP API v1 of a kdfs cluster from Python.

One client talks to one URL, normally the cluster's gateway. It

* streams both ways: uploads read file objects or iterators piece by piece,
  downloads are iterators of pieces, so no call holds a whole file in memory
  unless asked for bytes (:meth:`Client.get`);
* gives read-your-writes through any node: it remembers the highest
  ``X-Kdfs-Version`` it has seen and sends it as ``X-Kdfs-Min-Version`` on
  reads, so a read waits until the answering node has applied this client's
  writes (the CLI does the same);
* retries what is safe to retry (a 503 or a lost connection): reads always,
  writes under one ``Idempotency-Key`` per call, which the cluster uses to
  answer a retry with the first outcome instead of writing twice. An upload
  from a non-seekable stream is not retried once its bytes are gone;
* raises one exception class per API error code (see :mod:`kdfs.errors`).

A Client may be shared by threads: requests' Session is, and the version it
tracks is guarded by a lock.
"""

from __future__ import annotations

import io
import os
import threading
import time
import uuid
from typing import IO, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Union, cast
from urllib.parse import quote

import requests

from .errors import (
    ConnectionFailed,
    KdfsError,
    NotFound,
    PreconditionFailed,
    RangeNotSatisfiable,
    Unavailable,
    error_from_answer,
)

#: Size of the pieces uploads are read in and downloads are yielded in.
CHUNK_SIZE = 1 << 20

Body = Union[bytes, bytearray, memoryview, IO[bytes], Iterable[bytes]]
Json = Dict[str, Any]


def _encode_path(path: str) -> str:
    """'/a b/c' -> '/a%20b/c'; the path must be absolute."""
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/")
    return quote(path, safe="/")


def _json(response: requests.Response) -> Json:
    body: Json = response.json()
    return body


def _new_key() -> str:
    return "py-" + uuid.uuid4().hex


def _file_chunks(f: IO[bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while True:
        piece = f.read(size)
        if not piece:
            return
        yield piece


class _Upload:
    """A PUT body: what requests gets to send and how to start it over.

    A seekable file object goes to requests as it is (requests sends its
    remaining length as Content-Length and reads it in blocks); anything else
    that reads, and any iterable, is sent chunked from a generator.
    """

    def __init__(self, data: Body) -> None:
        self._start: Optional[int] = None
        self.retryable = True
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.body: Any = bytes(data) if isinstance(data, memoryview) else data
        elif hasattr(data, "read"):
            f = cast(IO[bytes], data)
            self.body = f
            try:
                self._start = f.tell()
            except (OSError, ValueError, AttributeError):
                self.body = _file_chunks(f)
                self.retryable = False
        else:
            self.body = iter(data)
            self.retryable = False

    def rewind(self) -> bool:
        """Starts the body over for a retry; False if it cannot be."""
        if not self.retryable:
            return False
        if self._start is not None:
            self.body.seek(self._start)
        return True


class Client:
    """A connection to a kdfs cluster at `url` (e.g. ``http://127.0.0.1:8080``).

    `timeout` bounds each HTTP exchange (connect, and each wait for bytes);
    `retries` is how often a retryable failure is retried, with backoff;
    `consistency="strong"` makes every read linearizable (``X-Kdfs-Consistency``).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        consistency: Optional[str] = None,
        session: Optional[requests.Session] = None,
    ) -> None:
        if "://" not in url:
            url = "http://" + url
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.consistency = consistency
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self._version = -1

    # --- plumbing -----------------------------------------------------------

    @property
    def version(self) -> int:
        """The highest cluster version this client has seen (-1: none yet)."""
        with self._lock:
            return self._version

    def _track(self, response: requests.Response) -> None:
        v = response.headers.get("X-Kdfs-Version")
        if v is None:
            return
        try:
            seen = int(v)
        except ValueError:
            return
        with self._lock:
            self._version = max(self._version, seen)

    def _read_headers(self) -> Dict[str, str]:
        h: Dict[str, str] = {}
        v = self.version
        if v >= 0:
            h["X-Kdfs-Min-Version"] = str(v)
        if self.consistency:
            h["X-Kdfs-Consistency"] = self.consistency
        return h

    def _backoff(self, attempt: int, retry_after: Optional[str]) -> float:
        delay: float = min(0.2 * (2**attempt), 3.0)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 10.0))
        return delay

    def _request(
        self,
        method: str,
        target: str,
        *,
        path: str = "",
        headers: Optional[Mapping[str, str]] = None,
        params: Optional[Mapping[str, str]] = None,
        upload: Optional[_Upload] = None,
        json_body: Optional[Json] = None,
        read: bool = False,
        stream: bool = False,
    ) -> requests.Response:
        """One request with retries; returns a response with status < 400.

        Reads carry the tracked version; every call that reaches here is safe
        to retry (writes carry an Idempotency-Key chosen by the caller).
        """
        attempt = 0
        while True:
            h = dict(headers or {})
            if read:
                h.update(self._read_headers())
            retry_after: Optional[str] = None
            try:
                r = self._session.request(
                    method,
                    self.url + target,
                    headers=h,
                    params=params,
                    data=upload.body if upload is not None else None,
                    json=json_body,
                    timeout=self.timeout,
                    stream=stream,
                )
            except (requests.ConnectionError, requests.Timeout) as e:
                error: KdfsError = ConnectionFailed(f"{method} {self.url}{target}: {e}", path=path)
            else:
                self._track(r)
                if r.status_code < 400:
                    return r
                retry_after = r.headers.get("Retry-After")
                error = error_from_answer(r.status_code, r.content, path)
                r.close()
            can_retry = isinstance(error, Unavailable) and attempt < self.retries
            if can_retry and upload is not None:
                can_retry = upload.rewind()
            if not can_retry:
                raise error
            time.sleep(self._backoff(attempt, retry_after))
            attempt += 1

    # --- writes -------------------------------------------------------------

    def put(
        self,
        path: str,
        data: Body,
        *,
        content_type: Optional[str] = None,
        if_match: Optional[str] = None,
        if_none_match: bool = False,
        idempotency_key: Optional[str] = None,
    ) -> Json:
        """Writes `data` to `path` (parents are created) and returns
        ``{path, version, size, etag}``.

        `data` is bytes, a binary file object (read from its position to its
        end, piece by piece) or an iterable of bytes (sent chunked). A seekable
        source is retried after a 503 or a lost connection; an iterator is not.
        `if_match` writes only over that ETag; `if_none_match` only if `path`
        does not exist (both raise PreconditionFailed otherwise).
        """
        headers = {"Idempotency-Key": idempotency_key or _new_key()}
        if content_type:
            headers["Content-Type"] = content_type
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        if if_none_match:
            headers["If-None-Match"] = "*"
        upload = _Upload(data)
        r = self._request("PUT", "/v1/files" + _encode_path(path), path=path, headers=headers,
                          upload=upload)
        return _json(r)

    def upload(self, local_path: Union[str, "os.PathLike[str]"], path: str, **kwargs: Any) -> Json:
        """Streams the local file `local_path` to `path`; see :meth:`put`."""
        with open(local_path, "rb") as f:
            return self.put(path, f, **kwargs)

    def mkdir(self, path: str) -> Json:
        """Creates directory `path` and its parents; fine if it exists already."""
        r = self._request("POST", "/v1/mkdir" + _encode_path(path), path=path,
                          headers={"Idempotency-Key": _new_key()})
        return _json(r)

    def rm(self, path: str, *, recursive: bool = False) -> None:
        """Deletes a file or an empty directory (any directory if `recursive`)."""
        params = {"recursive": "true"} if recursive else None
        self._request("DELETE", "/v1/files" + _encode_path(path), path=path, params=params,
                      headers={"Idempotency-Key": _new_key()}).close()

    def mv(self, source: str, dest: str) -> Json:
        """Renames a file or a directory atomically."""
        r = self._request("POST", "/v1/rename", path=source,
                          headers={"Idempotency-Key": _new_key()},
                          json_body={"from": source, "to": dest})
        return _json(r)

    # --- reads --------------------------------------------------------------

    def stat(self, path: str) -> Json:
        """Metadata of `path`: type, size, version, mtime, etag, content_type, ..."""
        return _json(self._request("GET", "/v1/stat" + _encode_path(path), path=path, read=True))

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
            return True
        except NotFound:
            return False

    def list_page(self, path: str, *, after: Optional[str] = None, limit: int = 1000) -> Json:
        """One page of directory `path`: ``{entries: [...], next}`` in name order;
        pass ``next`` as `after` for the following page (None: no more)."""
        params = {"limit": str(limit)}
        if after is not None:
            params["after"] = after
        r = self._request("GET", "/v1/list" + _encode_path(path), path=path, params=params,
                          read=True)
        return _json(r)

    def iter_dir(self, path: str, *, page_size: int = 1000) -> Iterator[Json]:
        """Every entry of directory `path` ({name, type, size, version, mtime}),
        fetched a page at a time."""
        after: Optional[str] = None
        while True:
            page = self.list_page(path, after=after, limit=page_size)
            yield from page["entries"]
            after = page.get("next")
            if not after:
                return

    def ls(self, path: str, *, page_size: int = 1000) -> List[Json]:
        """All entries of directory `path` (every page), in name order."""
        return list(self.iter_dir(path, page_size=page_size))

    def cluster(self) -> Json:
        """The cluster as the answering node sees it: leader, nodes, versions, lag."""
        return _json(self._request("GET", "/v1/cluster", read=False))

    def _get(self, path: str, offset: int, length: Optional[int]) -> requests.Response:
        headers: Dict[str, str] = {}
        if length is not None:
            headers["Range"] = f"bytes={offset}-{offset + length - 1}"
        elif offset > 0:
            headers["Range"] = f"bytes={offset}-"
        return self._request("GET", "/v1/files" + _encode_path(path), path=path,
                             headers=headers, read=True, stream=True)

    def stream(self, path: str, *, offset: int = 0, length: Optional[int] = None,
               chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes of `path` (from `offset`, `length` of them or to the end)
        as pieces of at most `chunk_size`, read with one streamed GET."""
        if length == 0:
            return
        r = self._get(path, offset, length)
        with r:
            try:
                yield from r.iter_content(chunk_size=chunk_size)
            except requests.RequestException as e:
                raise ConnectionFailed(f"download of {path} interrupted: {e}", path=path) from e

    def get(self, path: str, *, offset: int = 0, length: Optional[int] = None) -> bytes:
        """The bytes of `path` (or of the range given) in memory."""
        return b"".join(self.stream(path, offset=offset, length=length))

    def download(self, path: str, dest: Union[str, "os.PathLike[str]", IO[bytes]]) -> int:
        """Streams `path` into a local file name or a binary file object;
        returns the number of bytes written."""
        if isinstance(dest, (str, os.PathLike)):
            with open(dest, "wb") as f:
                return self.download(path, f)
        n = 0
        for piece in self.stream(path):
            dest.write(piece)
            n += len(piece)
        return n

    def read_range(self, path: str, offset: int, length: int,
                   etag: Optional[str] = None) -> bytes:
        """Bytes [offset, offset + length) of `path`; fewer at the end of the
        file. With `etag`, PreconditionFailed if the file is no longer that one."""
        if length <= 0:
            return b""
        changed = PreconditionFailed(f"{path} changed while it was read", status=412,
                                     code="precondition_failed", path=path)
        try:
            r = self._get(path, offset, length)
        except RangeNotSatisfiable:
            if etag is not None:  # the range lay inside the version being read
                raise changed from None
            raise
        with r:
            if etag is not None and r.headers.get("ETag", "").strip('"') != etag:
                raise changed
            data = r.content
        if r.status_code == 200:  # the server ignored the range
            data = data[offset:offset + length]
        return data

    def open(self, path: str, mode: str = "rb", *, block_size: int = CHUNK_SIZE) -> io.BufferedReader:
        """A seekable, buffered binary file for reading `path` by ranges: each
        read fetches only the bytes it needs (at least `block_size`). Reads
        fail with PreconditionFailed if the file is replaced meanwhile."""
        if mode not in ("r", "rb"):
            raise ValueError("Client.open reads only; use put() or KdfsFileSystem to write")
        from .reader import RangeReader

        info = self.stat(path)
        return io.BufferedReader(RangeReader(self, path, info), buffer_size=block_size)
