"""RangeReader: a seekable raw file over HTTP range requests."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Dict

from .errors import IsDirectory

if TYPE_CHECKING:
    from .client import Client


class RangeReader(io.RawIOBase):
    """Reads one version of a kdfs file (the one `info` describes) by ranges.

    Every read is one ranged GET of exactly the bytes asked for; a file that
    was replaced since `info` raises PreconditionFailed rather than mixing two
    versions. Wrap it in io.BufferedReader for small reads (Client.open does).
    """

    def __init__(self, client: "Client", path: str, info: Dict[str, Any]) -> None:
        super().__init__()
        if info.get("type") == "directory":
            raise IsDirectory(f"{path} is a directory", status=409, code="is_directory", path=path)
        self._client = client
        self.name = path
        self.size = int(info["size"])
        self.etag = str(info.get("etag", ""))
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self.size - self._pos)
        if want <= 0:
            return 0
        data = self._client.read_range(self.name, self._pos, want, etag=self.etag)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        """The rest of the file in one request (not in 8 KiB steps)."""
        data = self._client.read_range(self.name, self._pos, self.size - self._pos, etag=self.etag)
        self._pos += len(data)
        return data
