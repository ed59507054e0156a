"""The languages the workbench knows: ISO 639-1 code, English name, native name, script, resource level.

Recipes name languages by code; an unknown code is an error with a suggestion. The table holds the
nine languages of the study, the MultiJail set and other widely used languages.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    native: str
    script: str
    resource: str  # "high", "medium" or "low" (amount of web text; a rough, commonly used grouping)


_TABLE = [
    # the nine languages of the study
    Language("en", "English", "English", "Latin", "high"),
    Language("zh", "Chinese", "中文", "Han", "high"),
    Language("da", "Danish", "Dansk", "Latin", "medium"),
    Language("el", "Greek", "Ελληνικά", "Greek", "medium"),
    Language("hi", "Hindi", "हिन्दी", "Devanagari", "medium"),
    Language("ga", "Irish", "Gaeilge", "Latin", "low"),
    Language("pt", "Portuguese", "Português", "Latin", "high"),
    Language("es", "Spanish", "Español", "Latin", "high"),
    Language("tl", "Tagalog", "Tagalog", "Latin", "low"),
    # MultiJail (besides en and zh)
    Language("it", "Italian", "Italiano", "Latin", "high"),
    Language("vi", "Vietnamese", "Tiếng Việt", "Latin", "high"),
    Language("ar", "Arabic", "العربية", "Arabic", "high"),
    Language("ko", "Korean", "한국어", "Hangul", "medium"),
    Language("th", "Thai", "ไทย", "Thai", "medium"),
    Language("bn", "Bengali", "বাংলা", "Bengali", "low"),
    Language("sw", "Swahili", "Kiswahili", "Latin", "low"),
    Language("jv", "Javanese", "Basa Jawa", "Latin", "low"),
    # other widely used languages
    Language("de", "German", "Deutsch", "Latin", "high"),
    Language("fr", "French", "Français", "Latin", "high"),
    Language("ru", "Russian", "Русский", "Cyrillic", "high"),
    Language("ja", "Japanese", "日本語", "Japanese", "high"),
    Language("nl", "Dutch", "Nederlands", "Latin", "high"),
    Language("pl", "Polish", "Polski", "Latin", "high"),
    Language("tr", "Turkish", "Türkçe", "Latin", "high"),
    Language("sv", "Swedish", "Svenska", "Latin", "medium"),
    Language("fi", "Finnish", "Suomi", "Latin", "medium"),
    Language("no", "Norwegian", "Norsk", "Latin", "medium"),
    Language("uk", "Ukrainian", "Українська", "Cyrillic", "medium"),
    Language("cs", "Czech", "Čeština", "Latin", "medium"),
    Language("ro", "Romanian", "Română", "Latin", "medium"),
    Language("hu", "Hungarian", "Magyar", "Latin", "medium"),
    Language("he", "Hebrew", "עברית", "Hebrew", "medium"),
    Language("fa", "Persian", "فارسی", "Arabic", "medium"),
    Language("id", "Indonesian", "Bahasa Indonesia", "Latin", "high"),
    Language("ms", "Malay", "Bahasa Melayu", "Latin", "medium"),
    Language("ur", "Urdu", "اردو", "Arabic", "medium"),
    Language("ta", "Tamil", "தமிழ்", "Tamil", "medium"),
    Language("te", "Telugu", "తెలుగు", "Telugu", "low"),
    Language("mr", "Marathi", "मराठी", "Devanagari", "low"),
    Language("cy", "Welsh", "Cymraeg", "Latin", "low"),
    Language("eu", "Basque", "Euskara", "Latin", "low"),
    Language("yo", "Yoruba", "Yorùbá", "Latin", "low"),
    Language("ha", "Hausa", "Hausa", "Latin", "low"),
    Language("zu", "Zulu", "isiZulu", "Latin", "low"),
    Language("am", "Amharic", "አማርኛ", "Ethiopic", "low"),
]

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _TABLE}
STUDY_LANGUAGES = ("en", "zh", "da", "el", "hi", "ga", "pt", "es", "tl")
MULTIJAIL_LANGUAGES = ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv")


def get(code: str) -> Language:
    """The language with this code; ``KeyError`` if unknown."""
    return LANGUAGES[code]


def suggest(text: str) -> str | None:
    """The known code closest to ``text`` (a misspelt code or a language name), or None."""
    t = text.strip().lower()
    for lang in _TABLE:
        if t in (lang.name.lower(), lang.native.lower()):
            return lang.code
    close = difflib.get_close_matches(t, LANGUAGES, n=1, cutoff=0.5)
    if close:
        return close[0]
    names = {lang.name.lower(): lang.code for lang in _TABLE}
    close = difflib.get_close_matches(t, names, n=1, cutoff=0.6)
    return names[close[0]] if close else None


def describe(code: str) -> str:
    """``"es (Spanish)"`` for a known code, the code itself otherwise."""
    lang = LANGUAGES.get(code)
    return f"{code} ({lang.name})" if lang else code
