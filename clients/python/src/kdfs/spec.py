"""kdfs.KdfsFileSystem: kdfs as an fsspec filesystem (``kdfs://host:port/path``).

Registered for the ``kdfs`` protocol through the ``fsspec.specs`` entry point,
so that pandas, Dask, PyArrow and anything else that opens paths with fsspec
read and write kdfs directly::

    pandas.read_csv("kdfs://127.0.0.1:8080/data/x.csv")

Reads are buffered and fetch byte ranges on demand (fsspec's block caches over
:meth:`Client.read_range`). Writes stream: each block written is handed to one
chunked PUT running in a helper thread, so memory stays within a few blocks
whatever the file's size; the file appears (atomically) when it is closed.
Leaving a ``with`` block by an exception aborts the upload: nothing is written.
Every instance for one URL shares one :class:`Client`, so a read through any
of them sees what any of them wrote (read-your-writes across pandas calls).
A URL without a host (``kdfs:///data/x``) uses ``$KDFS_URL`` or
``http://127.0.0.1:8080``.
"""

from __future__ import annotations

import os
import posixpath
import queue
import threading
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Union
from urllib.parse import urlsplit

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem
from fsspec.utils import stringify_path

from .client import Client
from .errors import KdfsError, NotDirectory, PreconditionFailed

DEFAULT_URL = "http://127.0.0.1:8080"
BLOCK_SIZE = 4 << 20


_clients: Dict[Any, Client] = {}
_clients_lock = threading.Lock()


def _shared_client(url: str, options: Dict[str, Any]) -> Client:
    """One Client per URL and options in this process, so that every
    filesystem instance for a cluster (fsspec makes one per distinct set of
    arguments: `fsspec.open(..., block_size=...)`, pandas' storage_options)
    carries the same version and reads what any of them wrote."""
    try:
        key: Any = (url, tuple(sorted(options.items())))
        hash(key)
    except TypeError:
        return Client(url, **options)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = Client(url, **options)
        return client


