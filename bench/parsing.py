"""Benchmark: how many 卖/买 posts a second the post parser reads on one core. Goal: ≥ 5,000.

    .venv/bin/python bench/parsing.py                 # 3 seconds
    .venv/bin/python bench/parsing.py --seconds 10

The mix is the texts of tests/mailbox/post_cases.csv (the parser's table of real-looking
posts: Chinese and English, numerals, units, colloquial prices, bad input), shuffled and
repeated. The lexicon is the tests' own, padded with made-up words to the size of the real
one (about 300 products with their synonyms, local names, pinyin and English: 3,000 words).
It also times the slowest kind of post: 2,000 characters.
"""
from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # our `mailbox`, not the stdlib's

from mailbox.post_parsing import Lexicon, parse  # noqa: E402
from tests.mailbox.test_post_parsing import ENTRIES  # noqa: E402

CASES = ROOT / "tests" / "mailbox" / "post_cases.csv"
LEXICON_WORDS = 3000


def lexicon(rng: random.Random) -> Lexicon:
    """The tests' words and made-up ones (CJK and Latin) up to LEXICON_WORDS (and the plurals
    the lexicon forgives on top)."""
    words = list(ENTRIES)
    while len(words) < LEXICON_WORDS:
        if rng.random() < 0.7:
            word = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 4)))
        else:
            word = "".join(rng.choice("bcdfghjklmnpqrstwxyz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
        words.append((word, f"P_{len(words)}"))
    return Lexicon(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rng = random.Random(8)
    with CASES.open(encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    rng.shuffle(texts)
    lex = lexicon(rng)
    for text in texts:  # warm up (regex caches, first calls)
        parse(text, lex)

    posts, started, deadline = 0, time.perf_counter(), time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        for text in texts:
            parse(text, lex)
        posts += len(texts)
    seconds = time.perf_counter() - started

    timings = []
    for text in texts:
        t0 = time.perf_counter()
        parse(text, lex)
        timings.append((time.perf_counter() - t0) * 1e6)
    timings.sort()
    long_post = ("夏黑葡萄苗一年生200株3元一株，价格面议，" * 100)[:2000]
    t0 = time.perf_counter()
    parse(long_post, lex)
    long_ms = (time.perf_counter() - t0) * 1000

    print(f"posts in the mix: {len(texts)}, lexicon: {LEXICON_WORDS:,} words ({len(lex):,} forms with plurals)")
    print(f"posts parsed: {posts:,} in {seconds:.2f} s")
    print(f"posts/second: {posts / seconds:,.0f} (one core)")
    print(f"per post: median {statistics.median(timings):.0f} µs, p99 {timings[int(len(timings) * 0.99)]:.0f} µs, "
          f"max {timings[-1]:.0f} µs")
    print(f"a 2,000-character post: {long_ms:.1f} ms")


if __name__ == "__main__":
    main()
