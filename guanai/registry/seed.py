"""Synthetic demo data (``guanai seed``): villages, households, children, parents, carers, statuses, benefits.

The data looks like a Chongqing district's registry: Chongqing surnames, valid ID numbers whose place code is
the child's county, families in which a third or more of the children have both parents working away, some
single-parent, orphaned and de-facto unsupported children, children with disabilities, schooling consistent
with age, households on 低保/特困 rolls. Everything is marked ``is_demo``; villages and communities are
invented under the real townships of the chosen districts (region ``source="demo"``).

Deterministic: one numpy generator per seed and a fixed reference date (not today), so the same seed and
options give the same names, ID numbers, dates, blind indexes and masks. Only the encryption nonces differ.

Fast (the issue asks for ≥ 50,000 children per second of generation):

- column-wise: every attribute is drawn for all rows at once with numpy; strings are assembled by indexing
  precomputed tables (dates, digits, pinyin per character) or as byte matrices (ID numbers, phones);
- the only per-value work is encryption and the blind index, as it must be; on several cores it runs in
  forked worker processes next to the main one;
- tables stay columns until the writer turns them into row tuples for ``executemany`` (SQLite, one
  transaction) or ``COPY`` (PostgreSQL). Ids are assigned here so rows can reference each other.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import hashlib
import mmap
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import repeat
from time import perf_counter
from typing import Any, Protocol

import numpy as np
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from guanai import privacy
from guanai.audit.services import audit_record
from guanai.lib import dates, pinyin, regioncode
from guanai.lib.errors import DomainError
from guanai.regions.models import Region
from guanai.registry import seed_names as names
from guanai.registry.models import (
    BenefitEnrolment,
    Child,
    ChildRelation,
    Household,
    HukouType,
    Person,
    PersonStatus,
)
from guanai.registry.services import child_no_for

REFERENCE_DATE = dt.date(2026, 1, 1)
DEFAULT_SEED = 2024
DEFAULT_CHILDREN = 3000
DEFAULT_DISTRICTS = ("500230", "500101")  # 丰都县 (rural) and 万州区 (urban and rural)
DEFAULT_VILLAGES_PER_TOWNSHIP = 4
# With --villages-per-township 0, villages are made for about this many children each (the issue: 200–400).
CHILDREN_PER_VILLAGE = 300
# Rows deleted per ORM delete by --reset (bounded by SQLite's limit on bound variables, 32,766).
RESET_CHUNK = 5000
# Below this many values to encrypt, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 50_000

NDArray = np.ndarray[Any, Any]


class SeedError(DomainError):
    """A refused seed run; ``english`` is for the console next to the Chinese ``message``."""

    def __init__(self, code: str, message: str, english: str) -> None:
        super().__init__(code, message)
        self.english = english


class Progress(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


# (total, description, unit) → a progress bar; ``tqdm`` fits. The library itself never prints.
ProgressFactory = Callable[[int, str, str], Progress]


class _NoProgress:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def _no_progress(total: int, description: str, unit: str) -> Progress:
    return _NoProgress()


# --- inputs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedOptions:
    seed: int = DEFAULT_SEED
    children: int = DEFAULT_CHILDREN
    districts: tuple[str, ...] = DEFAULT_DISTRICTS
    villages_per_township: int = DEFAULT_VILLAGES_PER_TOWNSHIP
    reset: bool = False
    reference_date: dt.date = REFERENCE_DATE


@dataclass(frozen=True)
class Township:
    code: str
    name: str
    county_code: str
    county_name: str


@dataclass(frozen=True)
class VillagePlan:
    code: str
    name: str
    township: Township

    @property
    def is_community(self) -> bool:
        return regioncode.is_community(self.code)


@dataclass(frozen=True)
class IdBases:
    """The first id to use per table; the writer inserts ids itself so that rows can reference each other."""

    household: int = 1
    person: int = 1
    status: int = 1
    child: int = 1
    relation: int = 1
    benefit: int = 1


# --- output -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    """A column with the same value in every row (is_demo, version, timestamps)."""

    value: Any


@dataclass
class Table:
    """One model's rows, kept as columns (attname → values); ``rows`` yields the tuples a writer needs."""

    model: type[models.Model]
    size: int
    columns: dict[str, Sequence[Any] | Constant]

    def __post_init__(self) -> None:
        for name, values in self.columns.items():
            if not isinstance(values, Constant) and len(values) != self.size:
                raise ValueError(f"{self.model.__name__}.{name}: {len(values)} values for {self.size} rows")

    @property
    def fields(self) -> list[str]:
        return list(self.columns)

    def column(self, name: str) -> list[Any]:
        values = self.columns[name]
        return [values.value] * self.size if isinstance(values, Constant) else list(values)

    def rows(self, part: slice = slice(None)) -> Iterator[tuple[Any, ...]]:
        start, stop, _ = part.indices(self.size)
        return zip(
            *(
                repeat(values.value, stop - start) if isinstance(values, Constant) else values[start:stop]
                for values in self.columns.values()
            ),
            strict=True,
        )


@dataclass
class SeedData:
    villages: list[VillagePlan]
    households: Table
    people: Table
    statuses: Table
    children: Table
    relations: Table
    benefits: Table

    def tables(self) -> list[Table]:
        """In insertion order: every row's references point to rows of earlier tables."""
        return [self.households, self.people, self.statuses, self.children, self.relations, self.benefits]

    def counts(self) -> dict[str, int]:
        return {
            "villages": len(self.villages),
            "households": self.households.size,
            "children": self.children.size,
            "people": self.people.size,
            "statuses": self.statuses.size,
            "relations": self.relations.size,
            "benefits": self.benefits.size,
        }


@dataclass
class SeedResult:
    counts: dict[str, int]
    villages_created: int
    deleted: dict[str, int]
    reset_seconds: float
    generate_seconds: float
    write_seconds: float

    @property
    def children_per_second(self) -> float:
        return self.counts["children"] / self.generate_seconds if self.generate_seconds else 0.0


# --- code tables --------------------------------------------------------------------------------------------

_EPOCH = dt.date(1930, 1, 1)  # day number 0 of every date array below
_LAST_DAY = dt.date(2040, 12, 31)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_STAR = ord("*")
# Serial numbers (ID digits 15–17) per county, birth date and sex: 499 odd ones for men, 499 even for women.
_SERIAL_SLOTS = 499


def _day(value: dt.date) -> int:
    return (value - _EPOCH).days


@dataclass(frozen=True)
class _Days:
    """Per day number: ISO text (index -1 is None, so -1 in a day array means "no date"), ID digits, year."""

    iso: NDArray
    digits: NDArray  # uint8 ASCII, YYYYMMDD
    year: NDArray
    mmdd: NDArray
    id_sum: NDArray


@cache
def _days() -> _Days:
    days = np.arange(np.datetime64(_EPOCH), np.datetime64(_LAST_DAY) + 1)
    iso = days.astype(str)
    digits = np.frombuffer(np.char.replace(iso, "-", "").astype("S8").tobytes(), dtype=np.uint8).reshape(-1, 8)
    values = digits.astype(np.int64) - ord("0")
    return _Days(
        iso=np.array([*iso.tolist(), None], dtype=object),
        digits=digits,
        year=values[:, :4] @ np.array([1000, 100, 10, 1]),
        mmdd=values[:, 4:] @ np.array([1000, 100, 10, 1]),
        id_sum=values @ _ID_WEIGHTS[6:14],
    )


def _ascii(values: Sequence[str], width: int) -> NDArray:
    """Equal-length ASCII strings as a (n, width) uint8 matrix."""
    return np.frombuffer("".join(values).encode("ascii"), dtype=np.uint8).reshape(-1, width)


def _strings(matrix: NDArray) -> list[str]:
    """A (n, width) uint8 ASCII matrix back to Python strings."""
    return _split(np.ascontiguousarray(matrix).tobytes().decode("ascii"), len(matrix))


def _digits(values: NDArray, width: int) -> NDArray:
    """Non-negative integers as zero-padded decimal digits, a (n, width) uint8 ASCII matrix."""
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.astype(np.int64)
    for i in reversed(range(width)):
        out[:, i] = rest % 10 + ord("0")
        rest //= 10
    return out


@dataclass(frozen=True)
class _NamePool:
    """Given-name characters of both sexes with their pinyin keys, computed once per character with
    :mod:`guanai.lib.pinyin` (the keys registration writes, so search finds seeded and registered children
    alike). The last entry is "" (no second character)."""

    chars: NDArray
    pinyin: NDArray
    initials: NDArray
    male: tuple[int, int]  # index range of the male characters
    female: tuple[int, int]


@cache
def _name_pool(male: str, female: str) -> _NamePool:
    chars = [*male, *female, ""]
    keys = [pinyin.full(c) for c in chars]
    return _NamePool(
        chars=np.array(chars, dtype=object),
        pinyin=np.array(keys, dtype=object),
        initials=np.array([p[:1] for p in keys], dtype=object),
        male=(0, len(male)),
        female=(len(male), len(male) + len(female)),
    )


@dataclass(frozen=True)
class _Surnames:
    chars: NDArray
    pinyin: NDArray
    initials: NDArray
    p: NDArray