class KdfsFileSystem(AbstractFileSystem):
    """fsspec filesystem over one kdfs cluster.

    Give `host`/`port` (what a ``kdfs://host:port/...`` URL carries), a full
    `url`, or a ready `client`; `client_options` go to :class:`kdfs.Client`.
    """

    protocol = ("kdfs",)
    root_marker = "/"

    def __init__(
        self,
        host: Optional[str] = None,
        port: Optional[int] = None,
        *,
        url: Optional[str] = None,
        client: Optional[Client] = None,
        scheme: str = "http",
        block_size: int = BLOCK_SIZE,
        client_options: Optional[Dict[str, Any]] = None,
        **storage_options: Any,
    ) -> None:
        super().__init__(**storage_options)
        if client is None:
            if url is None:
                if host:
                    url = f"{scheme}://{host}" + (f":{port}" if port else "")
                else:
                    url = os.environ.get("KDFS_URL", DEFAULT_URL)
            client = _shared_client(url, client_options or {})
        self.client = client
        self.blocksize = block_size

    # --- paths ----------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = stringify_path(path)
        if path.startswith("kdfs://"):
            rest = path[len("kdfs://"):]
            slash = rest.find("/")
            path = rest[slash:] if slash >= 0 else "/"
        path = "/" + path.lstrip("/")
        return path.rstrip("/") or "/"

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> Dict[str, Any]:
        parts = urlsplit(stringify_path(path))
        if parts.scheme != "kdfs" or not parts.hostname:
            return {}
        return {"host": parts.hostname, "port": parts.port}

    def _join(self, directory: str, name: str) -> str:
        return posixpath.join(directory, name)

    # --- metadata ---------------------------------------------------------------

    @staticmethod
    def _info_from_stat(path: str, st: Dict[str, Any]) -> Dict[str, Any]:
        info = {
            "name": path,
            "size": st.get("size", 0),
            "type": st.get("type", "file"),
            "version": st.get("version"),
            "mtime": st.get("mtime"),
        }
        for key in ("etag", "content_type"):
            if key in st:
                info[key] = st[key]
        return info

    def info(self, path: str, **kwargs: Any) -> Dict[str, Any]:
        path = self._strip_protocol(path)
        return self._info_from_stat(path, self.client.stat(path))

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Union[List[str], List[Dict[str, Any]]]:
        path = self._strip_protocol(path)
        try:
            entries = [
                {
                    "name": self._join(path, e["name"]),
                    "size": e.get("size", 0),
                    "type": e["type"],
                    "version": e.get("version"),
                    "mtime": e.get("mtime"),
                }
                for e in self.client.iter_dir(path)
            ]
        except NotDirectory:
            entries = [self.info(path)]
        return entries if detail else [e["name"] for e in entries]

    def modified(self, path: str) -> datetime:
        return datetime.fromtimestamp(self.info(path)["mtime"] / 1000, tz=timezone.utc)

    created = modified  # kdfs keeps one time per entry

    def ukey(self, path: str) -> str:
        info = self.info(path)
        return str(info.get("etag") or info.get("version"))

    def checksum(self, path: str) -> int:
        return int(self.ukey(path)[:16], 16) if self.isfile(path) else hash(self.ukey(path))

    # --- directories ------------------------------------------------------------

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        if self.exists(path):
            raise FileExistsError(path)
        if not create_parents and not self.isdir(self._parent(path)):
            raise FileNotFoundError(self._parent(path))
        self.client.mkdir(path)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        path = self._strip_protocol(path)
        if not exist_ok and self.exists(path):
            raise FileExistsError(path)
        self.client.mkdir(path)

    def rmdir(self, path: str) -> None:
        path = self._strip_protocol(path)
        if not self.isdir(path):
            raise NotADirectoryError(path)
        self.client.rm(path)

    def _rm(self, path: str) -> None:
        self.client.rm(self._strip_protocol(path))

    def rm(self, path: Any, recursive: bool = False, maxdepth: Optional[int] = None) -> None:
        # One request per tree instead of one per file, when no glob is involved.
        if isinstance(path, str) and maxdepth is None and not any(c in path for c in "*?["):
            self.client.rm(self._strip_protocol(path), recursive=recursive)
            return
        super().rm(path, recursive=recursive, maxdepth=maxdepth)

    # --- whole-file operations -------------------------------------------------

    def mv(self, path1: Any, path2: Any, recursive: bool = False, maxdepth: Optional[int] = None,
           **kwargs: Any) -> None:
        """Renames atomically on the cluster (into `path2` if it is a directory)."""
        if not (isinstance(path1, str) and isinstance(path2, str)) or maxdepth is not None:
            super().mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)
            return None
        src, dst = self._strip_protocol(path1), self._strip_protocol(path2)
        if src != dst and self.isdir(dst):
            dst = self._join(dst, posixpath.basename(src))
        self.client.mv(src, dst)
        return None

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        src, dst = self._strip_protocol(path1), self._strip_protocol(path2)
        st = self.client.stat(src)
        if st.get("type") == "directory":
            self.makedirs(dst, exist_ok=True)
            return
        self.client.put(dst, self.client.stream(src), content_type=st.get("content_type"))

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None,
                 **kwargs: Any) -> bytes:
        path = self._strip_protocol(path)
        if start is None and end is None:
            return self.client.get(path)
        if (start is not None and start < 0) or (end is not None and end < 0) or end is None:
            size = self.info(path)["size"]
            start = size + start if start is not None and start < 0 else (start or 0)
            end = size if end is None else (size + end if end < 0 else end)
        start = max(start or 0, 0)
        return self.client.read_range(path, start, end - start) if end > start else b""

    def _put(self, path: str, data: Any, mode: str = "overwrite") -> Dict[str, Any]:
        """PUT; mode "create" fails with FileExistsError if `path` exists."""
        try:
            return self.client.put(path, data, if_none_match=(mode == "create"))
        except PreconditionFailed as e:
            raise FileExistsError(path) from e

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        self._put(self._strip_protocol(path), value, mode)

    def put_file(self, lpath: str, rpath: str, callback: Any = None, mode: str = "overwrite",
                 **kwargs: Any) -> None:
        rpath = self._strip_protocol(rpath)
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        size = os.path.getsize(lpath)
        with open(lpath, "rb") as f:
            self._put(rpath, f, mode)
        if callback is not None:
            callback.set_size(size)
            callback.relative_update(size)

    def get_file(self, rpath: str, lpath: str, callback: Any = None, outfile: Any = None,
                 **kwargs: Any) -> None:
        rpath = self._strip_protocol(rpath)
        if self.isdir(rpath):
            os.makedirs(lpath, exist_ok=True)
            return
        if outfile is not None:
            n = self.client.download(rpath, outfile)
        elif hasattr(lpath, "write"):
            n = self.client.download(rpath, lpath)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
            n = self.client.download(rpath, lpath)
        if callback is not None:
            callback.set_size(n)
            callback.relative_update(n)

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        if truncate or not self.exists(path):
            self.client.put(path, b"")

    def _open(self, path: str, mode: str = "rb", block_size: Optional[int] = None,
              autocommit: bool = True, cache_options: Optional[Dict[str, Any]] = None,
              **kwargs: Any) -> "KdfsFile":
        return KdfsFile(self, self._strip_protocol(path), mode, block_size or self.blocksize,
                        autocommit=autocommit, cache_options=cache_options, **kwargs)


