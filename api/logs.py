"""Structured logs: one JSON object per line, request id included where there is one.

Records are formatted and written by a listener thread: the event loop only enqueues
them, so a slow stderr (a full pipe to a log shipper) never stalls requests.
"""

from __future__ import annotations

import atexit
import logging
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from queue import SimpleQueue

import msgspec

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_ENCODER = msgspec.json.Encoder(enc_hook=str)
_listener: QueueListener | None = None


class JsonFormatter(logging.Formatter):
    """Formats a record and its `extra=` fields as JSON (never the arguments' secrets:
    callers pass ids and statuses, not tokens or bodies)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **{k: v for k, v in record.__dict__.items() if k not in _STANDARD},
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry).decode()


class _Enqueue(QueueHandler):
    """Hands the record over as it is (same process: nothing to pre-format or pickle)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def _stop() -> None:
    """Write what is queued and end the thread (at exit, or before reconfiguring)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


def configure(level: str) -> None:
    """Route every logger of this process through one JSON handler on stderr."""
    global _listener
    _stop()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
    root = logging.getLogger()
    root.handlers[:] = [_Enqueue(queue)]
    root.setLevel(level)
    _listener = QueueListener(queue, handler)
    _listener.start()


atexit.register(_stop)
