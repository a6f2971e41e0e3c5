"""A run's batches pass through Prefect whole: it must not walk their pages and records."""

from __future__ import annotations

from prefect.utilities.collections import visit_collection

from flows.stages.pipeline import Candidate, Extracted, Fetched, Page, Scored


def _page(n: int) -> Page:
    candidate = Candidate(f"https://wire.example/{n}", f"wire.example/{n}", "wire")
    return Page(candidate, b"<html>" + b"x" * 1000, "text/html", candidate.url)


def test_prefect_does_not_walk_into_a_batch() -> None:
    fetched = Fetched(tuple(_page(n) for n in range(100)), ())
    scored = Scored((), Extracted((), (), ()))
    visited: list[object] = []
    visit_collection(
        {"fetched": fetched, "scored": scored},
        lambda value: visited.append(value) or value,
        return_data=False,
    )
    kinds = {type(v).__name__ for v in visited}
    assert "Fetched" in kinds and "Scored" in kinds
    assert not kinds & {"Page", "Candidate", "bytes", "Extracted"}, kinds


def test_a_batch_shows_its_size_not_its_pages() -> None:
    fetched = Fetched(tuple(_page(n) for n in range(3)), ())
    assert repr(fetched) == "Fetched(pages=<3>, failures=<0>)"
    assert fetched == Fetched(fetched.pages, ()) and hash(fetched) == hash(
        Fetched(fetched.pages, ())
    )