@cache
def _surnames() -> _Surnames:
    chars = [s for s, _ in names.SURNAMES]
    weights = np.array([w for _, w in names.SURNAMES], dtype=float)
    keys = [pinyin.full(s) for s in chars]
    return _Surnames(
        chars=np.array(chars, dtype=object),
        pinyin=np.array(keys, dtype=object),
        initials=np.array([p[:1] for p in keys], dtype=object),
        p=weights / weights.sum(),
    )


def _weights(pairs: Sequence[tuple[str, float]]) -> tuple[NDArray, NDArray]:
    values = np.array([v for v, _ in pairs], dtype=object)
    w = np.array([w for _, w in pairs], dtype=float)
    return values, w / w.sum()


# Parent situations (PersonStatus.Kind) as small integers for the vectorised draw.
# Plain strings (``.value``): psycopg would write an Enum member's name, not its value.
K = PersonStatus.Kind
KINDS: list[str] = [
    k.value
    for k in (
        K.AT_HOME,
        K.WORKING_AWAY,
        K.DECEASED,
        K.MISSING,
        K.SEVERE_DISABILITY,
        K.SERIOUS_ILLNESS,
        K.IMPRISONED,
        K.COMPULSORY_REHAB,
        K.LOST_CONTACT,
        K.GUARDIANSHIP_REVOKED,
        K.DEPORTED,
        K.INCAPABLE,
        K.DIVORCED_ABSENT,
    )
]
HOME, AWAY, DEAD, MISSING, DISABLED, ILL, PRISON, REHAB, LOST, REVOKED, DEPORTED, INCAPABLE, DIVORCED = range(
    len(KINDS)
)
# Situations that make a parent unable to support the child (事实无人抚养 qualifying conditions, 民发〔2019〕62号).
_QUALIFYING = [DEAD, MISSING, DISABLED, ILL, PRISON, REHAB, LOST, REVOKED, DEPORTED]
_NOT_GUARDIAN = [DEAD, MISSING, REVOKED]
_NO_PHONE = [DEAD, MISSING, DEPORTED, PRISON, REHAB]

# Household situations: (father, mother, weight in ‰). About 37 % of households have both parents away or
# one away and the other unable; about 11 % are single-parent; 1 % orphans; 1–2 % de-facto unsupported.
_SCENARIOS: list[tuple[int, int, float]] = [
    (HOME, HOME, 240), (AWAY, AWAY, 330), (AWAY, HOME, 130), (HOME, AWAY, 30),
    (AWAY, DISABLED, 12), (DISABLED, AWAY, 8), (AWAY, ILL, 6), (AWAY, INCAPABLE, 4),
    (HOME, DIVORCED, 45), (DIVORCED, HOME, 30), (AWAY, DIVORCED, 35), (DIVORCED, AWAY, 15),
    (DEAD, HOME, 18), (HOME, DEAD, 10), (DEAD, AWAY, 8), (AWAY, DEAD, 5),
    (PRISON, HOME, 10), (PRISON, AWAY, 4), (HOME, PRISON, 2), (REHAB, HOME, 2),
    (LOST, HOME, 6), (HOME, LOST, 10), (AWAY, LOST, 6),
    (DISABLED, HOME, 10), (HOME, DISABLED, 7), (ILL, HOME, 6), (HOME, ILL, 4),
    (HOME, DEPORTED, 1), (AWAY, DEPORTED, 1),
    # orphans (both dead, or one dead and the other declared missing)
    (DEAD, DEAD, 4), (DEAD, MISSING, 2), (MISSING, DEAD, 1),
    # de-facto unsupported (both parents in a qualifying situation)
    (DEAD, LOST, 3), (DEAD, PRISON, 2), (PRISON, LOST, 2), (DEAD, DISABLED, 2), (DISABLED, DISABLED, 1),
    (REHAB, LOST, 1), (REVOKED, REVOKED, 1),
]  # fmt: skip

_CARER_KINDS = [(HOME, 88.0), (ILL, 6.0), (DISABLED, 3.0), (INCAPABLE, 3.0)]
_GRADE_NAMES = [
    "", "小班", "中班", "大班", "一年级", "二年级", "三年级", "四年级", "五年级", "六年级",
    "初一", "初二", "初三", "高一", "高二", "高三", "中职一年级", "中职二年级", "中职三年级",
]  # fmt: skip
_SCHOOLING = ["", "学龄前", "在读", "辍学", "休学"]
# School kinds (columns of the per-village school table).
S_NONE, S_KINDERGARTEN, S_PRIMARY, S_VILLAGE_PRIMARY, S_JUNIOR, S_SENIOR, S_VOCATIONAL = range(7)
_HEALTH = ["健康", "残疾", "患病", "残疾"]  # index: disabled + 2 × seriously ill
_STATUS = [Child.Status.ACTIVE.value, Child.Status.REGISTERED.value, Child.Status.EXITED.value]


# --- villages -----------------------------------------------------------------------------------------------


def _township_kind(name: str) -> str:
    if name.endswith("街道"):
        return "street"
    return "town" if name.endswith("镇") else "xiang"


# Share of communities (社区) among the new units of a township: streets are urban, towns have a seat.
_COMMUNITY_SHARE = {"street": 0.8, "town": 0.15, "xiang": 0.05}


def plan_villages(townships: Sequence[Township], *, seed: int, children: int, per_township: int) -> list[VillagePlan]:
    """Villages (200–399) and communities (001–199) under each township; codes extend the township's."""
    if not townships:
        return []
    rng = np.random.default_rng([seed, 1])
    if per_township > 0:
        counts = [per_township] * len(townships)
    else:
        total = max(1, round(children / CHILDREN_PER_VILLAGE))
        base, extra = divmod(total, len(townships))
        counts = [base] * len(townships)
        for i in rng.permutation(len(townships))[:extra]:
            counts[int(i)] += 1
    village_names = [a + b for a in names.VILLAGE_FIRST for b in names.VILLAGE_SECOND]
    community_names = [a + b for a in names.COMMUNITY_FIRST for b in names.COMMUNITY_SECOND]
    plans: list[VillagePlan] = []
    for township, n in zip(townships, counts, strict=True):
        if n == 0:
            continue
        kind = _township_kind(township.name)
        n_comm = round(n * _COMMUNITY_SHARE[kind])
        # A street has at least one community; a town or xiang at least one village.
        n_comm = max(n_comm, 1) if kind == "street" else min(n_comm, n - 1)
        n_vil = n - n_comm
        if n_comm > 199 or n_vil > 200:
            raise SeedError(
                "too_many_villages",
                f"{township.name}的村社区数量超出区划代码容量（社区最多199个，村最多200个）",
                f"too many villages for township {township.code}: at most 199 communities and 200 villages",
            )
        prefix = township.code[:9]
        for i, k in enumerate(rng.choice(len(community_names), n_comm, replace=False)):
            plans.append(VillagePlan(f"{prefix}{i + 1:03d}", community_names[k] + "社区", township))
        for i, k in enumerate(rng.choice(len(village_names), n_vil, replace=False)):
            plans.append(VillagePlan(f"{prefix}{200 + i:03d}", village_names[k] + "村", township))
    return plans


# --- encryption and blind indexes ---------------------------------------------------------------------------


class _Protector:
    """Batch form of :mod:`guanai.privacy`: the same tokens and blind indexes, without per-call overhead.

    Tokens are ``KeyRing.encrypt``'s (``<key id>:<urlsafe base64 of nonce ‖ ciphertext ‖ tag>``, unpadded),
    base64-encoded for a whole batch at once. The blind index is ``BlindIndex.digest`` computed from
    precomputed HMAC pads (HMAC-SHA256 = H(k⊕opad ‖ H(k⊕ipad ‖ m))), which halves its cost. Tests check both
    against :mod:`guanai.privacy`.
    """

    def __init__(self) -> None:
        key_id, self._aead = privacy.keyring().keys[0]
        self._prefix = key_id + ":"
        self._ad = key_id.encode()
        key = privacy.blind_index()._key
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def token_width(self, size: int) -> int:
        """Characters of the token of a value of ``size`` bytes."""
        return len(self._prefix) + (4 * (12 + size + 16) + 2) // 3

    def encrypt(self, values: Sequence[str]) -> list[str]:
        """Values of one length (ID numbers, phones): the blobs are padded to a multiple of three bytes, so one
        base64 encoding of their concatenation holds each blob's encoding at a fixed offset."""
        if not values:
            return []
        size = len(values[0].encode())
        if any(len(v) != len(values[0]) for v in values):
            raise ValueError("encrypt() takes values of one length")
        blob = 12 + size + 16
        pad = b"\0" * (-blob % 3)
        width, keep = (blob + len(pad)) // 3 * 4, (4 * blob + 2) // 3
        nonces = os.urandom(12 * len(values))
        encrypt, ad = self._aead.encrypt, self._ad
        parts: list[bytes] = []
        for i, value in enumerate(values):
            nonce = nonces[12 * i : 12 * i + 12]
            parts += (nonce, encrypt(nonce, value.encode(), ad), pad)
        text = base64.urlsafe_b64encode(b"".join(parts)).decode()
        prefix = self._prefix
        return [prefix + text[i : i + keep] for i in range(0, len(text), width)]

    def digest(self, prefix: str, values: Sequence[str]) -> list[str]:
        inner = self._inner.copy()
        inner.update(prefix.encode())
        inner_copy, outer_copy = inner.copy, self._outer.copy
        out = []
        for value in values:
            h = inner_copy()
            h.update(value.encode())
            o = outer_copy()
            o.update(h.digest())
            out.append(o.hexdigest())
        return out


