"""The benchmark log's lines: Apache ``combined`` format, vectorised, with a few broken the ways real logs break."""

from __future__ import annotations

import datetime as dt

import numpy as np

MALFORMED_SHARE = 0.002
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clf_clock(epoch_seconds: np.ndarray) -> np.ndarray:
    """``07/Sep/2026:13:04:59 +0000`` for each second (formatted once per distinct second)."""
    distinct, inverse = np.unique(epoch_seconds, return_inverse=True)
    texts = []
    for second in distinct.tolist():
        moment = dt.datetime.fromtimestamp(second, dt.UTC)
        texts.append(
            f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
        )
    return np.array(texts, dtype=object)[inverse]


def combined_lines(ip, clock, method, url, protocol, status, size, referrer, user_agent) -> np.ndarray:
    """Apache ``combined`` lines, vectorised (object arrays of str concatenate element-wise)."""
    return (
        ip
        + " - - ["
        + clock
        + '] "'
        + method
        + " "
        + url
        + " "
        + protocol
        + '" '
        + status
        + " "
        + size
        + ' "'
        + referrer
        + '" "'
        + user_agent
        + '"\n'
    )


def break_some(rng: np.random.Generator, lines: np.ndarray) -> np.ndarray:
    """Break ``MALFORMED_SHARE`` of the lines in place the ways real logs break; returns their indices."""
    n = len(lines)
    broken = np.flatnonzero(rng.random(n) < MALFORMED_SHARE)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789{}[]<>|#%&*~ "
    for index, how in zip(broken.tolist(), rng.random(len(broken)).tolist()):
        line = lines[index]
        if how < 0.5:  # the writer died mid-line
            lines[index] = line[: int(len(line) * (0.2 + 0.6 * how))] + "\n"
        elif how < 0.8:  # bytes that were never a log line
            lines[index] = "".join(rng.choice(list(alphabet), int(rng.integers(8, 120)))) + "\n"
        else:  # a clock that cannot exist
            clock = line.index("[") + 12  # after "[07/Sep/2026"
            lines[index] = line[:clock] + ":25:61:61" + line[clock + 9 :]
    return broken
