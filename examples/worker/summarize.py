#!/usr/bin/env python3
"""A tiny example worker for `wrk.doc.summarizer` (org.acme.doc-summarizer).

Reads a document on stdin and prints its first sentences: enough to sign, verify and enroll
as a package (README.md, "The workflow in four steps"). Proctor never runs it: the hall decides
which worker may act, and attests that the package is the one its namespace owner signed.
"""

import re
import sys

MAX_SENTENCES = 2


def summarize(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(sentences[:MAX_SENTENCES])


if __name__ == "__main__":
    print(summarize(sys.stdin.read()))