# The protector of the current run, set before workers fork: they inherit it, key objects and all.
_PROTECTOR: _Protector | None = None
_Job = tuple[str, list[str]]  # ("id" | "phone", values of one length)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _CryptoRunner:
    """Runs the protect jobs in this process and in forked workers at the same time.

    Workers fork once the values exist, so they inherit them (nothing is pickled), claim jobs from a shared
    counter and write tokens and blind indexes into shared memory at fixed offsets (both have a fixed width
    per job). This process goes on with the other stages meanwhile, then claims jobs too. There are no threads
    and no queues, so the workers never wait for this process's interpreter lock.

    Fork, not spawn: a worker needs the keys and this module, which imports Django models. Workers only
    encrypt and hash, never touch the database connection they inherit, and leave through ``os._exit``
    (multiprocessing's way for forked processes), so that connection is not closed under the parent.
    """

    def __init__(self, protector: _Protector, workers: int) -> None:
        self.protector = protector
        self.workers = workers if "fork" in multiprocessing.get_all_start_methods() else 0
        self.jobs: list[_Job] = []
        self.processes: list[Any] = []

    def start(self, jobs: list[_Job]) -> None:
        global _PROTECTOR
        _PROTECTOR = self.protector
        self.jobs = jobs
        token_widths = [self.protector.token_width(len(values[0])) if values else 0 for _, values in jobs]
        digest_widths = [64 if kind == "id" else 0 for kind, _ in jobs]
        self.token_at = np.r_[0, np.cumsum([w * len(v) for w, (_, v) in zip(token_widths, jobs, strict=True)])]
        self.digest_at = np.r_[0, np.cumsum([w * len(v) for w, (_, v) in zip(digest_widths, jobs, strict=True)])]
        self.tokens = mmap.mmap(-1, max(1, int(self.token_at[-1])))
        self.digests = mmap.mmap(-1, max(1, int(self.digest_at[-1])))
        context = multiprocessing.get_context("fork") if self.workers else None
        self.next = context.Value("q", 0) if context else None
        self.claimed = 0
        for _ in range(self.workers):
            assert context is not None
            process = context.Process(target=self._work, daemon=True)
            process.start()
            self.processes.append(process)

    def _claim(self) -> int | None:
        if self.next is None:
            i, self.claimed = self.claimed, self.claimed + 1
        else:
            with self.next.get_lock():
                i = self.next.value
                self.next.value = i + 1
        return i if i < len(self.jobs) else None

    def _do(self, i: int) -> None:
        assert _PROTECTOR is not None
        kind, values = self.jobs[i]
        tokens = "".join(_PROTECTOR.encrypt(values)).encode("ascii")
        self.tokens[self.token_at[i] : self.token_at[i] + len(tokens)] = tokens
        if kind == "id":
            digests = "".join(_PROTECTOR.digest("id:", values)).encode("ascii")
            self.digests[self.digest_at[i] : self.digest_at[i] + len(digests)] = digests

    def _work(self) -> None:
        while (i := self._claim()) is not None:
            self._do(i)

    def finish(self, done: Callable[[int], None]) -> tuple[str, str]:
        """All tokens and all blind indexes, each concatenated in job order (see ``token_at``/``digest_at``).
        ``done`` is told how many jobs have been claimed so far."""
        while (i := self._claim()) is not None:
            self._do(i)
            done(i + 1)
        for process in self.processes:
            process.join()
            if process.exitcode != 0:
                raise RuntimeError(f"an encryption worker failed (exit code {process.exitcode})")
        self.processes = []
        done(len(self.jobs))
        return self.tokens[: self.token_at[-1]].decode("ascii"), self.digests[: self.digest_at[-1]].decode("ascii")

    def close(self) -> None:
        global _PROTECTOR
        for process in self.processes:
            process.terminate()
            process.join()
        self.processes = []
        _PROTECTOR = None


def _split(text: str, count: int) -> list[str]:
    """``count`` equal-width pieces of ``text``."""
    if not count or not text:
        return []
    width = len(text) // count
    return [text[i : i + width] for i in range(0, len(text), width)]


# --- the generator ------------------------------------------------------------------------------------------


