import gzip
import json
from pathlib import Path

from extractors.evaluation.extraction import evaluate_comments, evaluate_extraction

PAGES = Path(__file__).parent / "fixtures" / "pages"
BODY = [
    "Officials from Seoul and Tokyo met on Monday to discuss the export rules that have "
    "strained trade between the neighbours since the summer.",
    "The talks ended without a joint statement, but both delegations said they would meet "
    "again before the end of the year to review progress.",
]
ARTICLE_PAGE = f"""<!DOCTYPE html><html lang="en"><head><title>Talks</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><p>{BODY[0]}</p><p>{BODY[1]}</p></article>
<footer>Copyright Example News</footer></body></html>"""


def write_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-8")))


def test_scrapinghub_layout_token_scores(tmp_path):
    write_gz(tmp_path / "html" / "aaa.html.gz", ARTICLE_PAGE)
    truth = {"aaa": {"articleBody": "\n".join(BODY) + " four words were missed", "url": ""}}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth))
    result = evaluate_extraction(tmp_path)
    tokens = len(" ".join(BODY).split())
    assert result["layout"] == "scrapinghub"
    assert result["pages"] == 1
    assert result["precision"] == 1.0
    assert result["recall"] == round(tokens / (tokens + 4), 4)
    assert result["f1"] == round(2 * result["recall"] / (1 + result["recall"]), 4)
    assert result["baseline_f1"] == result["f1"]
    assert result["pages_per_second"] > 0


def test_trafilatura_layout_segment_scores(tmp_path):
    write_gz(tmp_path / "eval" / "radar.html.gz", (PAGES / "comments_article.html").read_text())
    subset = {
        "https://news.example/radar": {
            "file": "radar.html",
            "with": ["hotline between their navies", "fire-control radar"],
            "without": ["fishing industry", "Leave a Reply"],
        }
    }
    full = dict(subset, **{"https://news.example/gone": {"file": "gone.html", "with": ["x"]}})
    (tmp_path / "evaldata.json").write_text(json.dumps(full))
    (tmp_path / "evaldata.subset.json").write_text(json.dumps(subset))
    result = evaluate_extraction(tmp_path)
    assert result["layout"] == "trafilatura"
    assert (result["pages"], result["segments"], result["satisfied"]) == (1, 4, 4)
    assert result["score"] == 1.0
    # Plain trafilatura keeps reader comments by default: the comment segment shows up.
    assert result["baseline_score"] == 0.75


def test_comment_leaks_count_own_words_not_quotes(tmp_path):
    quoting = (
        (PAGES / "comments_article.html")
        .read_text()
        .replace(
            "Comment number 0.",
            "Comment number 0. You wrote that both sides nevertheless agreed to set up a "
            "hotline between their navies, and I doubt it.",
        )
    )
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "quoting.html").write_text(quoting)
    leaky = ARTICLE_PAGE.replace(
        "</article>",
        "<p>Posted by a reader: my cousin in Busan says the ferry queues were twice as long "
        "as last year and nobody explained why.</p></article>",
    )
    (tmp_path / "html" / "leaky.html").write_text(leaky)
    records = [
        {
            "file": "html/quoting.html",
            "url": "https://news.example/radar",
            "comment_snippets": [
                "Comment number 0. You wrote that both sides nevertheless agreed to set up a "
                "hotline between their navies, and I doubt it. I have followed this dispute",
                "Comment number 3. Why does every article skip the role of the fishing industr",
            ],
        },
        {
            "file": "html/leaky.html",
            "url": None,
            "comment_snippets": [
                "Posted by a reader: my cousin in Busan says the ferry queues were twice as lo"
            ],
        },
    ]
    (tmp_path / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert evaluate_comments(tmp_path) == {
        "pages": 2,
        "leaks": 1,
        "leaked_pages": ["leaky.html"],
    }
