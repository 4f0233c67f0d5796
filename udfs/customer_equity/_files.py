"""Atomic writes: every file the product writes goes to a temporary file beside the target
and is renamed over it only when complete, so a failed or interrupted write never leaves a
half-written file or destroys the one that was there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import CustomerEquityError


def check_writable(path: str | os.PathLike) -> Path:
    """Refuse, before any work is done, a destination that cannot or must not be written.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> check_writable(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    customer_equity.errors.CustomerEquityError: ...: cannot write: this is a folder; name a file inside it
    """
    path = Path(path)
    if path.is_dir():
        raise CustomerEquityError(str(path), "cannot write: this is a folder; name a file inside it")
    if not path.parent.is_dir():
        raise CustomerEquityError(str(path), "cannot write: the folder does not exist")
    # the mode bits too: os.access says yes to root (and CI often runs as root)
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise CustomerEquityError(str(path), "cannot write: the file is read-only")
    if not os.access(path.parent, os.W_OK):
        raise CustomerEquityError(str(path), "cannot write: the folder is read-only")
    try:  # the one sure test: a file the folder takes (os.access says yes to root, and /proc)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".customer-equity-", suffix=".probe")
    except OSError as err:
        raise CustomerEquityError(str(path), "cannot write: the folder takes no new file "
                                  f"({err.strerror or err})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed to ``path`` on success, deleted otherwise.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = check_writable(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:  # name the file asked for, never the temporary one
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OSError(err.errno, err.strerror or str(err), str(path)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
