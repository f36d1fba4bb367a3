"""Who members are on the outside: names, usernames, emails and phone numbers (deterministic per member)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analytics.demo.ids import AccountIds
from analytics.demo.population import Population

__all__ = ["DIAL_CODES", "names", "phone_numbers"]

_FIRST = (
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Jamie",
    "Riley",
    "Avery",
    "Quinn",
    "Lena",
    "Jonas",
    "Marie",
    "Lukas",
    "Sofia",
    "Mateo",
    "Chloe",
    "Noah",
    "Emma",
    "Liam",
    "Olivia",
    "Ethan",
    "Mia",
    "Lucas",
    "Ava",
    "Leon",
    "Hannah",
    "Pablo",
    "Aria",
    "Ravi",
)
_LAST = (
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martin",
    "Muller",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Lopez",
    "Wilson",
    "Moore",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Fischer",
    "Weber",
    "Moreau",
    "Bernard",
    "Silva",
    "Costa",
    "Patel",
    "Singh",
    "Kim",
    "Nguyen",
)
_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "hotmail.com")
DIAL_CODES = {
    "US": "1",
    "CA": "1",
    "GB": "44",
    "DE": "49",
    "FR": "33",
    "ES": "34",
    "IT": "39",
    "NL": "31",
    "AU": "61",
    "BR": "55",
    "IN": "91",
    "MX": "52",
    "AT": "43",
    "PL": "48",
}
PHONE_SHARE = 0.55


def names(members: npt.NDArray[np.int64]) -> tuple[list[str], list[str], list[str], list[str]]:
    """First names, last names, usernames and emails of member numbers."""
    first = np.array(_FIRST)[members % len(_FIRST)].tolist()
    last = np.array(_LAST)[(members // len(_FIRST) + members * 7) % len(_LAST)].tolist()
    handles = [f"{f.lower()}{ln.lower()}{int(i) % 997}" for f, ln, i in zip(first, last, members, strict=True)]
    domains = np.array(_DOMAINS)[(members * 13) % len(_DOMAINS)].tolist()
    return first, last, handles, [f"{h}@{d}" for h, d in zip(handles, domains, strict=True)]


def phone_numbers(members: npt.NDArray[np.int64], pop: Population, ids: AccountIds) -> list[str | None]:
    """E.164 phone numbers of the members who gave one (about half; the WhatsApp contacts), else ``None``.

    The nine subscriber digits are a bijection of the member's index (an odd multiplier not divisible by 5 is
    invertible modulo 10⁹, shifted by an account-specific offset), so no two members of an account share a number,
    whatever the size (hash-derived digits collided from about 100,000 contacts on).
    """
    hashes = ids.hashes(members, "phone")
    offset = int(str(ids.hashes(np.array([0]), "phone-offset")[0])[:12], 16) % 10**9
    out: list[str | None] = []
    for h, i in zip(hashes.tolist(), members.tolist(), strict=True):
        if int(h[12:14], 16) / 256 < PHONE_SHARE and not pop.lead[i]:
            digits = (i * 387_420_489 + offset) % 10**9  # 3^18: coprime with 10^9
            out.append(f"+{DIAL_CODES.get(str(pop.country[i]), '1')}{digits:09d}")
        else:
            out.append(None)
    return out
