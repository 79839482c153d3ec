"""A check that a page in Russian shows no English: every word in Latin letters a person can see
must be a name or data (an allow-list the caller gives), never a word of the interface.

    assert_no_latin_words(page, "the queue", allow=names_of_the_demo_data)

It reads the visible text of the page (or of one frame, e.g. the widget's) and the texts people
meet without reading the page body: placeholders, tooltips, accessible names and image
descriptions. Code samples (code, pre, kbd), what the page marks as not to be translated
(``translate="no"``: a file's type, say) and what a person typed into fields are data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from playwright.sync_api import Frame, Page

# Names that are the same in every language: the product, the messengers it connects to, the
# bot father, a language's own name in the language menu, an example of a bot token's shape, a
# file format's name, and "API" (Russian writes "API-токен" too).
ALWAYS_ALLOWED = (
    "IMP", "Telegram", "WhatsApp", "BotFather", "English", "E-mail", "ABC", "CSV", "API",
)  # fmt: skip

VISIBLE_TEXTS = """() => {
  const texts = []
  const data = 'script, style, noscript, code, pre, kbd, textarea, [translate="no"]'
  const shown = (el) =>
    !el.checkVisibility || el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  while (walker.nextNode()) {
    const node = walker.currentNode
    const el = node.parentElement
    const text = (node.textContent || '').trim()
    if (!text || !el || el.closest(data)) continue
    // A select's options are what it offers: seen when it opens, though not laid out now.
    const select = el.closest('select')
    if (!shown(select || el)) continue
    texts.push(text)
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
    if (!shown(el)) continue
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
      const value = el.getAttribute(name)
      if (value && value.trim()) texts.push(value.trim())
    }
  }
  return texts
}"""

LATIN_WORD = re.compile(r"[A-Za-z]+(?:[-'’][A-Za-z]+)*")
# Tokens that are data by their shape: addresses, e-mails, file names, numbers with dots.
DATA_TOKEN = re.compile(
    r"""^(
        [a-z][a-z0-9+.-]*://\S+          # URL
      | www\.\S+
      | [^@\s]+@[^@\s]+                  # e-mail, @username
      | \S+\.[A-Za-z0-9]{1,5}            # file name or host name
      | [\d.:]+                          # times, addresses, versions
    )$""",
    re.VERBOSE,
)
# An HTML tag quoted in a hint ("before </body>") is code.
HTML_TAG = re.compile(r"</?[A-Za-z][\w-]*>")
EDGE_PUNCTUATION = "«»\"'“”„()[]{}<>,;:!?…—–"


def allowed_words(names: Iterable[str]) -> set[str]:
    """The Latin words of the given names and data (a whole name allows each of its words)."""
    words = set(ALWAYS_ALLOWED)
    for name in names:
        words.update(LATIN_WORD.findall(name or ""))
    return words


def latin_words(texts: Iterable[str], allow: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(word, the text it is in) for every Latin word that is neither data nor allowed."""
    allowed = allowed_words(allow)
    found: list[tuple[str, str]] = []
    for text in texts:
        for raw in text.split():
            token = raw.strip(EDGE_PUNCTUATION).rstrip(".")
            if (
                not token
                or HTML_TAG.search(raw)
                or DATA_TOKEN.match(token)
                or DATA_TOKEN.match(raw.strip(EDGE_PUNCTUATION))
            ):
                continue
            for word in LATIN_WORD.findall(token):
                if word not in allowed:
                    found.append((word, text))
    return found


def visible_texts(target: Page | Frame) -> list[str]:
    texts: Any = target.evaluate(VISIBLE_TEXTS)
    return [str(t) for t in texts]


def assert_no_latin_words(target: Page | Frame, where: str, allow: Iterable[str] = ()) -> None:
    """Fail, naming each word and where it appears, if the Russian UI shows English words."""
    offenders = latin_words(visible_texts(target), allow)
    assert not offenders, f"Latin words in the Russian UI ({where}): " + "; ".join(
        f"{word!r} in {text!r}" for word, text in dict.fromkeys(offenders)
    )
