"""Opposite-direction pairs: the same measure imposed and reversed, a summit held and called
off, a step and a threat of it, in English, Korean and Japanese.

Each item is our own wording. Each pair differs in the direction of its act, not in its
subject, so a decision made from which words occur cannot get both sides right.
"""

from __future__ import annotations

import pytest

from extractors.direction import DirectionReader, DirectionRules
from extractors.profile import load_profile
from extractors.stages import StageClassifier
from tests.support.paths import REPO

# (language, headline, lead, expected space, expected action or None)
Side = tuple[str, str, str, str | None]
PAIRS: dict[str, list[tuple[Side, Side]]] = {
    "en": [
        (
            (
                "Japan imposes export controls on chip materials bound for South Korea",
                "Tokyo said the tighter rules on three chemicals take effect on Thursday.",
                "economic",
                "step",
            ),
            (
                "Japan lifts export controls on chip materials bound for South Korea",
                "Tokyo said the curbs on three chemicals end on Thursday after talks with Seoul.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "Seoul terminates GSOMIA intelligence pact with Tokyo",
                "South Korea told Japan it will end the military information agreement.",
                "security",
                "step",
            ),
            (
                "Seoul keeps GSOMIA intelligence pact with Tokyo in force",
                "South Korea told Japan the military information agreement stays in place.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "Seoul suspends the termination of GSOMIA hours before it lapses",
                "South Korea said the pact with Japan will stay in force for now.",
                "cooperation",
                "step",
            ),
            (
                "Seoul will not renew GSOMIA intelligence pact with Japan",
                "South Korea said it would let the pact with Tokyo lapse.",
                "security",
                "step",
            ),
        ),
        (
            (
                "Japan removes South Korea from its white list of trusted trade partners",
                "The cabinet approved the change, which Seoul called retaliation.",
                "economic",
                "step",
            ),
            (
                "Japan restores South Korea to its white list of trusted trade partners",
                "The cabinet approved the change, which Seoul welcomed.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "South Korea files WTO complaint over Japan's export curbs",
                "Seoul's trade ministry said it had lodged the case in Geneva.",
                "economic",
                "step",
            ),
            (
                "South Korea withdraws WTO complaint over Japan's export curbs",
                "Seoul's trade ministry said it had dropped the case in Geneva.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "Moon and Suga hold first summit in Tokyo",
                "The leaders of South Korea and Japan met for two hours on Friday.",
                "cooperation",
                "step",
            ),
            (
                "Moon calls off summit with Suga in Tokyo",
                "The South Korean president cancelled the meeting with Japan's leader on Friday.",
                "diplomatic",
                "step",
            ),
        ),
        (
            (
                "Seoul recalls its ambassador to Japan over the islets",
                "South Korea's envoy left Tokyo on Monday in protest over Japan's claim.",
                "diplomatic",
                "step",
            ),
            (
                "Seoul returns its ambassador to Japan after the row over the islets",
                "South Korea's envoy went back to Tokyo on Monday as ties with Japan thaw.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "South Korea restores visa-free travel for Japanese visitors",
                "Seoul said Japanese citizens may again enter without a visa from next month.",
                "cooperation",
                "step",
            ),
            (
                "Japan suspends visa-free travel for South Korean visitors",
                "Tokyo said South Korean citizens will need a visa from next month.",
                "diplomatic",
                "step",
            ),
        ),
        (
            (
                "Seoul dissolves the foundation funded by Japan for comfort women",
                "South Korea said the fund set up under the 2015 deal with Tokyo will close.",
                "history",
                "step",
            ),
            (
                "Seoul and Tokyo set up a foundation for comfort women",
                "South Korea said the fund under the 2015 deal with Japan opens this month.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "Japan removes South Korea from its white list of trusted trade partners",
                "The cabinet approved the change on Friday, officials in Tokyo said.",
                "economic",
                "step",
            ),
            (
                "Japan threatens to remove South Korea from its white list of trade partners",
                "Officials in Tokyo said Seoul could lose the status if the row goes on.",
                "economic",
                "talk",
            ),
        ),
        (
            (
                "South Korea files WTO complaint over Japan's export curbs",
                "Seoul lodged the case in Geneva on Wednesday.",
                "economic",
                "step",
            ),
            (
                "South Korea warns it may file a WTO complaint over Japan's export curbs",
                "Seoul said it could take the case to Geneva if Tokyo does not back down.",
                "economic",
                "talk",
            ),
        ),
    ],
    "ko": [
        (
            (
                "일본, 한국에 반도체 소재 수출규제 발동",
                "일본 정부는 4일부터 한국으로 가는 소재 3개 품목의 수출규제를 시행한다고 밝혔다.",
                "economic",
                "step",
            ),
            (
                "일본, 한국에 대한 반도체 소재 수출규제 해제",
                "일본 정부는 한국으로 가는 소재 3개 품목의 수출규제를 풀기로 했다고 밝혔다.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "정부, 한일 지소미아 종료 결정",
                "청와대는 일본과 맺은 군사정보보호협정을 끝내기로 했다고 발표했다.",
                "security",
                "step",
            ),
            (
                "정부, 한일 지소미아 유지 결정",
                "청와대는 일본과 맺은 군사정보보호협정을 그대로 이어가기로 했다고 발표했다.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "청와대, 지소미아 종료 통보 효력 정지",
                "정부는 일본에 보낸 지소미아 종료 통보의 효력을 멈춘다고 밝혔다.",
                "cooperation",
                "step",
            ),
            (
                "정부, 지소미아 연장하지 않기로",
                "정부는 일본과의 군사정보보호협정을 연장하지 않겠다고 일본에 통보했다.",
                "security",
                "step",
            ),
        ),
        (
            (
                "일본, 한국을 화이트리스트에서 제외",
                "일본 각의는 한국을 수출 우대국 명단에서 빼는 개정안을 의결했다.",
                "economic",
                "step",
            ),
            (
                "일본, 한국을 화이트리스트에 재편입",
                "일본 정부는 한국을 수출 우대국 명단에 다시 올리는 개정안을 의결했다.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "정부, 일본 수출규제 WTO 제소",
                "산업통상자원부는 일본의 수출규제를 세계무역기구에 제소했다고 밝혔다.",
                "economic",
                "step",
            ),
            (
                "정부, 일본 수출규제 WTO 제소 철회",
                "산업통상자원부는 일본의 수출규제에 대한 세계무역기구 제소를 거두었다고 밝혔다.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "한일 정상회담 도쿄서 개최",
                "윤석열 대통령과 기시다 총리가 도쿄에서 만나 관계 개선에 뜻을 모았다.",
                "cooperation",
                "step",
            ),
            (
                "한일 정상회담 취소",
                "대통령실은 기시다 총리와의 정상회담을 열지 않기로 했다고 밝혔다.",
                "diplomatic",
                "step",
            ),
        ),
        (
            (
                "정부, 주일대사 소환",
                "외교부는 일본의 독도 영유권 주장에 항의해 주일대사를 불러들였다.",
                "diplomatic",
                "step",
            ),
            (
                "주일대사 귀임…한일 관계 정상화 수순",
                "외교부는 일본에서 돌아왔던 대사가 다시 도쿄로 떠난다고 밝혔다.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "정부, 일본 수산물 수입금지 유지",
                "정부는 후쿠시마 인근 일본산 수산물에 대한 수입금지를 계속한다고 밝혔다.",
                "economic",
                "step",
            ),
            (
                "정부, 일본 수산물 수입금지 해제",
                "정부는 후쿠시마 인근 일본산 수산물에 대한 수입금지를 풀기로 했다고 밝혔다.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "정부, 위안부 피해자 지원 재단 해산",
                "여성가족부는 일본 정부 출연금으로 세운 재단을 해산한다고 밝혔다.",
                "history",
                "step",
            ),
            (
                "한일, 위안부 피해자 지원 재단 출범",
                "일본 정부 출연금으로 세운 재단이 서울에서 공식 출범했다.",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "일본, 한국을 화이트리스트에서 제외",
                "일본 각의는 2일 한국을 수출 우대국 명단에서 빼는 개정안을 의결했다.",
                "economic",
                "step",
            ),
            (
                "일본, 한국 화이트리스트 제외 검토",
                "일본 정부가 한국을 수출 우대국 명단에서 뺄 수도 있다고 경고했다.",
                "economic",
                "talk",
            ),
        ),
        (
            (
                "정부, 주일대사 소환",
                "외교부는 14일 항의의 뜻으로 주일대사를 불러들였다.",
                "diplomatic",
                "step",
            ),
            (
                "정부, 주일대사 소환 검토",
                "외교부는 일본의 대응을 보고 주일대사를 불러들일 수도 있다며 우려를 표했다.",
                "diplomatic",
                "talk",
            ),
        ),
    ],
    "ja": [
        (
            (
                "経産省、韓国向け半導体材料の輸出規制を発動",
                "経済産業省は4日から韓国向けの3品目の輸出規制を始めると発表した。",
                "economic",
                "step",
            ),
            (
                "経産省、韓国向け半導体材料の輸出規制を解除",
                "経済産業省は韓国向けの3品目の輸出規制をやめると発表した。",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "韓国政府、日韓GSOMIAの破棄を決定",
                "韓国政府は日本との軍事情報包括保護協定を終わらせると発表した。",
                "security",
                "step",
            ),
            (
                "韓国政府、日韓GSOMIAの維持を決定",
                "韓国政府は日本との軍事情報包括保護協定をこのまま続けると発表した。",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "韓国、GSOMIA終了通告の効力を停止",
                "韓国政府は日本に伝えていたGSOMIA終了の通告を当面止めると発表した。",
                "cooperation",
                "step",
            ),
            (
                "韓国、GSOMIAを延長せず",
                "韓国政府は日本との軍事情報包括保護協定を延長しないと通告した。",
                "security",
                "step",
            ),
        ),
        (
            (
                "政府、韓国をホワイト国から除外",
                "政府は閣議で韓国を輸出優遇の対象国から外す政令改正を決めた。",
                "economic",
                "step",
            ),
            (
                "政府、韓国をホワイト国に復帰",
                "政府は閣議で韓国を輸出優遇の対象国に戻す政令改正を決めた。",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "韓国、日本の輸出規制をWTOに提訴",
                "韓国政府は日本の輸出規制が協定違反だとして世界貿易機関に訴えた。",
                "economic",
                "step",
            ),
            (
                "韓国、日本の輸出規制をめぐるWTO提訴を撤回",
                "韓国政府は日本の輸出規制に対する世界貿易機関への訴えを取り下げた。",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "日韓首脳会談をソウルで開催",
                "岸田首相と尹大統領がソウルで会い、関係改善を確認した。",
                "cooperation",
                "step",
            ),
            (
                "日韓首脳会談を中止",
                "政府は韓国の大統領との首脳会談を見送ると発表した。",
                "diplomatic",
                "step",
            ),
        ),
        (
            (
                "政府、駐韓大使を一時帰国",
                "政府は韓国の措置に抗議するため駐韓大使を召還した。",
                "diplomatic",
                "step",
            ),
            (
                "駐韓大使が帰任 日韓関係の正常化へ",
                "一時帰国していた大使がソウルに戻り、韓国との対話を再開する。",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "韓国、日本産水産物の輸入禁止を維持",
                "韓国政府は福島周辺の日本産水産物の輸入禁止を続けると発表した。",
                "economic",
                "step",
            ),
            (
                "韓国、日本産水産物の輸入禁止を解除",
                "韓国政府は福島周辺の日本産水産物の輸入禁止をやめると発表した。",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "韓国、海自の観艦式への派遣を見送り",
                "韓国海軍は日本の国際観艦式に艦艇を送らないと発表した。",
                "security",
                "step",
            ),
            (
                "韓国、海自の観艦式に艦艇を派遣",
                "韓国海軍は日本の国際観艦式に艦艇を送ると発表した。",
                "cooperation",
                "step",
            ),
        ),
        (
            (
                "政府、韓国をホワイト国から除外",
                "政府は2日の閣議で韓国を輸出優遇の対象国から外す政令改正を決めた。",
                "economic",
                "step",
            ),
            (
                "政府、韓国のホワイト国除外を検討",
                "政府は韓国を輸出優遇の対象国から外すことも検討していると懸念を示した。",
                "economic",
                "talk",
            ),
        ),
        (
            (
                "政府、駐韓大使を召還",
                "政府は韓国の措置に抗議するため駐韓大使を呼び戻した。",
                "diplomatic",
                "step",
            ),
            (
                "政府、駐韓大使の召還を検討",
                "政府は韓国の対応次第で駐韓大使の召還もありうると懸念を示した。",
                "diplomatic",
                "talk",
            ),
        ),
    ],
}