def _between(rng: np.random.Generator, lo: NDArray, hi: NDArray, shape: tuple[float, float] = (1.0, 1.0)) -> NDArray:
    """Day numbers in [lo, hi] per element, spread by a Beta distribution of the given shape."""
    return lo + np.floor(rng.beta(*shape, len(lo)) * (hi - lo + 1)).astype(np.int64)


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _group_rank(keys: NDArray) -> tuple[NDArray, NDArray]:
    """For each element: its group number (groups = equal keys, numbered in key order) and rank within it."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    group_sorted = np.cumsum(starts) - 1
    rank_sorted = np.arange(len(keys)) - np.flatnonzero(starts)[group_sorted]
    group = np.empty_like(group_sorted)
    rank = np.empty_like(rank_sorted)
    group[order], rank[order] = group_sorted, rank_sorted
    return group, rank


@dataclass
class _People:
    """Column arrays of the people (parents and carers), household by household."""

    household: NDArray
    role: NDArray  # 0 father, 1 mother, 2 carer
    male: NDArray
    birth: NDArray
    surname: NDArray
    kind: NDArray
    place: NDArray
    grandparent: NDArray  # per carer (in carer order): a grandparent, not another relative


class _Generator:
    """One run of the generator: stages fill numpy column arrays, ``tables`` turns them into ``Table``s."""

    def __init__(
        self,
        villages: Sequence[VillagePlan],
        *,
        seed: int,
        children: int,
        reference_date: dt.date,
        id_bases: IdBases,
        places: Sequence[str],
        created_at: Any,
        progress: Progress,
        workers: int,
    ) -> None:
        if not villages:
            raise SeedError("no_villages", "没有可用的村社区", "no villages to put children in")
        self.v = list(villages)
        self.rng = np.random.default_rng([seed, 2])
        self.n = children
        self.reference_date = reference_date
        self.ref = _day(reference_date)
        self.ref_year, self.ref_mmdd = reference_date.year, reference_date.month * 100 + reference_date.day
        self.bases = id_bases
        self.created_at = created_at
        self.progress = progress
        self.workers = workers
        self.days = _days()
        # Places of ID numbers: the villages' counties first, then the other counties parents come from.
        counties = list(dict.fromkeys(v.township.county_code[:6] for v in villages))
        self.places = counties + [p for p in dict.fromkeys(places) if p not in counties]
        self.place_digits = _ascii(self.places, 6)
        self.place_sum = (self.place_digits.astype(np.int64) - ord("0")) @ _ID_WEIGHTS[:6]
        self.county_names = {v.township.county_code[:6]: v.township.county_name for v in villages}
        self.v_county = np.array([counties.index(v.township.county_code[:6]) for v in villages])
        self.v_community = np.array([v.is_community for v in villages])
        self.reported = 0

    def _report(self, fraction: float) -> None:
        """Move the bar (in children) to ``fraction`` of the run."""
        target = int(self.n * fraction)
        if target > self.reported:
            self.progress.update(target - self.reported)
            self.reported = target

    # -- households and children --------------------------------------------------------------------------

    def households(self) -> None:
        rng, n = self.rng, self.n
        sizes = rng.choice([1, 2, 3], size=n, p=[0.52, 0.36, 0.12])
        total = np.cumsum(sizes)
        last = int(np.searchsorted(total, n))
        sizes = sizes[: last + 1]
        sizes[-1] -= int(total[last]) - n
        nh = len(sizes)
        # Villages differ in size; communities register fewer target children than villages.
        weight = np.where(self.v_community, 0.5, 1.0) * rng.gamma(4.0, 0.25, len(self.v))
        h_village = np.sort(rng.choice(len(self.v), nh, p=weight / weight.sum()))
        self.nh, self.h_size, self.h_village = nh, sizes, h_village
        self.h_start = np.cumsum(sizes) - sizes
        self.c_household = np.repeat(np.arange(nh), sizes)
        self.c_pos = np.arange(n) - self.h_start[self.c_household]
        self.c_village = h_village[self.c_household]
        scenario_f = np.array([f for f, _, _ in _SCENARIOS])
        scenario_m = np.array([m for _, m, _ in _SCENARIOS])
        w = np.array([w for _, _, w in _SCENARIOS], dtype=float)
        scenario = rng.choice(len(_SCENARIOS), nh, p=w / w.sum())
        self.h_father_kind, self.h_mother_kind = scenario_f[scenario], scenario_m[scenario]
        # Someone else looks after the children when neither parent is at home.
        self.h_carer = (self.h_father_kind != HOME) & (self.h_mother_kind != HOME)

    def births(self) -> None:
        """Siblings 15 months to 6 years apart; the eldest drawn with fewer births in recent years."""
        rng, ref = self.rng, self.ref
        # Aged 0–17 on the reference date: born after the day 18 years before it, and before it.
        lo = _day(dates.add_months(self.reference_date, -18 * 12)) + 1
        hi = ref - 1
        day_years = self.days.year[lo : hi + 1]
        year_weight = np.clip(1.0 - 0.07 * (day_years - 2016), 0.5, 1.0)  # China's births fell after 2016
        cdf = np.cumsum(year_weight)
        gaps = np.where(self.c_pos > 0, rng.integers(450, 2200, self.n), 0)
        cum = np.cumsum(gaps)
        cum -= cum[self.h_start][self.c_household]
        span = cum[self.h_start + self.h_size - 1]
        # The eldest is drawn from the days that leave room for the younger siblings before the reference date
        # (inverse CDF restricted per household; shifting afterwards would pile births onto one day).
        room = cdf[hi - span - lo]
        eldest = lo + np.searchsorted(cdf, rng.random(self.nh) * room)
        self.h_eldest, self.h_youngest = eldest, eldest + span
        self.c_birth = eldest[self.c_household] + cum
        self.c_male = rng.random(self.n) < 0.53
        self.c_age = self.ref_year - self.days.year[self.c_birth] - (self.days.mmdd[self.c_birth] > self.ref_mmdd)

    # -- people ---------------------------------------------------------------------------------------------

    def people(self) -> None:
        rng, nh, ref = self.rng, self.nh, self.ref
        per_household = 2 + self.h_carer
        p_start = np.cumsum(per_household) - per_household
        self.h_father, self.h_mother = p_start, p_start + 1
        carer_h = np.flatnonzero(self.h_carer)
        self.carer_households = carer_h
        carer_idx = p_start[carer_h] + 2
        self.h_carer_person = np.full(nh, -1)
        self.h_carer_person[carer_h] = carer_idx
        n_people = int(per_household.sum())
        sur = _surnames()
        father_surname = rng.choice(len(sur.chars), nh, p=sur.p)
        mother_surname = rng.choice(len(sur.chars), nh, p=sur.p)
        year = 365.25
        lo_adult, hi_adult = _day(dt.date(1970, 1, 1)), _day(dt.date(2000, 12, 31))
        # Fathers 20–40 at the eldest child's birth (mostly 24–30), mothers 2 years older to 8 younger (mostly
        # about 2 younger), all born 1970–2000. Drawn inside the bounds, never clipped: clipping would pile
        # people onto one birth date and exhaust that day's ID serial numbers.
        father_birth = _between(
            rng,
            np.maximum(lo_adult, self.h_eldest - int(40 * year)),
            np.minimum(hi_adult, self.h_eldest - int(20 * year)),
            (3.5, 2.0),
        )
        mother_birth = _between(
            rng,
            np.maximum(lo_adult, father_birth - int(2 * year)),
            np.minimum.reduce([np.full(nh, hi_adult), self.h_eldest - int(19 * year), father_birth + int(8 * year)]),
            (2.0, 3.0),
        )

        nc = len(carer_h)
        grandparent = rng.random(nc) < 0.9  # otherwise an uncle, aunt or other relative
        carer_male = rng.random(nc) < np.where(grandparent, 0.38, 0.45)
        maternal = rng.random(nc) < 0.2
        own_line = np.where(maternal, mother_surname[carer_h], father_surname[carer_h])
        # Grandfathers and half the other relatives share the family's surname; grandmothers have their own.
        carer_surname = np.where(
            carer_male | (~grandparent & (rng.random(nc) < 0.5)),
            own_line,
            rng.choice(len(sur.chars), nc, p=sur.p),
        )
        carer_birth = np.where(
            grandparent,
            father_birth[carer_h] - rng.integers(int(20 * year), int(32 * year), nc),
            _between(
                rng,
                father_birth[carer_h] - int(8 * year),
                np.minimum(father_birth[carer_h] + int(8 * year), ref - int(22 * year)),
            ),
        )
        carer_kind_values = np.array([k for k, _ in _CARER_KINDS])
        cw = np.array([w for _, w in _CARER_KINDS])
        carer_kind = carer_kind_values[rng.choice(len(cw), nc, p=cw / cw.sum())]

        def scatter(father: Any, mother: Any, carer: Any) -> NDArray:
            out = np.empty(n_people, dtype=np.result_type(father, mother, carer))
            out[self.h_father], out[self.h_mother], out[carer_idx] = father, mother, carer
            return out

        household = scatter(np.arange(nh), np.arange(nh), carer_h)
        # Most parents were registered in the child's county; some married in from elsewhere in Chongqing.
        own_county = self.v_county[self.h_village[household]]
        elsewhere = rng.random(n_people) < 0.12
        self.p = _People(
            household=household,
            role=scatter(0, 1, 2),
            male=scatter(True, False, carer_male),
            birth=scatter(father_birth, mother_birth, carer_birth),
            surname=scatter(father_surname, mother_surname, carer_surname),
            kind=scatter(self.h_father_kind, self.h_mother_kind, carer_kind),
            place=np.where(elsewhere, rng.integers(0, len(self.places), n_people), own_county),
            grandparent=grandparent,
        )
        self.np_ = n_people
        self.h_father_surname = father_surname
        self.h_mother_surname = mother_surname

    # -- names ------------------------------------------------------------------------------------------------

    def _given(self, pool: _NamePool, male: NDArray, two_share: float) -> tuple[NDArray, NDArray]:
        rng, n = self.rng, len(male)
        lo = np.where(male, pool.male[0], pool.female[0])
        hi = np.where(male, pool.male[1], pool.female[1])
        first = rng.integers(lo, hi)
        second = np.where(rng.random(n) < two_share, rng.integers(lo, hi), len(pool.chars) - 1)
        return first, second

    def names(self) -> None:
        sur = _surnames()
        adults = _name_pool(names.ADULT_MALE, names.ADULT_FEMALE)
        g1, g2 = self._given(adults, self.p.male, names.TWO_CHAR_SHARE_ADULT)
        self.p_name = (sur.chars[self.p.surname] + adults.chars[g1] + adults.chars[g2]).tolist()

        kids = _name_pool(names.CHILD_MALE, names.CHILD_FEMALE)
        # Children take the father's surname; some second children take the mother's.
        mothers = (self.c_pos > 0) & (self.rng.random(self.n) < 0.08)
        surname = np.where(mothers, self.h_mother_surname[self.c_household], self.h_father_surname[self.c_household])
        g1, g2 = self._given(kids, self.c_male, names.TWO_CHAR_SHARE_CHILD)
        self.c_name = (sur.chars[surname] + kids.chars[g1] + kids.chars[g2]).tolist()
        self.c_pinyin = (sur.pinyin[surname] + kids.pinyin[g1] + kids.pinyin[g2]).tolist()
        self.c_initials = (sur.initials[surname] + kids.initials[g1] + kids.initials[g2]).tolist()

    # -- ID numbers and phones ------------------------------------------------------------------------------

    def id_numbers(self) -> None:
        """Valid GB 11643 numbers for children and people at once, unique within the run.

        Serial numbers are ranked within (place, birth date, sex), so no two people share one; the check
        character is the ISO 7064 MOD 11-2 of the weighted digit sums. Numbers are built as a byte matrix.
        """
        rng = self.rng
        place = np.r_[self.v_county[self.c_village], self.p.place]
        birth = np.r_[self.c_birth, self.p.birth]
        male = np.r_[self.c_male, self.p.male].astype(np.int64)
        keys = (place * (len(self.days.year) + 1) + birth) * 2 + male
        group, rank = _group_rank(keys)
        if int(rank.max()) >= _SERIAL_SLOTS:
            raise SeedError(
                "serials_exhausted",
                "同一区县同一出生日期的人数过多，身份证顺序码不够分配，请减少儿童数量或增加区县",
                "too many people born on the same day in one county for unique ID serial numbers; "
                "lower --children or add districts",
            )
        offset = rng.integers(0, _SERIAL_SLOTS, int(group.max()) + 1)
        # A stride coprime with the (prime) slot count spreads ranks over the slots without collisions.
        slot = (offset[group] + rank * 7) % _SERIAL_SLOTS
        serial = 2 * slot + 1 + (1 - male)  # odd for men, even for women, never 000
        serial_digits = np.stack([serial // 100, serial // 10 % 10, serial % 10], axis=1)
        total = self.place_sum[place] + self.days.id_sum[birth] + serial_digits @ _ID_WEIGHTS[14:]
        matrix = np.empty((len(place), 18), dtype=np.uint8)
        matrix[:, :6] = self.place_digits[place]
        matrix[:, 6:14] = self.days.digits[birth]
        matrix[:, 14:17] = serial_digits + ord("0")
        matrix[:, 17] = _ID_CHECK[total % 11]
        numbers = _strings(matrix)
        matrix[:, 6:14] = _STAR  # the mask (idnumber.mask): place and last four kept
        masks = _strings(matrix)
        n = self.n
        self.c_id, self.p_id = numbers[:n], numbers[n:]
        self.c_id_mask, self.p_id_mask = masks[:n], masks[n:]

    def phones(self) -> None:
        rng, p = self.rng, self.p
        self.has_phone = ~np.isin(p.kind, _NO_PHONE) & (rng.random(self.np_) < np.where(p.role == 2, 0.75, 0.96))
        k = int(self.has_phone.sum())
        matrix = np.empty((k, 11), dtype=np.uint8)
        matrix[:, :3] = _ascii(names.PHONE_PREFIXES, 3)[rng.integers(0, len(names.PHONE_PREFIXES), k)]
        matrix[:, 3:] = rng.integers(0, 10, (k, 8), dtype=np.uint8) + ord("0")
        self.phone_numbers = _strings(matrix)
        matrix[:, 3:7] = _STAR  # idnumber.mask_phone
        self.phone_masks = _strings(matrix)

    def protect_start(self) -> None:
        """Hand the ID numbers and phones to the crypto runner: encryption and the ID blind index are the only
        per-value work; workers start on it while this process goes on with the other stages."""
        self.id_values = self.c_id + self.p_id
        step = 10_000
        jobs: list[_Job] = [("id", self.id_values[part]) for part in _chunks(len(self.id_values), step)]
        self.n_id_jobs = len(jobs)
        jobs += [("phone", self.phone_numbers[part]) for part in _chunks(len(self.phone_numbers), step)]
        self.runner.start(jobs)

    def protect_finish(self) -> None:
        jobs = len(self.runner.jobs)
        tokens, digests = self.runner.finish(lambda claimed: self._report(0.2 + 0.8 * claimed / max(1, jobs)))
        id_end = int(self.runner.token_at[self.n_id_jobs])
        enc = _split(tokens[:id_end], len(self.id_values))
        phone_enc = _split(tokens[id_end:], len(self.phone_numbers))
        bidx = _split(digests, len(self.id_values))
        n = self.n
        self.c_enc, self.p_enc = enc[:n], enc[n:]
        self.c_bidx, self.p_bidx = bidx[:n], bidx[n:]
        p_phone_enc = np.full(self.np_, "", dtype=object)
        p_phone_mask = np.full(self.np_, "", dtype=object)
        p_phone_enc[self.has_phone] = phone_enc
        p_phone_mask[self.has_phone] = self.phone_masks
        self.p_phone_enc, self.p_phone_mask = p_phone_enc.tolist(), p_phone_mask.tolist()

    # -- statuses -------------------------------------------------------------------------------------------

    def statuses(self) -> None:
        rng, ref, p = self.rng, self.ref, self.p
        n = self.np_
        kind = p.kind
        h = p.household
        youngest, eldest = self.h_youngest[h], self.h_eldest[h]

        def days_ago(lo: int, hi: int) -> NDArray:
            return ref - rng.integers(lo, hi, n)

        since = np.full(n, -1)
        until = np.full(n, -1)
        since = np.where(kind == AWAY, days_ago(45, 3650), since)  # some < 6 months: not yet 留守
        since = np.where(kind == DEAD, np.clip(days_ago(30, 4000), youngest, ref - 1), since)
        since = np.where(kind == MISSING, np.clip(days_ago(730, 4000), eldest, ref - 1), since)
        since = np.where(kind == ILL, days_ago(60, 2500), since)
        since = np.where(kind == PRISON, days_ago(60, 2000), since)
        until = np.where(kind == PRISON, ref + rng.integers(90, 3000, n), until)
        since = np.where(kind == REHAB, days_ago(30, 700), since)
        until = np.where(kind == REHAB, since + 730, until)  # compulsory isolation lasts two years
        since = np.where(kind == LOST, days_ago(40, 2500), since)
        since = np.where(np.isin(kind, [REVOKED, DEPORTED]), days_ago(60, 2000), since)
        since = np.where(kind == DIVORCED, np.clip(days_ago(90, 4000), eldest, ref - 1), since)

        # Work places: mostly far away (Guangdong, Zhejiang, the main city); some in the home county.
        county = self.v_county[self.h_village[h]]
        work_values, work_p = _weights(names.WORK_PLACES)
        local_names = [f"重庆市{self.county_names[code]}" for code in self.places[: len(self.county_names)]]
        place_table = np.array([*work_values, *local_names, ""], dtype=object)
        local = rng.random(n) < 0.12
        place = np.where(local, len(work_values) + county, rng.choice(len(work_values), n, p=work_p))
        place = np.where(kind == AWAY, place, len(place_table) - 1)
        # cross[place, county]: whether working there is outside the family's county (跨县).
        cross = np.array([[name != home for home in local_names] for name in place_table.tolist()], dtype=np.int64)
        cross_county = np.where(kind == AWAY, 1 + cross[place, county], 0)

        dis_values, dis_p = _weights(names.DISABILITY_TYPES)
        dis_table = np.array([*dis_values, ""], dtype=object)
        dis_type = np.where(kind == DISABLED, rng.choice(len(dis_values), n, p=dis_p), len(dis_values))
        # 重残: grade 1–2 of any kind, or 3–4 for intellectual and mental disability.
        mental = np.isin(dis_table[dis_type], ["智力", "精神"])
        grade = np.where(mental, rng.integers(1, 5, n), rng.integers(1, 3, n))
        grade = np.where(kind == DISABLED, grade, 0)

        # Some parents at home came back from working away: an earlier status, ended (a child leaving 留守).
        returned = np.flatnonzero((kind == HOME) & (p.role < 2) & (rng.random(n) < 0.18))
        r_until = ref - rng.integers(30, 700, len(returned))
        r_since = ref - rng.integers(800, 4000, len(returned))
        since[returned] = r_until
        r_place = rng.choice(len(work_values), len(returned), p=work_p)

        person = np.r_[np.arange(n), returned]
        order = np.argsort(person * 2 + np.r_[np.ones(n, np.int64), np.zeros(len(returned), np.int64)])
        cols = {
            "person": person,
            "kind": np.r_[kind, np.full(len(returned), AWAY)],
            "since": np.r_[since, r_since],
            "until": np.r_[until, r_until],
            "place": np.r_[place, r_place],
            "cross": np.r_[cross_county, 1 + cross[r_place, county[returned]]],
            "dis_type": np.r_[dis_type, np.full(len(returned), len(dis_values))],
            "grade": np.r_[grade, np.zeros(len(returned), np.int64)],
        }
        self.s = {k: v[order] for k, v in cols.items()}
        self.s_place_table = place_table
        self.s_dis_table = dis_table

    # -- children's own facts -----------------------------------------------------------------------------

    def child_facts(self) -> None:
        rng, n, age = self.rng, self.n, self.c_age
        disabled = rng.random(n) < 0.025
        ill = rng.random(n) < 0.008
        dis_values, dis_p = _weights(names.DISABILITY_TYPES)
        dis_table = np.array([*dis_values, ""], dtype=object)
        self.c_dis_type = dis_table[np.where(disabled, rng.choice(len(dis_values), n, p=dis_p), -1)].tolist()
        grade_table = np.array([None, 1, 2, 3, 4], dtype=object)
        self.c_dis_grade = grade_table[
            np.where(disabled, rng.choice([1, 2, 3, 4], n, p=[0.2, 0.3, 0.3, 0.2]), 0)
        ].tolist()
        illness_table = np.array([*names.SERIOUS_ILLNESSES, ""], dtype=object)
        self.c_illness = illness_table[np.where(ill, rng.integers(0, len(names.SERIOUS_ILLNESSES), n), -1)].tolist()
        self.c_health = np.array(_HEALTH, dtype=object)[disabled.astype(int) + 2 * ill].tolist()

        # Schooling by age on the reference date (the school year starts in September).
        community = self.v_community[self.c_village]
        u = rng.random(n)
        school = np.full(n, S_NONE)
        grade = np.zeros(n, dtype=np.int64)
        schooling = np.where(age < 6, 1, 2)
        kinder = (age >= 3) & (age < 6) & (u < 0.82)
        school = np.where(kinder, S_KINDERGARTEN, school)
        grade = np.where(kinder, age - 2, grade)
        primary = (age >= 6) & (age < 12)
        school = np.where(primary, np.where(~community & (u < 0.35), S_VILLAGE_PRIMARY, S_PRIMARY), school)
        grade = np.where(primary, age - 2, grade)
        junior = (age >= 12) & (age < 15)
        school = np.where(junior, S_JUNIOR, school)
        grade = np.where(junior, age - 2, grade)
        senior = age >= 15
        school = np.where(senior, np.where(u < 0.62, S_SENIOR, S_VOCATIONAL), school)
        grade = np.where(senior, np.where(u < 0.62, age - 2, age + 1), grade)
        # Dropouts among teenagers; pupils with a serious illness often suspend schooling.
        dropout = (age >= 12) & (rng.random(n) < np.where(age >= 15, 0.08, 0.015))
        suspended = (age >= 6) & ~dropout & (rng.random(n) < np.where(ill, 0.3, 0.004))
        schooling = np.where(dropout, 3, np.where(suspended, 4, schooling))
        school = np.where(dropout, S_NONE, school)
        grade = np.where(dropout, 0, grade)
        boarding_p = np.select(
            [school == S_JUNIOR, school == S_SENIOR, school == S_VOCATIONAL, school >= S_PRIMARY],
            [0.55, 0.85, 0.8, np.where(community, 0.03, 0.12)],
            0.0,
        )
        self.c_boarding = (rng.random(n) < boarding_p).tolist()
        self.c_schooling = np.array(_SCHOOLING, dtype=object)[schooling].tolist()
        self.c_grade = np.array(_GRADE_NAMES, dtype=object)[grade].tolist()
        self.c_school = self._school_table()[self.c_village, school].tolist()

        status = rng.choice(3, n, p=[0.92, 0.06, 0.02])
        self.c_status = np.array(_STATUS, dtype=object)[status].tolist()
        exited = status == 2
        reasons = np.array([*names.EXIT_REASONS, ""], dtype=object)
        self.c_exit_reason = reasons[np.where(exited, rng.integers(0, len(names.EXIT_REASONS), n), -1)].tolist()
        self.c_exit_date = self.days.iso[np.where(exited, self.ref - rng.integers(10, 365, n), -1)].tolist()

        # Ethnicity follows the county and township: Tujia and Miao autonomous areas of south-east Chongqing.
        self.c_ethnicity = self._ethnicity()[self.c_household].tolist()

    def _school_table(self) -> NDArray:
        """Per village, the school name for each school kind (column index), "" for none."""
        rows = []
        for v in self.v:
            t, county = v.township, v.township.county_name
            short = re.sub(r"(土家族|苗族)*(街道|镇|乡)$", "", t.name) or t.name
            rows.append(
                [
                    "",
                    f"{t.name}中心幼儿园",
                    f"{t.name}中心小学",
                    f"{t.name}{v.name}小学",
                    f"{county}{short}中学",
                    f"{county}第{'一二'[int(v.code[6:9]) % 2]}中学",
                    f"{county}职业教育中心",
                ]
            )
        return np.array(rows, dtype=object)

    def _ethnicity(self) -> NDArray:
        table = np.array(["汉族", "土家族", "苗族"], dtype=object)
        probs = []
        for v in self.v:
            county, town = v.township.county_name, v.township.name
            if "土家族" in county or "苗族" in county:
                tujia = 0.55 if "土家族" in county else 0.2
                miao = 0.3 if "苗族" in county else 0.03
            elif "土家族" in town or "苗族" in town:
                tujia, miao = (0.45, 0.05) if "土家族" in town else (0.1, 0.4)
            else:
                tujia, miao = 0.025, 0.005
            probs.append((tujia, tujia + miao))
        cum = np.array(probs)[self.h_village]
        u = self.rng.random(self.nh)
        return table[np.where(u < cum[:, 0], 1, np.where(u < cum[:, 1], 2, 0))]

    # -- tables ---------------------------------------------------------------------------------------------

    def tables(self) -> SeedData:
        """Columns into ``Table``s; the encrypted columns last, so the workers have the most time."""
        b, p, s, rng = self.bases, self.p, self.s, self.rng
        nh, n, n_people = self.nh, self.n, self.np_
        iso = self.days.iso
        village_codes = np.array([v.code for v in self.v], dtype=object)
        demo = Constant(True)
        h_ids = np.arange(b.household, b.household + nh)
        p_ids = np.arange(b.person, b.person + n_people)
        c_ids = np.arange(b.child, b.child + n)

        # Households: number = village code + sequence; address = village + 组/号, or road/号 in a community.
        _, h_seq = _group_rank(self.h_village)
        width = max(4, len(str(int(h_seq.max()) + 1)))
        h_no = _strings(np.hstack([_ascii(village_codes.tolist(), 12)[self.h_village], _digits(h_seq + 1, width)]))
        prefix = np.array([f"重庆市{v.township.county_name}{v.township.name}{v.name}" for v in self.v], dtype=object)
        roads = np.array(names.ROADS, dtype=object)
        groups = np.array([f"{i}组" for i in range(1, 13)], dtype=object)
        doors = np.array([f"{i}号" for i in range(1, 201)], dtype=object)
        h_comm = self.v_community[self.h_village]
        street = np.where(h_comm, roads[rng.integers(0, len(roads), nh)], groups[rng.integers(0, 12, nh)])
        h_address = prefix[self.h_village] + street + doors[rng.integers(0, 200, nh)]
        h_hukou = np.where(
            h_comm,
            np.where(rng.random(nh) < 0.7, HukouType.RESIDENT.value, HukouType.NON_AGRICULTURAL.value),
            HukouType.AGRICULTURAL.value,
        ).astype(object)
        households = Table(
            Household,
            nh,
            {
                "id": range(b.household, b.household + nh),
                "household_no": h_no,
                "hukou_type": h_hukou.tolist(),
                "village_id": village_codes[self.h_village].tolist(),
                "address": h_address.tolist(),
                "is_demo": demo,
            },
        )

        ns = len(s["person"])
        statuses = Table(
            PersonStatus,
            ns,
            {
                "id": range(b.status, b.status + ns),
                "person_id": p_ids[s["person"]].tolist(),
                "kind": np.array(KINDS, dtype=object)[s["kind"]].tolist(),
                "since": iso[s["since"]].tolist(),
                "until": iso[s["until"]].tolist(),
                "work_place": self.s_place_table[s["place"]].tolist(),
                "cross_county": np.array([None, False, True], dtype=object)[s["cross"]].tolist(),
                "disability_type": self.s_dis_table[s["dis_type"]].tolist(),
                "disability_grade": np.array([None, 1, 2, 3, 4], dtype=object)[s["grade"]].tolist(),
            },
        )
        relations = self._relations(c_ids, p_ids)
        benefits = self._benefits(h_ids, c_ids, h_comm)

        # Child numbers follow registration's scheme (C + the id in 11 digits), so they cannot collide with
        # registered children; built as bytes, checked against the scheme itself.
        child_no = _strings(np.hstack([np.full((n, 1), ord("C"), dtype=np.uint8), _digits(c_ids, 11)]))
        if child_no[0] != child_no_for(int(c_ids[0])):
            child_no = [child_no_for(pk) for pk in c_ids.tolist()]
        c_address = h_address[self.c_household].tolist()
        child_columns: dict[str, Sequence[Any] | Constant] = {
            "id": range(b.child, b.child + n),
            "child_no": child_no,
            "name": self.c_name,
            "name_pinyin": self.c_pinyin,
            "name_initials": self.c_initials,
            "sex": np.where(self.c_male, "M", "F").astype(object).tolist(),
            "birth_date": iso[self.c_birth].tolist(),
            "ethnicity": self.c_ethnicity,
            "id_number_enc": [],
            "id_number_bidx": [],
            "id_number_mask": self.c_id_mask,
            "village_id": village_codes[self.c_village].tolist(),
            "household_id": h_ids[self.c_household].tolist(),
            "hukou_type": h_hukou[self.c_household].tolist(),
            "hukou_address": c_address,
            "current_address": c_address,
            "health_status": self.c_health,
            "disability_type": self.c_dis_type,
            "disability_grade": self.c_dis_grade,
            "serious_illness": self.c_illness,
            "schooling": self.c_schooling,
            "school_name": self.c_school,
            "grade": self.c_grade,
            "boarding": self.c_boarding,
            "status": self.c_status,
            "exit_reason": self.c_exit_reason,
            "exit_date": self.c_exit_date,
            "version": Constant(1),
            "is_demo": demo,
            "created_at": Constant(self.created_at),
            "updated_at": Constant(self.created_at),
        }
        person_columns: dict[str, Sequence[Any] | Constant] = {
            "id": range(b.person, b.person + n_people),
            "name": self.p_name,
            "sex": np.where(p.male, "M", "F").astype(object).tolist(),
            "birth_date": iso[p.birth].tolist(),
            "id_number_enc": [],
            "id_number_bidx": [],
            "id_number_mask": self.p_id_mask,
            "phone_enc": [],
            "phone_mask": [],
            "household_id": h_ids[p.household].tolist(),
            "is_demo": demo,
        }

        self.protect_finish()
        child_columns["id_number_enc"], child_columns["id_number_bidx"] = self.c_enc, self.c_bidx
        person_columns["id_number_enc"], person_columns["id_number_bidx"] = self.p_enc, self.p_bidx
        person_columns["phone_enc"], person_columns["phone_mask"] = self.p_phone_enc, self.p_phone_mask
        return SeedData(
            villages=self.v,
            households=households,
            people=Table(Person, n_people, person_columns),
            statuses=statuses,
            children=Table(Child, n, child_columns),
            relations=relations,
            benefits=benefits,
        )

    def _relations(self, c_ids: NDArray, p_ids: NDArray) -> Table:
        """Father, mother and (when no parent is at home) the entrusted carer of each child, in that order."""
        n, hh = self.n, self.c_household
        f_guardian = ~np.isin(self.h_father_kind[hh], _NOT_GUARDIAN)
        m_guardian = ~np.isin(self.h_mother_kind[hh], _NOT_GUARDIAN)
        with_carer = np.flatnonzero(self.h_carer[hh])
        carer_person = self.h_carer_person[hh[with_carer]]
        # The carer is the guardian when no parent can be (orphans, revoked guardianship).
        carer_guardian = ~(f_guardian | m_guardian)[with_carer]
        grandparent = np.zeros(self.np_, dtype=bool)
        grandparent[self.h_carer_person[self.carer_households]] = self.p.grandparent
        carer_relation = np.array(
            [ChildRelation.Relation.GRANDPARENT.value, ChildRelation.Relation.OTHER_RELATIVE.value], dtype=object
        )[(~grandparent[carer_person]).astype(int)]
        child = np.r_[np.arange(n), np.arange(n), with_carer]
        order = np.argsort(child, kind="stable")
        relation = np.r_[
            np.full(n, ChildRelation.Relation.FATHER.value, dtype=object),
            np.full(n, ChildRelation.Relation.MOTHER.value, dtype=object),
            carer_relation,
        ]
        nr = len(order)
        return Table(
            ChildRelation,
            nr,
            {
                "id": range(self.bases.relation, self.bases.relation + nr),
                "child_id": c_ids[child[order]].tolist(),
                "person_id": p_ids[np.r_[self.h_father[hh], self.h_mother[hh], carer_person][order]].tolist(),
                "relation": relation[order].tolist(),
                "is_guardian": np.r_[f_guardian, m_guardian, carer_guardian][order].tolist(),
                "is_entrusted_carer": np.r_[np.zeros(2 * n, dtype=bool), np.ones(len(with_carer), dtype=bool)][
                    order
                ].tolist(),
            },
        )

    def _benefits(self, h_ids: NDArray, c_ids: NDArray, h_comm: NDArray) -> Table:
        """低保 and 特困 for households in hardship; orphan and unsupported-child allowances per child."""
        rng, ref, nh, n = self.rng, self.ref, self.nh, self.n
        f, m = self.h_father_kind, self.h_mother_kind
        orphan = np.isin(f, [DEAD, MISSING]) & np.isin(m, [DEAD, MISSING])
        unsupported = ~orphan & np.isin(f, _QUALIFYING) & np.isin(m, _QUALIFYING)
        hardship_kinds = [*_QUALIFYING, INCAPABLE, DIVORCED]
        hardship = np.isin(f, hardship_kinds) | np.isin(m, hardship_kinds)
        dibao = rng.random(nh) < np.where(orphan | unsupported, 0.5, np.where(hardship, 0.4, 0.05))
        tekun = (orphan | unsupported) & ~dibao & (rng.random(nh) < 0.4)
        kind = np.where(
            tekun,
            BenefitEnrolment.Kind.TEKUN.value,
            np.where(h_comm, BenefitEnrolment.Kind.URBAN_DIBAO.value, BenefitEnrolment.Kind.RURAL_DIBAO.value),
        ).astype(object)
        amount = np.where(tekun, 975, np.where(h_comm, 750, 610))
        hb = np.flatnonzero(dibao | tekun)
        h_start = ref - rng.integers(60, 2900, len(hb))
        ended = rng.random(len(hb)) < 0.06
        h_end = np.where(ended, np.minimum(h_start + rng.integers(365, 1500, len(hb)), ref - 1), -1)

        hh = self.c_household
        c_orphan, c_unsupported = orphan[hh], unsupported[hh]
        enrolled = (c_orphan & (rng.random(n) < 0.9)) | (c_unsupported & (rng.random(n) < 0.8))
        cb = np.flatnonzero(enrolled)
        c_kind = np.where(
            c_orphan[cb], BenefitEnrolment.Kind.ORPHAN.value, BenefitEnrolment.Kind.UNSUPPORTED.value
        ).astype(object)
        c_start = np.maximum(ref - rng.integers(30, 1800, len(cb)), self.c_birth[cb])
        nb = len(hb) + len(cb)
        return Table(
            BenefitEnrolment,
            nb,
            {
                "id": range(self.bases.benefit, self.bases.benefit + nb),
                "household_id": h_ids[hb].tolist() + [None] * len(cb),
                "child_id": [None] * len(hb) + c_ids[cb].tolist(),
                "kind": kind[hb].tolist() + c_kind.tolist(),
                "start": self.days.iso[np.r_[h_start, c_start]].tolist(),
                "end": self.days.iso[np.r_[h_end, np.full(len(cb), -1)]].tolist(),
                # 2024-08 standards (渝民发〔2024〕9号): 农村低保 610, 城市低保 750, 特困 975, 孤儿/事实无人抚养 1625.
                "monthly_amount": amount[hb].tolist() + [1625] * len(cb),
            },
        )

    def run(self) -> SeedData:
        self.runner = _CryptoRunner(_Protector(), self.workers)
        try:
            # ID numbers and phones first, so the encryption workers start as early as possible.
            for stage in (self.households, self.births, self.people, self.id_numbers, self.phones):
                stage()
            self.protect_start()
            self.names()
            self.statuses()
            self.child_facts()
            return self.tables()
        finally:
            self.runner.close()


def generate(
    villages: Sequence[VillagePlan],
    *,
    seed: int,
    children: int,
    reference_date: dt.date = REFERENCE_DATE,
    id_bases: IdBases | None = None,
    places: Sequence[str] = (),
    created_at: Any = None,
    progress: ProgressFactory | None = None,
    workers: int | None = None,
) -> SeedData:
    """All rows of a seed run, in memory, as columns. Pure apart from the encryption nonces.

    ``places`` are 6-digit county codes parents may come from besides the villages' own counties;
    ``created_at`` is the value written to ``Child.created_at``/``updated_at`` (already adapted to the
    database by the caller). ``workers``: processes that encrypt next to this one (None: one per further
    core, for runs big enough to pay for them; 0: none).
    """
    if children < 1:
        raise SeedError("bad_children", "儿童数量应至少为1", "--children must be at least 1")
    if workers is None:
        # About three values to encrypt per child (its ID, its parents' IDs and phones).
        workers = min(_cpu_count() - 1, 7) if 3 * children >= PARALLEL_THRESHOLD else 0
    bar = (progress or _no_progress)(children, "生成 generating", "children")
    generator = _Generator(
        villages,
        seed=seed,
        children=children,
        reference_date=reference_date,
        id_bases=id_bases or IdBases(),
        places=places,
        created_at=created_at if created_at is not None else timezone.now(),
        progress=bar,
        workers=workers,
    )
    # Millions of new tuples and strings would trigger the cyclic collector over and over; none of them can
    # form a cycle, so collection is paused for the run.
    collecting = gc.isenabled()
    gc.disable()
    try:
        data = generator.run()
        bar.update(children - generator.reported)
        return data
    finally:
        if collecting:
            gc.enable()
        bar.close()


# --- database -----------------------------------------------------------------------------------------------


def resolve_districts(codes: Sequence[str]) -> list[Region]:
    """The county-level regions named by 6- or 12-digit codes; refuse anything else before writing."""
    if not codes:
        raise SeedError("no_districts", "请至少指定一个区县", "give at least one district code")
    wanted: list[str] = []
    for raw in codes:
        text = raw.strip()
        if not (text.isdigit() and len(text) in (6, 12)):
            raise SeedError(
                "bad_district",
                f"区县代码应为6位或12位数字：{text}",
                f"district code must have 6 or 12 digits: {text!r}",
            )
        code = regioncode.normalise(text)
        if code not in wanted:
            wanted.append(code)
    found = {r.code: r for r in Region.objects.filter(code__in=wanted)}
    regions: list[Region] = []
    for code in wanted:
        region = found.get(code)
        if region is None or region.level != Region.Level.COUNTY:
            raise SeedError(
                "unknown_district",
                f"区县代码不存在或不是区县级：{code[:6]}",
                f"unknown district {code[:6]}: not a county-level region in the region table",
            )
        if not region.is_active:
            raise SeedError(
                "inactive_district",
                f"区县已撤销或合并：{region.name}（{code[:6]}）",
                f"district {code[:6]} is no longer active (merged or abolished)",
            )
        regions.append(region)
    return regions


def load_townships(districts: Sequence[Region]) -> list[Township]:
    rows = (
        Region.objects.filter(level=Region.Level.TOWNSHIP, parent__in=districts, is_active=True, is_demo=False)
        .order_by("code")
        .values_list("code", "name", "parent_id")
    )
    by_code = {d.code: d for d in districts}
    townships = [Township(code, name, parent, by_code[parent].name) for code, name, parent in rows]
    missing = sorted(set(by_code) - {t.county_code for t in townships})
    if missing:
        raise SeedError(
            "no_townships",
            f"区县下没有乡镇街道：{'、'.join(c[:6] for c in missing)}",
            f"no townships under district(s) {', '.join(c[:6] for c in missing)}",
        )
    return townships


def county_codes() -> list[str]:
    """6-digit codes of Chongqing's current counties, where parents may have been registered."""
    return [
        code[:6]
        for code in Region.objects.filter(level=Region.Level.COUNTY, is_active=True, code__startswith="50")
        .order_by("code")
        .values_list("code", flat=True)
    ]


