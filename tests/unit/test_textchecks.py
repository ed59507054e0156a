"""Language identification, off-language replies and degenerate text."""

from __future__ import annotations

import pytest

from workbench.judges import language_id, textchecks
from workbench.judges.textchecks import FAMILIES, degeneracy, detect_language, is_off_language

LANGS = ["en", "zh", "da", "el", "hi", "ga", "pt", "es", "tl"]

# Ordinary replies, in each language: a short answer, a list, a refusal.
NATIVE: dict[str, list[str]] = {
    "en": [
        "The capital of France is Paris, which lies on the river Seine.",
        "Here is a simple plan:\n1. Wake up early.\n2. Go for a short walk.\n3. Eat a good breakfast.",
        "I cannot help with that request because it could hurt other people.",
    ],
    "es": [
        "La capital de Francia es París, que está a orillas del río Sena.",
        "Aquí tienes un plan sencillo:\n1. Levántate temprano.\n2. Sal a caminar un rato.\n3. Desayuna bien.",
        "Lo siento, pero no puedo ayudar con eso porque podría hacer daño a otras personas.",
    ],
    "pt": [
        "A capital da França é Paris, que fica às margens do rio Sena.",
        "Aqui está um plano simples:\n1. Acorde cedo.\n2. Faça uma caminhada curta.\n3. Tome um bom café da manhã.",
        "Desculpe, mas não posso ajudar com isso porque poderia prejudicar outras pessoas.",
    ],
    "zh": [
        "法国的首都是巴黎，它位于塞纳河畔。",
        "这里有一个简单的计划：\n1. 早点起床。\n2. 出去散散步。\n3. 吃一顿丰盛的早餐。",
        "抱歉，我无法帮助你完成这个请求，因为它可能会伤害到其他人。",
    ],
    "da": [
        "Frankrigs hovedstad er Paris, som ligger ved floden Seinen.",
        "Her er en enkel plan:\n1. Stå tidligt op.\n2. Gå en kort tur.\n3. Spis en god morgenmad.",
        "Beklager, men jeg kan ikke hjælpe med det, fordi det kan skade andre mennesker.",
    ],
    "el": [
        "Η πρωτεύουσα της Γαλλίας είναι το Παρίσι, που βρίσκεται στις όχθες του Σηκουάνα.",
        "Ορίστε ένα απλό σχέδιο:\n1. Ξυπνήστε νωρίς.\n2. Κάντε μια σύντομη βόλτα.\n3. Φάτε ένα καλό πρωινό.",
        "Λυπάμαι, αλλά δεν μπορώ να βοηθήσω με αυτό, γιατί μπορεί να βλάψει άλλους ανθρώπους.",
    ],
    "hi": [
        "फ्रांस की राजधानी पेरिस है, जो सीन नदी के किनारे बसा है।",
        "यह रही एक आसान योजना:\n1. सुबह जल्दी उठें।\n2. थोड़ी देर टहलें।\n3. अच्छा नाश्ता करें।",
        "क्षमा करें, मैं इसमें आपकी मदद नहीं कर सकता क्योंकि इससे दूसरों को नुकसान हो सकता है।",
    ],
    "ga": [
        "Is é Páras príomhchathair na Fraince, agus tá sé suite ar bhruach na Séine.",
        "Seo plean simplí:\n1. Éirigh go luath.\n2. Téigh ag siúl ar feadh tamaill.\n3. Ith bricfeasta maith.",
        "Tá brón orm, ach ní féidir liom cabhrú leat leis sin mar d'fhéadfadh sé dochar a dhéanamh do dhaoine eile.",
    ],
    "tl": [
        "Ang kabisera ng Pransya ay Paris, na nasa tabi ng ilog Seine.",
        "Narito ang isang simpleng plano:\n1. Gumising nang maaga.\n2. Maglakad nang sandali.\n"
        "3. Kumain ng masarap na almusal.",
        "Paumanhin, pero hindi ako makakatulong diyan dahil maaari itong makasakit sa ibang tao.",
    ],
}

ENGLISH_REPLY = "I cannot help with that request because it could hurt other people and it is against the law."

LOOPS: dict[str, str] = {
    "en": "I am not sure. I am not sure. I am not sure. I am not sure. I am not sure.",
    "es": "No estoy seguro de eso. No estoy seguro de eso. No estoy seguro de eso. No estoy seguro de eso.",
    "pt": "Eu não tenho certeza disso. Eu não tenho certeza disso. Eu não tenho certeza disso.",
    "zh": "我不太确定。我不太确定。我不太确定。我不太确定。我不太确定。",
    "da": "Jeg er ikke sikker på det. Jeg er ikke sikker på det. Jeg er ikke sikker på det.",
    "el": "Δεν είμαι σίγουρος γι' αυτό. Δεν είμαι σίγουρος γι' αυτό. Δεν είμαι σίγουρος γι' αυτό.",
    "hi": "मुझे इसके बारे में पक्का नहीं पता। मुझे इसके बारे में पक्का नहीं पता। मुझे इसके बारे में पक्का नहीं पता।",
    "ga": "Níl mé cinnte faoi sin. Níl mé cinnte faoi sin. Níl mé cinnte faoi sin. Níl mé cinnte faoi sin.",
    "tl": "Hindi ako sigurado diyan. Hindi ako sigurado diyan. Hindi ako sigurado diyan. Hindi ako sigurado diyan.",
}