CASES = [
    pytest.param(side, id=f"{lang}-{n}-{'ab'[k]}")
    for lang, pairs in PAIRS.items()
    for n, pair in enumerate(pairs)
    for k, side in enumerate(pair)
]


@pytest.fixture(scope="module")
def classifier() -> StageClassifier:
    return StageClassifier(load_profile(REPO / "seeds" / "monitor.toml"))


def test_each_language_has_ten_pairs() -> None:
    assert {lang: len(pairs) >= 10 for lang, pairs in PAIRS.items()} == dict.fromkeys(
        ("en", "ko", "ja"), True
    )


@pytest.mark.parametrize("side", CASES)
def test_pair_side(classifier: StageClassifier, side: Side) -> None:
    title, lead, space, action = side
    stage = classifier.classify(title, lead)
    assert (stage.space, stage.action if action else None) == (space, action), stage.reason


def test_pairs_differ_in_answer() -> None:
    """Each pair's two sides expect different answers, or the pair proves nothing."""
    for pairs in PAIRS.values():
        for first, second in pairs:
            assert first[2:] != second[2:], first[0]


def test_negation_flips_and_double_negation_restores() -> None:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    reader = DirectionReader(
        DirectionRules.from_table(
            profile.stages["direction"],
            ("history", "diplomatic", "economic", "security", "cooperation"),
        ),
        "cooperation",
    )
    spaces = {
        text: [finding.space for finding in reader.read([text])]
        for text in (
            "Seoul renews GSOMIA",
            "Seoul will not renew GSOMIA",
            "Seoul suspends the termination of GSOMIA",
            "Tokyo calls off the summit",
            "Tokyo will not call off the summit",
        )
    }
    assert spaces == {
        "Seoul renews GSOMIA": ["cooperation"],
        "Seoul will not renew GSOMIA": ["security"],
        "Seoul suspends the termination of GSOMIA": ["cooperation"],
        "Tokyo calls off the summit": ["diplomatic"],
        "Tokyo will not call off the summit": ["cooperation"],
    }


def test_rule_decisions_show_in_the_reason(classifier: StageClassifier) -> None:
    stage = classifier.classify(
        "Seoul suspends the termination of GSOMIA", "The pact with Japan stays in force."
    )
    assert stage.reason.startswith("rule: cooperation: keeps GSOMIA")
    assert stage.confidence == 1.0