def ensure_villages(plans: Sequence[VillagePlan]) -> tuple[list[VillagePlan], int]:
    """Insert the planned villages that are missing; existing codes keep their row (and name)."""
    existing = dict(Region.objects.filter(code__in=[p.code for p in plans]).values_list("code", "name"))
    new = [p for p in plans if p.code not in existing]
    Region.objects.bulk_create(
        [
            Region(
                code=p.code,
                name=p.name,
                level=Region.Level.VILLAGE,
                parent_id=p.township.code,
                is_demo=True,
                source="demo",
            )
            for p in new
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    resolved = [VillagePlan(p.code, existing.get(p.code, p.name), p.township) for p in plans]
    return resolved, len(new)


def demo_exists() -> bool:
    return Child.objects.filter(is_demo=True).exists()


def reset_demo() -> dict[str, int]:
    """Delete demo children, households, people and demo villages (except villages something still uses)."""
    deleted: dict[str, int] = {}
    # The seed's own tables first, set-based, so Django's collector has little left to load.
    for label, qs in (
        ("relations", ChildRelation.objects.filter(Q(child__is_demo=True) | Q(person__is_demo=True))),
        ("benefits", BenefitEnrolment.objects.filter(Q(child__is_demo=True) | Q(household__is_demo=True))),
        ("statuses", PersonStatus.objects.filter(person__is_demo=True)),
    ):
        deleted[label] = qs.delete()[0]
    # The ORM for the rest, so that other apps' rows hanging off a child (visits, groups, timeline…) follow their
    # own on_delete rules. In chunks: the collector puts every collected id into one statement (SET NULL
    # updates too), which overflows SQLite's limit on bound variables at city scale.
    for label, model in (("children", Child), ("people", Person), ("households", Household)):
        ids = list(model.objects.filter(is_demo=True).order_by("pk").values_list("pk", flat=True))
        deleted[label] = 0
        for part in _chunks(len(ids), RESET_CHUNK):
            counts = model.objects.filter(pk__in=ids[part]).only("pk").delete()[1]
            deleted[label] += counts.get(model._meta.label, 0)
    villages = Region.objects.filter(level=Region.Level.VILLAGE, is_demo=True)
    keep: set[str] = set()
    for rel in Region._meta.related_objects:
        if rel.on_delete in (models.PROTECT, models.RESTRICT) and (rel.one_to_many or rel.one_to_one):
            keep |= set(
                rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": villages}).values_list(
                    rel.field.attname, flat=True
                )
            )
    deleted["villages"] = villages.exclude(code__in=keep).delete()[0]
    return deleted


_TABLES: list[type[models.Model]] = [Household, Person, PersonStatus, Child, ChildRelation, BenefitEnrolment]


def _quoted(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def lock_and_read_id_bases() -> IdBases:
    """The next free id per table, past both the highest id and the sequence (ids of deleted rows stay
    unused, so old audit references never point at new rows). PostgreSQL locks the tables against
    concurrent inserts until the transaction ends; SQLite already holds its write lock (BEGIN IMMEDIATE)."""
    bases: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {', '.join(_quoted(m) for m in _TABLES)} IN SHARE ROW EXCLUSIVE MODE")
        for model in _TABLES:
            table = model._meta.db_table
            cursor.execute(f"SELECT MAX(id) FROM {_quoted(model)}")  # noqa: S608 - a model's table name
            used = cursor.fetchone()[0] or 0
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                if sequence:
                    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
                    last, called = cursor.fetchone()
                    used = max(used, last if called else last - 1)
            elif connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                used = max(used, row[0] if row else 0)
            bases.append(used + 1)
    return IdBases(*bases)


def _check_columns(table: Table) -> None:
    """Raw inserts bypass Python-side defaults: every column not written must be nullable or have a database
    default, so a field added to a model later fails here loudly instead of as a NOT NULL violation."""
    for f in table.model._meta.concrete_fields:
        if f.attname not in table.columns and not f.null and f.db_default is NOT_PROVIDED:
            raise RuntimeError(f"seed writer does not fill {table.model.__name__}.{f.attname}; update seed.py")


class _BulkLoad:
    """Secondary indexes (and on PostgreSQL foreign keys) are dropped before a big load and rebuilt after it:
    building an index once from sorted data, and checking a foreign key with one join, is several times
    faster than maintaining them row by row ("Populating a Database" in the PostgreSQL manual; the same holds
    for SQLite). Only for tables that receive more rows than they already hold, where a rebuild costs less
    than it saves. Everything happens inside the seed's transaction, so a failure restores the schema too.
    Primary keys and unique constraints stay: they also guard the load itself.
    """

    def __init__(self, tables: Sequence[Table]) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.indexes: list[tuple[str, str]] = []  # (name, CREATE statement)
        self.foreign_keys: list[tuple[str, str, str]] = []  # (table, name, definition)
        self.tables: list[str] = []
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {_quoted(table.model)}")  # noqa: S608 - a model's table
                if table.size > cursor.fetchone()[0]:
                    self.tables.append(table.model._meta.db_table)

    def drop(self) -> None:
        if not self.tables:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                # Pending deferred checks (the villages just inserted) would forbid altering the tables.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname",
                    [self.tables],
                )
                self.foreign_keys = list(cursor.fetchall())
                cursor.execute(
                    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary AND NOT indisunique "
                    "ORDER BY indrelid, indexrelid",
                    [self.tables],
                )
                self.indexes = list(cursor.fetchall())
                for table, name, _ in self.foreign_keys:
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
            else:
                placeholders = ", ".join(["%s"] * len(self.tables))
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
                    f"AND tbl_name IN ({placeholders}) ORDER BY tbl_name, name",
                    self.tables,
                )
                self.indexes = list(cursor.fetchall())
            for name, _ in self.indexes:
                cursor.execute(f"DROP INDEX {name if self.postgres else connection.ops.quote_name(name)}")

    def restore(self, progress: ProgressFactory) -> None:
        steps = len(self.indexes) + len(self.foreign_keys)
        if not steps:
            return
        bar = progress(steps, "索引 indexing", "step")
        try:
            with connection.cursor() as cursor:
                if self.postgres:
                    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # sorts in memory
                for _, statement in self.indexes:
                    cursor.execute(statement)
                    bar.update(1)
                for table, name, definition in self.foreign_keys:
                    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
                    bar.update(1)
                if self.postgres:
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are initially deferred
                    for table in self.tables:
                        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")  # plans fit the new size
        finally:
            bar.close()


