"""The header alias table (config/headers.toml) and the matching of header cells to fields."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from pipelines.settings import config_path

__all__ = ["Field", "HeaderMatch", "fields", "fields_for", "match_header", "header_key", "bounds", "range_text",
           "KINDS", "KIND_NAMES"]

HEADERS_TOML = config_path("headers.toml")
KINDS = ("ledger", "plan", "monthly")
KIND_NAMES = {"ledger": "台账", "plan": "计划", "monthly": "月报"}

_WS = re.compile(r"\s+")
# a unit in brackets at the end of a header: 计划总投资(万元)
_UNIT = re.compile(r"^(.*?)\(([^()]*)\)$")
_UNIT_FACTORS = {
    # field unit -> written unit -> factor that turns a written value into the field unit
    "万元": {"万元": 1.0, "元": 1e-4, "亿元": 1e4, "千元": 0.1},
    "平方米": {"平方米": 1.0, "㎡": 1.0, "m2": 1.0, "m²": 1.0, "平米": 1.0, "万平方米": 1e4, "万㎡": 1e4, "万m2": 1e4},
}


@dataclass(frozen=True)
class Field:
    name: str                  # English snake_case
    header: str                # canonical Chinese header
    aliases: tuple[str, ...]
    type: str
    kinds: tuple[str, ...]
    required: tuple[str, ...]
    unit: str | None = None
    min: float | dt.date | None = None           # as written in headers.toml (see bounds())
    max: float | dt.date | str | None = None     # a number, a date, "current" (year) or "today" (date)
    min_exclusive: float | None = None
    additive: bool = False
    fill_down: bool = False

    @property
    def past_only(self) -> bool:
        """An actual date: it cannot lie in the future (its range ends today)."""
        return self.max == "today"
    default_zero: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeaderMatch:
    field: Field
    written_unit: str | None   # the unit the header states, when it states one
    factor: float              # multiply written values by this to get the field's unit


def header_key(text: object) -> str:
    """A header cell as compared: NFKC, no whitespace or line breaks, half-width brackets."""
    text = unicodedata.normalize("NFKC", str(text))
    text = _WS.sub("", text).replace("【", "(").replace("】", ")").replace("[", "(").replace("]", ")")
    return text.replace("﹙", "(").replace("﹚", ")")


@cache
def fields() -> tuple[Field, ...]:
    data = tomllib.loads(HEADERS_TOML.read_text(encoding="utf-8"))["fields"]
    out = []
    for name, spec in data.items():
        out.append(
            Field(
                name=name,
                header=spec["header"],
                aliases=tuple(spec.get("aliases", ())),
                type=spec["type"],
                kinds=tuple(spec["kinds"]),
                required=tuple(spec.get("required", ())),
                unit=spec.get("unit"),
                min=spec.get("min"),
                max=spec.get("max"),
                min_exclusive=spec.get("min_exclusive"),
                additive=spec.get("additive", False),
                fill_down=spec.get("fill_down", False),
                default_zero=tuple(spec.get("default_zero", ())),
            )
        )
    return tuple(out)


def fields_for(kind: str) -> tuple[Field, ...]:
    return tuple(f for f in fields() if kind in f.kinds)


@cache
def _by_key() -> dict[str, Field]:
    out: dict[str, Field] = {}
    for f in fields():
        for text in (f.header, *f.aliases):
            key = header_key(text)
            if key in out and out[key] is not f:
                raise ValueError(f"headers.toml: 「{text}」 names both {out[key].name} and {f.name}")
            out[key] = f
    return out


@cache
def match_header(text: object) -> HeaderMatch | None:
    """The field a header cell names, with the unit conversion its bracket asks for."""
    if text is None:
        return None
    key = header_key(text)
    if not key:
        return None
    hit = _by_key().get(key)
    if hit is not None:
        m = _UNIT.match(key)
        written = m.group(2) if m else None
        return HeaderMatch(hit, written, _factor(hit, written))
    m = _UNIT.match(key)
    if m:
        base, unit = m.group(1), m.group(2)
        hit = _by_key().get(base)
        if hit is not None:
            factor = _factor(hit, unit)
            return HeaderMatch(hit, unit, factor)
    return None


def _factor(f: Field, written: str | None) -> float:
    if not written or not f.unit:
        return 1.0
    return _UNIT_FACTORS.get(f.unit, {}).get(written, 1.0)


def _resolve(value, today: dt.date):
    if value == "today":
        return today
    if value == "current":
        return today.year
    return value


def bounds(f: Field, today: dt.date) -> tuple[object, object, bool]:
    """The plausible range of a field's values (headers.toml): (low, high, low excluded); a
    bound that is not given is None. Dates are dates, years and numbers numbers."""
    lo, strict = (f.min_exclusive, True) if f.min_exclusive is not None else (f.min, False)
    return _resolve(lo, today), _resolve(f.max, today), strict


_RANGE_UNIT = {"percent": "%", "year": " 年"}


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def range_text(f: Field, today: dt.date) -> str:
    """The range in a Chinese message: 「户数」应在 1–20000 之间."""
    lo, hi, strict = bounds(f, today)
    if f.type in ("date", "month"):
        text = f"「{f.header}」应在 {lo:%Y-%m-%d} 至 {hi:%Y-%m-%d} 之间"
        return text + ("(不能是未来的日期)" if hi == today else "")
    unit = _RANGE_UNIT.get(f.type) or (f" {f.unit}" if f.unit else "")
    if lo is not None and hi is not None and not strict:
        return f"「{f.header}」应在 {_num(lo)}–{_num(hi)}{unit}{' ' if unit in ('', '%') else ''}之间"
    if lo is not None and hi is not None:
        return f"「{f.header}」应大于 {_num(lo)} 且不超过 {_num(hi)}{unit}"
    if lo is not None:
        return f"「{f.header}」应{'大于' if strict else '不小于'} {_num(lo)}{unit}"
    return f"「{f.header}」应不超过 {_num(hi)}{unit}"
