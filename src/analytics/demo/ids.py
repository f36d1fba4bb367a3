"""Whop-like identifiers and salted hashes, generated vectorised and deterministically.

An id is ``prefix`` + 11 base-62 characters of a bijective 64-bit mix of (namespace, counter): ids never
collide within a namespace (one per seed, account and kind of object) and look random. Hashes (IP, device,
card fingerprints) are 64 hex characters mixed from (namespace, value) the same way.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

__all__ = ["AccountIds", "IdMaker", "hex_hashes", "namespace"]

_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DIGITS = 11  # 62**11 > 2**64


def namespace(*parts: object) -> int:
    """A 32-bit namespace number for ``parts`` (seed, account, kind …)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: a bijection of 64-bit integers (array arithmetic wraps silently)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _codepoints_to_str(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.str_]:
    n, width = codes.shape
    return np.ascontiguousarray(codes.astype(np.uint32)).view(f"<U{width}").reshape(n)


class IdMaker:
    """Hands out consecutive ids of one kind (``mem_…``) for one seed and account."""

    def __init__(self, prefix: str, *parts: object) -> None:
        self.prefix = prefix
        self._base = np.uint64(namespace(prefix, *parts)) << np.uint64(32)
        self._prefix_codes = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
        self.issued = 0

    def take(self, count: int) -> npt.NDArray[np.str_]:
        """The next ``count`` ids."""
        counters = np.arange(self.issued, self.issued + count, dtype=np.uint64)
        self.issued += count
        return self.of(counters)

    def of(self, counters: npt.ArrayLike) -> npt.NDArray[np.str_]:
        """The ids with the given counter values (for objects addressed by a known index)."""
        x = _mix(self._base | np.asarray(counters, dtype=np.uint64))
        n = x.shape[0]
        codes = np.empty((n, len(self._prefix_codes) + _DIGITS), dtype=np.uint8)
        codes[:, : len(self._prefix_codes)] = self._prefix_codes
        for i in range(_DIGITS - 1, -1, -1):
            codes[:, len(self._prefix_codes) + i] = _ALPHABET[(x % np.uint64(62)).astype(np.intp)]
            x = x // np.uint64(62)
        return _codepoints_to_str(codes)

    def one(self, counter: int) -> str:
        """The id with one counter value."""
        return str(self.of([counter])[0])


def hex_hashes(values: npt.ArrayLike, *parts: object) -> npt.NDArray[np.str_]:
    """64-hex-character salted hashes of integer ``values`` (e.g. an IP number) in the namespace ``parts``."""
    v = np.asarray(values, dtype=np.uint64)
    base = np.uint64(namespace("hash", *parts)) << np.uint64(32)
    words = np.stack([_mix(_mix(np.full(len(v), base ^ np.uint64(k))) ^ v) for k in range(4)], axis=1)
    raw = words.astype(">u8").view(np.uint8).reshape(len(v), 32)
    codes = np.empty((len(v), 64), dtype=np.uint8)
    codes[:, 0::2] = _HEX[raw >> 4]
    codes[:, 1::2] = _HEX[raw & 15]
    return _codepoints_to_str(codes)


class AccountIds:
    """Id makers of one account, one per prefix; counters run on across batches."""

    def __init__(self, seed: int, account_index: int) -> None:
        self._parts = (seed, account_index)
        self._makers: dict[str, IdMaker] = {}

    def __call__(self, prefix: str) -> IdMaker:
        if prefix not in self._makers:
            self._makers[prefix] = IdMaker(prefix, *self._parts)
        return self._makers[prefix]

    def hashes(self, values: npt.ArrayLike, kind: str) -> npt.NDArray[np.str_]:
        return hex_hashes(values, *self._parts, kind)
