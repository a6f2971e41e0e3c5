"""Fixture documents for the hostile server: feeds and article pages, written for these tests.

Every text here is invented for the suite. Articles are long enough to count as articles
(trafilatura finds a body of several hundred characters); the security report is written
so the monitor stages it as a concrete step, which lets a test raise a real alert.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

FILLER = (
    "Officials at the port authority said the schedule for the coming season was settled "
    "after a long meeting with the ferry operators, who had asked for more evening crossings. "
    "The operators expect demand to rise once the new terminal opens, and the city plans to "
    "widen the road to the pier before the summer holidays begin. Residents were invited to "
    "comment on the plan at a public hearing next month."
)

SECURITY_STEP = [
    "Seoul suspended its military intelligence-sharing pact with Tokyo on Monday, the defence "
    "ministry said, after a Japanese patrol aircraft flew low over a South Korean destroyer "
    "near the disputed waters.",
    "South Korea formally notified Japan that it will halt the exchange of military "
    "intelligence under the GSOMIA agreement, a step officials in Seoul called unavoidable "
    "given the radar dispute.",
    "Tokyo protested the decision and summoned the South Korean ambassador, while the "
    "Japanese defence minister said the suspension would harm regional security and the "
    "bilateral relationship.",
    "Analysts said the move deepens the dispute between the two neighbours, which began "
    "over wartime labour rulings and export controls before spreading into security ties.",
]

COMMENT = (
    "Reader remark {n}: honestly this ferry timetable debate goes round in circles every "
    "year and nobody ever listens to the people who actually ride the boats at dawn. "
)


@dataclass(frozen=True)
class Item:
    """One feed entry; ``link=None`` leaves the link element out."""

    title: str
    link: str | None
    guid: str | None = None
    published: str | None = None  # the raw pubDate text; None: an hour ago; "": none


def rss(items: Sequence[Item], title: str = "Hostile Wire", now: datetime | None = None) -> str:
    """Return an RSS 2.0 document with these items."""
    stamp = format_datetime(now or datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{html.escape(title)}</title><link>http://127.0.0.1/</link>",
        "<description>Invented stories for the reliability suite.</description>",
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{html.escape(item.title)}</title>")
        if item.link is not None:
            parts.append(f"<link>{html.escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{html.escape(item.guid)}</guid>')
        if item.published != "":
            parts.append(f"<pubDate>{item.published or stamp}</pubDate>")
        parts.append("<description>An invented story.</description></item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)


def article(
    title: str,
    paragraphs: Sequence[str],
    *,
    head_extra: str = "",
    after: str = "",
    charset_meta: str | None = "utf-8",
    lang: str = "en",
) -> str:
    """Return an article page: a header, the body paragraphs, then ``after`` (comments...)."""
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{title}</title>{head_extra}'
        "</head><body><header><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"</header><main><article><h1>{title}</h1>{body}</article></main>{after}"
        "<footer>Copyright the Hostile Wire</footer></body></html>"
    )


def plain_story(tag: str) -> str:
    """Return an ordinary, unremarkable article page named by tag."""
    paragraphs = [f"{FILLER} This report is filed under {tag}.", FILLER.replace("season", "year")]
    return article(f"Ferry timetable settled for {tag}", paragraphs)


def security_story(title: str, outlet_line: str) -> str:
    """Return a report of a concrete security step between the two parties."""
    return article(title, [outlet_line, *SECURITY_STEP])


def comment_flood(times: int = 10) -> tuple[str, str]:
    """Return (page, a phrase that only the comments contain); comments are ``times`` longer."""
    story = "".join(SECURITY_STEP)
    comments = []
    n = 0
    while sum(len(c) for c in comments) < times * len(story):
        n += 1
        comments.append(
            f'<li class="comment"><span class="author">reader{n}</span>'
            f"<p>{COMMENT.format(n=n)}</p></li>"
        )
    after = (
        '<section id="comments" class="comments"><h2>Comments</h2><ol class="comment-list">'
        + "".join(comments)
        + "</ol></section>"
    )
    page = article("Seoul halts intelligence pact with Tokyo", SECURITY_STEP, after=after)
    return page, "Reader remark"


LATIN1_TITLE = "Café owners in Busan say “tourists are back”"
LATIN1_BODY = [
    "The owners of a café near the fish market said the number of visitors from across the "
    "strait had doubled since spring, and that their crème brûlée now sells out by noon.",
    FILLER,
]

JAPANESE_TITLE = "日韓の外相が電話会談、往来再開へ協議継続"
JAPANESE_BODY = [
    "日本と韓国の外相は十日夜、電話で会談し、両国間の往来を再開するための協議を続けることで"
    "一致した。外務省によると、会談はおよそ三十分にわたって行われた。",
    "両外相は、観光客や留学生の往来が地域の経済にとって大切だとの認識を共有した。次回は来月、"
    "東京で対面の会談を開く方向で調整している。",
    "専門家は、両国の関係改善には首脳同士の信頼だけでなく、自治体や市民の交流を積み重ねる"
    "ことが欠かせないと指摘している。港町の商店街では、歓迎の声が上がった。",
]

KOREAN_TITLE = "한일 외교장관, 서울에서 회담…인적 교류 확대 논의"
KOREAN_BODY = [
    "한국과 일본의 외교장관이 서울에서 만나 양국 국민의 왕래를 넓히는 방안을 논의했다. "
    "외교부는 회담이 한 시간 넘게 진행됐다고 밝혔다.",
    "두 장관은 관광객과 유학생 교류가 지역 경제에 도움이 된다는 데 뜻을 같이했으며, "
    "다음 달 도쿄에서 다시 만나기로 했다.",
    "전문가들은 관계 개선을 위해서는 정상 간 신뢰뿐 아니라 지방자치단체와 시민 사이의 교류가 "
    "꾸준히 이어져야 한다고 말했다. 부산의 상인들은 반가운 소식이라고 했다.",
]

NO_ARTICLE = (
    "<!DOCTYPE html><html><head><title>Section index</title></head><body>"
    "<nav><ul>"
    + "".join(f"<li><a href='/section/{n}'>Section {n}</a></li>" for n in range(40))
    + "</ul></nav><div class='gallery'>"
    + "".join(
        f"<figure><img src='/p{n}.jpg'><figcaption>Photo {n}</figcaption></figure>"
        for n in range(20)
    )
    + "</div></body></html>"
)

BILLION_LAUGHS_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n"
)


def billion_laughs(link: str) -> str:
    """Return a feed whose DTD would expand to a billion "lol"s, with one good entry."""
    return (
        BILLION_LAUGHS_DTD
        + '<rss version="2.0"><channel><title>&lol9;</title><link>http://127.0.0.1/</link>'
        + f"<item><title>&lol9;</title><link>{html.escape(link)}</link></item></channel></rss>"
    )