def write(data: SeedData, *, progress: ProgressFactory | None = None, batch: int = 50_000) -> None:
    """Write all tables with the ids they carry (executemany on SQLite, COPY on PostgreSQL), rebuild what
    ``_BulkLoad`` dropped and move PostgreSQL's sequences past the new ids. Must run inside a transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("seed write must run inside a transaction")
    progress = progress or _no_progress
    tables = [t for t in data.tables() if t.size]
    for table in tables:
        _check_columns(table)
    connection.ensure_connection()
    raw: Any = connection.connection
    postgres = connection.vendor == "postgresql"
    bulk = _BulkLoad(tables)
    bulk.drop()
    if not postgres:
        # A big page cache keeps the pages of this transaction in memory instead of spilling them to the WAL.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cache_size = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA cache_size = -1000000")  # about 1 GB at most, given back below
    bar = progress(sum(t.size for t in tables), "写入 writing", "rows")
    try:
        for table in tables:
            name = _quoted(table.model)
            column_of = {f.attname: str(f.column) for f in table.model._meta.concrete_fields}
            columns = ", ".join(connection.ops.quote_name(column_of[f]) for f in table.fields)
            if postgres:
                with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                    for part in _chunks(table.size, batch):
                        for row in table.rows(part):
                            copy.write_row(row)
                        bar.update(part.stop - part.start)
            else:
                sql = f"INSERT INTO {name} ({columns}) VALUES ({', '.join('?' * len(table.fields))})"  # noqa: S608
                cursor = raw.cursor()
                try:
                    for part in _chunks(table.size, batch):
                        cursor.executemany(sql, table.rows(part))
                        bar.update(part.stop - part.start)
                finally:
                    cursor.close()
    finally:
        bar.close()
    bulk.restore(progress)
    with connection.cursor() as cursor:
        if postgres:
            for model in _TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {_quoted(model)}))",  # noqa: S608 - a model's table name
                    [model._meta.db_table],
                )
        else:
            cursor.execute(f"PRAGMA cache_size = {cache_size}")


def seed_demo(
    options: SeedOptions, *, progress: ProgressFactory | None = None, workers: int | None = None
) -> SeedResult:
    """Generate and write a demo data set in one transaction; refuse if demo children exist (unless reset)."""
    if options.children < 1:
        raise SeedError("bad_children", "儿童数量应至少为1", "--children must be at least 1")
    if options.villages_per_township < 0:
        raise SeedError("bad_villages", "每个乡镇的村社区数不能为负数", "--villages-per-township must be 0 or more")
    districts = resolve_districts(options.districts)
    with transaction.atomic():
        started = perf_counter()
        deleted: dict[str, int] = {}
        if options.reset:
            deleted = reset_demo()
        elif demo_exists():
            raise SeedError(
                "demo_exists",
                "已有演示数据；如需重新生成，请加 --reset（将删除现有演示数据）",
                "demo data already exists; run again with --reset to replace it",
            )
        reset_seconds = perf_counter() - started
        started = perf_counter()
        townships = load_townships(districts)
        plans = plan_villages(
            townships, seed=options.seed, children=options.children, per_township=options.villages_per_township
        )
        villages, created = ensure_villages(plans)
        bases = lock_and_read_id_bases()
        places = county_codes()
        village_seconds = perf_counter() - started

        started = perf_counter()
        data = generate(
            villages,
            seed=options.seed,
            children=options.children,
            reference_date=options.reference_date,
            id_bases=bases,
            places=places,
            created_at=connection.ops.adapt_datetimefield_value(timezone.now()),
            progress=progress,
            workers=workers,
        )
        generate_seconds = perf_counter() - started

        write_started = perf_counter()
        write(data, progress=progress)
        counts = data.counts()
        audit_record(
            actor=None,
            action="demo.seed",
            object_type="seed",
            summary=(
                f"生成演示数据：{counts['children']}名儿童，{counts['households']}户，"
                f"{counts['villages']}个村社区（种子{options.seed}）"
            ),
            after={
                **counts,
                "seed": options.seed,
                "districts": [d.code for d in districts],
                "villages_per_township": options.villages_per_township,
                "reference_date": options.reference_date,
                "villages_created": created,
                "deleted": deleted,
            },
        )
    # The commit belongs to the write: SQLite copies the WAL into the database file then.
    write_seconds = perf_counter() - write_started + village_seconds
    return SeedResult(
        counts=counts,
        villages_created=created,
        deleted=deleted,
        reset_seconds=reset_seconds,
        generate_seconds=generate_seconds,
        write_seconds=write_seconds,
    )
