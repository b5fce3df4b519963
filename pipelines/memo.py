"""Figures built once per content.

The dashboard's chart functions (pipelines.charts) are pure functions of small frames, and the
frames come from cached queries: a rerun (a page switch, a filter change, the same view in another
session) asks for the same figure again. Building one through Plotly's validating objects costs
20-40 ms of the server's script run (about half of a scores page's run); the same content gives
the same figure, so it is built once and kept (least recently used first out).

The key is the content, not the object: a frame counts by its schema and its rows (hashed from its
Arrow IPC bytes), anything else by its type and ``repr``. A figure handed out may be handed out
again: callers must not change it (Streamlit only reads it).
"""

from __future__ import annotations

import functools
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import polars as pl

__all__ = ["by_content", "content_key"]

F = TypeVar("F", bound=Callable)
MAX_ENTRIES = 256


def content_key(value: object) -> object:
    """A hashable key equal for equal content (a frame's schema and rows; a container's items)."""
    if isinstance(value, pl.DataFrame):
        buf = io.BytesIO()
        value.write_ipc(buf, compression="uncompressed")
        return "frame", repr(value.schema), hashlib.blake2b(buf.getvalue(), digest_size=20).digest()
    if isinstance(value, dict):
        return "dict", tuple((content_key(k), content_key(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value).__name__, tuple(content_key(v) for v in value)
    return type(value).__name__, repr(value)


def by_content(fn: F) -> F:
    """Memoise ``fn`` on the content of its arguments (at most MAX_ENTRIES results, per process)."""
    store: OrderedDict[object, object] = OrderedDict()
    lock = threading.Lock()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        key = (tuple(content_key(a) for a in args), tuple(sorted((k, content_key(v)) for k, v in kwargs.items())))
        with lock:
            if key in store:
                store.move_to_end(key)
                return store[key]
        out = fn(*args, **kwargs)  # outside the lock: another session's figure need not wait
        with lock:
            store[key] = out
            while len(store) > MAX_ENTRIES:
                store.popitem(last=False)
        return out

    wrapper.cache_clear = store.clear  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
