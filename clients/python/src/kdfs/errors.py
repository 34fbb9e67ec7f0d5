"""Exceptions for the error codes of the kdfs HTTP API.

Every error answer of the API is JSON ``{"error": {"code": ..., "message": ...}}``
where ``code`` is a stable wire name from the server's one error table
(src/common/error_codes.h). Each wire name maps to one exception class here;
classes group by HTTP status (``Conflict`` for every 409, ``Unavailable`` for
503, ...) and, where Python has a matching built-in, also derive from it
(``NotFound`` is a ``FileNotFoundError``), so that code written for local files
(pandas, fsspec) reacts to them as it would to local errors.
"""

from __future__ import annotations

import json
from typing import Dict, Optional, Type


class KdfsError(Exception):
    """An error answer of the API, or a failure to reach it.

    ``status`` is the HTTP status (0 when no answer arrived), ``code`` the
    API's wire name (e.g. ``"not_found"``), ``message`` its explanation.
    """

    def __init__(self, message: str, *, status: int = 0, code: str = "", path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.path = path

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        code = f"{self.code}: " if self.code else ""
        return f"{code}{self.message}{where}"


class InvalidArgument(KdfsError, ValueError):
    """400: malformed input (a header, a query parameter, a JSON body)."""


class InvalidPath(InvalidArgument):
    """400: a path that is not absolute, has empty, ``.``/``..`` or over-long components."""


class NotFound(KdfsError, FileNotFoundError):
    """404: no such file or directory (or endpoint)."""


class MethodNotAllowed(KdfsError):
    """405."""


class LengthRequired(KdfsError):
    """411: an upload without Content-Length nor chunked encoding."""


class PayloadTooLarge(KdfsError):
    """413: a body over the node's configured maximum."""


class RangeNotSatisfiable(KdfsError):
    """416: a byte range that starts past the end of the file."""


class HeadersTooLarge(KdfsError):
    """431."""


class Conflict(KdfsError):
    """409: the request conflicts with the current namespace."""


class ParentNotDirectory(Conflict, NotADirectoryError):
    """409: a parent of the path is a file."""


class IsDirectory(Conflict, IsADirectoryError):
    """409: the path is a directory where a file was expected."""


class NotDirectory(Conflict, NotADirectoryError):
    """409: the path is a file where a directory was expected."""


class DirectoryNotEmpty(Conflict):
    """409: deleting a non-empty directory without ``recursive``."""


class AlreadyExists(Conflict, FileExistsError):
    """409: the target exists already."""


class InvalidRename(Conflict):
    """409: a rename into the source's own subtree, or of the root."""


class Superseded(Conflict):
    """409: a concurrent write with a later timestamp won."""


class PreconditionFailed(KdfsError):
    """412: ``If-Match`` did not match, or ``If-None-Match: *`` found a file."""


class ServerError(KdfsError):
    """5xx other than 503/507: a fault on the server."""


class Unavailable(ServerError):
    """503: no leader, no Kafka, or the node has not caught up in time. Retryable."""


class Timeout(Unavailable):
    """503 ``timeout``: the request's deadline passed on the server."""


class InsufficientStorage(ServerError):
    """507: the node's disk is full."""


class ConnectionFailed(Unavailable):
    """No HTTP answer at all: connection refused, reset or timed out."""


#: Wire name -> exception class (codes of src/common/error_codes.h).
BY_CODE: Dict[str, Type[KdfsError]] = {
    "invalid_argument": InvalidArgument,
    "invalid_path": InvalidPath,
    "not_found": NotFound,
    "method_not_allowed": MethodNotAllowed,
    "length_required": LengthRequired,
    "payload_too_large": PayloadTooLarge,
    "range_not_satisfiable": RangeNotSatisfiable,
    "headers_too_large": HeadersTooLarge,
    "parent_not_directory": ParentNotDirectory,
    "is_directory": IsDirectory,
    "not_directory": NotDirectory,
    "directory_not_empty": DirectoryNotEmpty,
    "already_exists": AlreadyExists,
    "invalid_rename": InvalidRename,
    "superseded": Superseded,
    "precondition_failed": PreconditionFailed,
    "internal": ServerError,
    "io_error": ServerError,
    "corruption": ServerError,
    "unavailable": Unavailable,
    "timeout": Timeout,
    "insufficient_storage": InsufficientStorage,
}

#: HTTP status -> class, for answers without a known wire name (a proxy's page).
BY_STATUS: Dict[int, Type[KdfsError]] = {
    400: InvalidArgument,
    404: NotFound,
    405: MethodNotAllowed,
    411: LengthRequired,
    413: PayloadTooLarge,
    416: RangeNotSatisfiable,
    431: HeadersTooLarge,
    409: Conflict,
    412: PreconditionFailed,
    503: Unavailable,
    507: InsufficientStorage,
}


def error_from_answer(status: int, body: bytes, path: str = "") -> KdfsError:
    """The exception for an error answer with HTTP `status` and `body`."""
    code, message = "", ""
    try:
        err = json.loads(body.decode("utf-8", "replace"))["error"]
        code, message = str(err.get("code", "")), str(err.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        message = body[:200].decode("utf-8", "replace").strip()
    cls: Optional[Type[KdfsError]] = BY_CODE.get(code)
    if cls is None:
        cls = BY_STATUS.get(status, ServerError if status >= 500 else KdfsError)
    return cls(message or f"HTTP {status}", status=status, code=code, path=path)