class _Aborted(Exception):
    pass


class KdfsFile(AbstractBufferedFile):
    """A kdfs file opened through fsspec: ranged reads, or one streamed PUT."""

    def __init__(self, fs: KdfsFileSystem, path: str, mode: str = "rb", block_size: int = BLOCK_SIZE,
                 **kwargs: Any) -> None:
        if mode == "ab":
            raise NotImplementedError("kdfs files are written whole; append is not supported")
        if mode == "xb" and fs.exists(path):  # checked again by the PUT itself
            raise FileExistsError(path)
        self._queue: "queue.Queue[Optional[bytes]]" = queue.Queue(maxsize=2)
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[BaseException] = None
        self._aborted = False
        self.result: Optional[Dict[str, Any]] = None
        super().__init__(fs, path, mode, block_size, **kwargs)

    # Reading: fsspec's cache asks for the ranges it needs. The ETag of the
    # version opened guards against mixing two versions of the file.
    def _fetch_range(self, start: int, end: int) -> bytes:
        client: Client = self.fs.client
        return client.read_range(self.path, start, end - start, etag=self.details.get("etag"))

    # Writing: blocks go through a small queue to a thread running one PUT.
    def _initiate_upload(self) -> None:
        self._thread = threading.Thread(target=self._run_upload, name=f"kdfs-put {self.path}",
                                        daemon=True)
        self._thread.start()

    def _pieces(self) -> Iterator[bytes]:
        while True:
            piece = self._queue.get()
            if piece is None:
                if self._aborted:
                    raise _Aborted()
                return
            yield piece

    def _run_upload(self) -> None:
        try:
            self.result = self.fs._put(self.path, self._pieces(),
                                       "create" if self.mode == "xb" else "overwrite")
        except BaseException as e:  # reported to the writer
            self._error = e

    def _hand_over(self, item: Optional[bytes]) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                if self._thread is None or not self._thread.is_alive():
                    self._raise_upload_error()

    def _raise_upload_error(self) -> None:
        if isinstance(self._error, (KdfsError, FileExistsError)):
            raise self._error
        raise OSError(f"upload of {self.path} failed: {self._error!r}")

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        if data:
            self._hand_over(data)
        if final:
            self._hand_over(None)
            assert self._thread is not None
            self._thread.join()
            if self._error is not None:
                self._raise_upload_error()
        return True

    def discard(self) -> None:
        """Aborts the upload: the connection drops and nothing is written."""
        if self._thread is None:
            return
        self._aborted = True
        self._hand_over(None)
        self._thread.join()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        closed: bool = getattr(self, "closed")
        if exc_type is not None and self.writable() and not closed:
            self.discard()
            self.closed = True
            return
        self.close()