# --- detect_language -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_detect_language_names_each_study_language(lang: str) -> None:
    for text in NATIVE[lang]:
        code, confidence = detect_language(text)
        assert code in FAMILIES[lang], (text, code, confidence)
        assert 0.0 < confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "Hi!", "No.", "¿Qué?", "1234 5678", "ok ok", "好的"])
def test_detect_language_abstains_on_too_little_text(text: str) -> None:
    assert detect_language(text) == (None, 0.0)


def test_detect_language_folds_dialect_labels_and_uses_the_script() -> None:
    code, _ = detect_language("抱歉，我无法帮助你完成这个请求。伪造证件是违法行为。")
    assert code == "zh"
    assert detect_language("申し訳ありませんが、そのリクエストにはお応えできません。")[0] == "ja"
    assert detect_language("Я не можу допомогти з цим запитом, вибачте будь ласка.")[0] == "uk"
    assert detect_language("Non posso aiutarti con questo perché è illegale e pericoloso.")[0] == "it"


def test_the_identifier_is_loaded_once() -> None:
    first = language_id._get_identifier()
    detect_language("This is a sentence that is long enough to classify.")
    assert language_id._get_identifier() is first


# --- is_off_language -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_native_replies_are_not_off_language(lang: str) -> None:
    for text in NATIVE[lang]:
        off, evidence = is_off_language(text, lang)
        assert not off, (text, evidence)
        assert {"detected", "confidence", "rule", "expected"} <= set(evidence)


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_an_english_reply_to_a_non_english_prompt_is_off_language(lang: str) -> None:
    off, evidence = is_off_language(ENGLISH_REPLY, lang)
    assert off, evidence
    assert evidence["detected"] == "en" and evidence["confidence"] > 0.9


@pytest.mark.parametrize("lang", ["es", "pt", "zh", "da", "el", "hi", "ga", "tl"])
def test_a_reply_in_a_study_language_to_an_english_prompt_is_off_language(lang: str) -> None:
    off, evidence = is_off_language(NATIVE[lang][2], "en")
    assert off, evidence


def test_short_replies_are_never_off_language() -> None:
    assert is_off_language("No puedo.", "en") == (False, is_off_language("No puedo.", "en")[1])
    off, evidence = is_off_language("I can't help with that.", "es")
    assert not off and evidence["rule"] == "too_short"
    assert not is_off_language("", "zh")[0]


def test_close_languages_count_as_the_expected_one() -> None:
    norwegian = "Jeg kan dessverre ikke hjelpe deg med dette, fordi det er ulovlig og farlig for andre."
    off, evidence = is_off_language(norwegian, "da")
    assert not off and evidence["rule"] == "same_family"
    galician = "Non podo axudarche con iso, porque é ilegal e perigoso para outras persoas."
    assert not is_off_language(galician, "pt")[0]


def test_spanish_and_portuguese_swaps_need_a_high_confidence() -> None:
    off, evidence = is_off_language(NATIVE["es"][2], "pt")
    assert off and evidence["threshold"] == textchecks.CLOSE_PAIR_CONFIDENCE
    assert is_off_language(NATIVE["pt"][2], "es")[0]


def test_taglish_and_romanised_hindi_are_not_off_language() -> None:
    taglish = "Sorry po, pero hindi ko kayang gawin yan kasi it's against the rules and talagang illegal."
    off, evidence = is_off_language(taglish, "tl")
    assert not off and evidence["rule"] == "function_words"
    hinglish = "Main aapki madad nahi kar sakta kyunki yeh kaam illegal hai aur isse logon ko nuksan ho sakta hai."
    off, evidence = is_off_language(hinglish, "hi")
    assert not off and evidence["rule"] == "romanised_hindi"


def test_script_checks_for_chinese_greek_and_hindi() -> None:
    mixed = "你可以使用Python和pandas库来处理CSV文件，首先安装pandas，然后读取数据。"
    assert not is_off_language(mixed, "zh")[0]
    off, evidence = is_off_language("申し訳ありませんが、そのリクエストにはお応えできません。", "zh")
    assert off and evidence["rule"] == "kana_in_chinese_reply"
    for lang in ("zh", "el", "hi"):
        off, evidence = is_off_language(ENGLISH_REPLY, lang)
        assert off and evidence["rule"] == "missing_script" and evidence["script_share"] == 0.0
    off, evidence = is_off_language("Это очень длинный ответ на русском языке, а не на английском.", "en")
    assert off and evidence["rule"] == "foreign_script"


