"""The words of the rating question, in the client's language unless the site chose its own."""

from __future__ import annotations

QUESTION = {
    "ru": "Пожалуйста, оцените, как мы вам помогли: от 1 до 5.",
    "en": "Please rate how we helped you, from 1 to 5.",
}
# Messengers: after the score, the client may add a comment in their next message.
THANKS_ASK_COMMENT = {
    "ru": "Спасибо за оценку! Если хотите, напишите пару слов о разговоре.",
    "en": "Thank you for the rating! If you like, write a few words about the conversation.",
}
THANKS_FOR_COMMENT = {
    "ru": "Спасибо за отзыв!",
    "en": "Thank you for your feedback!",
}
ALREADY_RATED = {
    "ru": "Спасибо, ваша оценка уже учтена.",
    "en": "Thank you, your rating is already counted.",
}


def question(own_words: str, language: str) -> str:
    return own_words.strip() or QUESTION["ru" if language == "ru" else "en"]
