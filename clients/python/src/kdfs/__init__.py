"""Python client for kdfs: :class:`Client` for the HTTP API v1 and
:class:`KdfsFileSystem`, an fsspec filesystem for ``kdfs://`` URLs."""

from .client import Client
from .errors import (
    AlreadyExists,
    Conflict,
    ConnectionFailed,
    DirectoryNotEmpty,
    HeadersTooLarge,
    InsufficientStorage,
    InvalidArgument,
    InvalidPath,
    InvalidRename,
    IsDirectory,
    KdfsError,
    LengthRequired,
    MethodNotAllowed,
    NotDirectory,
    NotFound,
    ParentNotDirectory,
    PayloadTooLarge,
    PreconditionFailed,
    RangeNotSatisfiable,
    ServerError,
    Superseded,
    Timeout,
    Unavailable,
)

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # fsspec is imported only when the filesystem is used.
    if name in ("KdfsFileSystem", "KdfsFile"):
        from . import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'kdfs' has no attribute {name!r}")


__all__ = [
    "AlreadyExists",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "DirectoryNotEmpty",
    "HeadersTooLarge",
    "InsufficientStorage",
    "InvalidArgument",
    "InvalidPath",
    "InvalidRename",
    "IsDirectory",
    "KdfsError",
    "KdfsFile",
    "KdfsFileSystem",
    "LengthRequired",
    "MethodNotAllowed",
    "NotDirectory",
    "NotFound",
    "ParentNotDirectory",
    "PayloadTooLarge",
    "PreconditionFailed",
    "RangeNotSatisfiable",
    "ServerError",
    "Superseded",
    "Timeout",
    "Unavailable",
]