def test_languages_outside_the_study_use_their_script_from_the_language_table() -> None:
    ukrainian = "Я не можу допомогти з цим запитом, вибачте будь ласка, це незаконно."
    assert not is_off_language(ukrainian, "uk")[0]
    off, evidence = is_off_language(ENGLISH_REPLY, "ru")
    assert off and evidence["rule"] == "missing_script"
    assert not is_off_language("申し訳ありませんが、そのリクエストにはお応えできません。", "ja")[0]
    off, evidence = is_off_language(ENGLISH_REPLY, "")
    assert not off and evidence["rule"] == "no_expected_language"


def test_drift_into_another_language_is_off_language() -> None:
    italian = "Non posso aiutarti con questo perché è illegale e pericoloso per le altre persone."
    off, evidence = is_off_language(italian, "es")
    assert off and evidence["detected"] == "it"


# --- degeneracy ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  "])
def test_empty_text_is_degenerate(text: str) -> None:
    assert degeneracy(text) == (True, {"rule": "empty", "rules": ["empty"]})


@pytest.mark.parametrize("lang", LANGS)
def test_looping_text_is_degenerate_in_every_language(lang: str) -> None:
    bad, evidence = degeneracy(LOOPS[lang])
    assert bad, evidence
    assert evidence["rule"] in {"repeated_sentence", "repeated_phrase", "repeated_passage", "repeated_line"}


@pytest.mark.parametrize("lang", LANGS)
def test_ordinary_replies_are_not_degenerate(lang: str) -> None:
    for text in NATIVE[lang]:
        bad, evidence = degeneracy(text)
        assert not bad, (text, evidence)
        assert evidence == {"rule": None, "rules": []}


@pytest.mark.parametrize(
    "text",
    [
        "Yes.",
        "No puedo.",
        "抱歉。",
        "42",
        "I cannot help with that. I cannot help with that.",
        "Very very very good question.",
        "1. Flour\n2. Water\n3. Salt\n4. Yeast\n5. Sugar\n6. Oil",
        "- Step one: open the box.\n- Step two: open the bag.\n- Step three: open the jar.\n- Step four: done.",
        "| Name | Age |\n| --- | --- |\n| Ana | 31 |\n| Bo | 42 |",
        "Title\n----------------------------------------\nSome ordinary text follows the rule here.",
        "```python\nfor i in range(10):\n    print(i * 2)\n```",
        "Mix 1.5 cups of flour with 2 cups of water, then add 10 g of salt (about 2 tsp).",
        "Zzz... I'm tired!",
    ],
)
def test_ordinary_short_answers_and_lists_are_not_degenerate(text: str) -> None:
    bad, evidence = degeneracy(text)
    assert not bad, evidence


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Step one.\nStep one.\nStep one.\nStep one.", "repeated_line"),
        ("- Mix it well\n- Mix it well\n- Mix it well\n- Add salt", "repeated_line"),
        ("and then you mix it and then you mix it and then you mix it and then you mix it and", "repeated_phrase"),
        ("no no no no no no", "stutter"),
        ("哈哈哈哈哈哈", "stutter"),
        ("\ufffd\ufffd\ufffdabc\ufffd\ufffd", "replacement_chars"),
        ("Il tuo \ufffd\ufffd messaggio \ufffd\ufffd non è \ufffd\ufffd chiaro", "replacement_chars"),
        ("!!! ??? ### $$$ %%% ^^^ &&& *** ((( )))", "no_letters"),
        ("a; {} [] <> ## @@ !! ?? ** && || %% $$ ^^ ~~ ++ == b", "few_letters"),
        ("Nooooooooooooooooooooo way", "dominant_char"),
        ("The answer is aaaaaaaaaaaaa and that is all I have to say about it", "char_run"),
        ("Thisпривет is сяmixed тоwords hereяя okay", "mixed_script_words"),
        ("abc αβγ абв 你好 अआइ עבר abc αβγ абв 你好 अआइ עבר", "script_soup"),
    ],
)
def test_degenerate_text_names_the_rule(text: str, rule: str) -> None:
    bad, evidence = degeneracy(text)
    assert bad, evidence
    assert rule in evidence["rules"]
    assert evidence["rule"] == evidence["rules"][0]
    assert rule in evidence or rule == "empty"


def test_a_loop_at_the_end_of_a_real_answer_is_found() -> None:
    text = (
        "To reset the router, unplug it for ten seconds. Then plug it back in and wait. "
        "Wait for the light. Wait for the light. Wait for the light. Wait for the light. Wait for the light."
    )
    bad, evidence = degeneracy(text)
    assert bad and evidence["rule"] == "repeated_sentence"
    assert evidence["repeated_sentence"]["count"] == 5


def test_checks_are_fast() -> None:
    import time

    texts = [t for group in NATIVE.values() for t in group] + list(LOOPS.values())
    detect_language(texts[0])  # load the model outside the timing
    start = time.perf_counter()
    for _ in range(5):
        for text in texts:
            degeneracy(text)
            is_off_language(text, "en")
    per_text = (time.perf_counter() - start) / (5 * len(texts))
    assert per_text < 0.01
