"""The survey's questions and messages, per language: one table that the page, the SMS, the
e-mail and the settings all read.

The Swedish set is SKR's Servicemätning word for word (so the figures compare with the national
ones); the Norwegian Bokmål set asks the same in Norwegian; English is for the page in English.
An organisation may override any text (``SurveySettings.wording``).
"""

from __future__ import annotations

from dataclasses import dataclass

from servicedesk.metrics.catalogue import FILTER_QUESTION, SURVEY_ORDER

LANGUAGES = ("sv", "nb", "en")
COUNTRY_LANGUAGE = {"SE": "sv", "NO": "nb"}


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a channel's survey; ``key`` is the survey.response question it becomes."""

    key: str
    #: The wording key in the catalogue (and in an organisation's overrides).
    text_key: str
    #: The scale's two ends (1 and 5), or empty for the yes/no filter question.
    low_key: str = ""
    high_key: str = ""

    @property
    def scored(self) -> bool:
        return self.key != FILTER_QUESTION


def _question(channel: str, key: str) -> Question:
    if key == FILTER_QUESTION:
        return Question(key, f"{channel}_{key}")
    return Question(key, f"{channel}_{key}", f"{key}_low", f"{key}_high")


#: The questions of each channel, in the order asked (SKR's order; the figure catalogue's).
QUESTIONS: dict[str, tuple[Question, ...]] = {
    channel: tuple(_question(channel, key) for key in keys)
    for channel, keys in SURVEY_ORDER.items()
}

TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "phone_ease": "Hur enkelt var det att få hjälp av kommunen med din fråga via telefoni?",
        "phone_treatment": "I din senaste kontakt med kommunens medarbetare via telefoni, "
        "hur nöjd var du med bemötandet?",
        "email_got_answer": "Har du fått återkoppling eller svar på din fråga?",
        "email_ease": "Var det enkelt att få hjälp från kommunen med din fråga via e-post?",
        "email_clarity": "Upplevde du svaret från kommunens medarbetare som tydligt?",
        "ease_low": "Mycket svårt",
        "ease_high": "Mycket enkelt",
        "treatment_low": "Mycket missnöjd",
        "treatment_high": "Mycket nöjd",
        "clarity_low": "Inte alls tydligt",
        "clarity_high": "Mycket tydligt",
        "sms": "Hej! Du var nyligen i kontakt med {sender} via telefon. Svara gärna på två "
        "korta frågor: {link} Där kan du också avböja fler enkäter.",
        "sms_replies": "Hej! Du var nyligen i kontakt med {sender} via telefon. Svara gärna på två "
        "korta frågor: {link} Vill du inte få fler enkäter? Svara STOPP.",
        "sms_digits": "Hej! Du var nyligen i kontakt med {sender} via telefon. {question} Svara "
        "med en siffra från 1 ({low}) till 5 ({high}), eller via {link} Svara STOPP om du inte "
        "vill få fler enkäter.",
        "sms_next": "Tack! {question} Svara med en siffra från 1 ({low}) till 5 ({high}).",
        "sms_thanks": "Tack för dina svar! Hälsningar {sender}",
        "sms_stopped": "Du får inga fler enkäter från {sender}. Ångrar du dig? Svara START.",
        "sms_started": "Du kan få enkäter från {sender} igen. Svara STOPP om du inte vill det.",
        "sms_help": "Svara med en siffra från 1 till 5, eller STOPP om du inte vill få fler "
        "enkäter.",
        "sms_use_link": "Tack! Svara gärna på enkäten via länken i vårt sms, eller svara STOPP om "
        "du inte vill få fler enkäter.",
        "sms_answered": "Tack, vi har redan fått dina svar.",
        "email_subject": "Två frågor om ditt ärende hos {sender}",
        "email_body": "Hej!\n\nDu har nyligen fått svar på ett e-postmeddelande från {sender}. "
        "Vi vill gärna veta hur det gick. Enkäten har tre korta frågor och tar mindre än en "
        "minut:\n\n{link}\n\nLänken gäller i {days} dagar och kan bara användas en gång. "
        "Du är anonym: svaren kopplas inte till dig.\n\n"
        "Vill du inte få fler enkäter? {stop}\n\nMed vänliga hälsningar\n{sender}\n",
    },
    "nb": {
        "phone_ease": "Hvor enkelt var det å få hjelp fra kommunen med spørsmålet ditt på telefon?",
        "phone_treatment": "I din siste kontakt med kommunens medarbeidere på telefon, "
        "hvor fornøyd var du med måten du ble møtt på?",
        "email_got_answer": "Har du fått tilbakemelding eller svar på spørsmålet ditt?",
        "email_ease": "Var det enkelt å få hjelp fra kommunen med spørsmålet ditt på e-post?",
        "email_clarity": "Opplevde du svaret fra kommunens medarbeider som tydelig?",
        "ease_low": "Svært vanskelig",
        "ease_high": "Svært enkelt",
        "treatment_low": "Svært misfornøyd",
        "treatment_high": "Svært fornøyd",
        "clarity_low": "Ikke tydelig i det hele tatt",
        "clarity_high": "Svært tydelig",
        "sms": "Hei! Du var nylig i kontakt med {sender} på telefon. Svar gjerne på to korte "
        "spørsmål: {link} Der kan du også reservere deg mot flere undersøkelser.",
        "sms_replies": "Hei! Du var nylig i kontakt med {sender} på telefon. Svar gjerne på to "
        "korte spørsmål: {link} Vil du ikke ha flere undersøkelser? Svar STOPP.",
        "sms_digits": "Hei! Du var nylig i kontakt med {sender} på telefon. {question} Svar med "
        "et tall fra 1 ({low}) til 5 ({high}), eller via {link} Svar STOPP hvis du ikke vil ha "
        "flere undersøkelser.",
        "sms_next": "Takk! {question} Svar med et tall fra 1 ({low}) til 5 ({high}).",
        "sms_thanks": "Takk for svarene dine! Hilsen {sender}",
        "sms_stopped": "Du får ikke flere undersøkelser fra {sender}. Angrer du? Svar START.",
        "sms_started": "Du kan få undersøkelser fra {sender} igjen. Svar STOPP hvis du ikke vil "
        "det.",
        "sms_help": "Svar med et tall fra 1 til 5, eller STOPP hvis du ikke vil ha flere "
        "undersøkelser.",
        "sms_use_link": "Takk! Svar gjerne på undersøkelsen via lenken i SMS-en vår, eller svar "
        "STOPP hvis du ikke vil ha flere undersøkelser.",
        "sms_answered": "Takk, vi har allerede fått svarene dine.",
        "email_subject": "To spørsmål om henvendelsen din til {sender}",
        "email_body": "Hei!\n\nDu har nylig fått svar på en e-post fra {sender}. Vi vil gjerne "
        "vite hvordan det gikk. Undersøkelsen har tre korte spørsmål og tar under ett "
        "minutt:\n\n{link}\n\nLenken gjelder i {days} dager og kan bare brukes én gang. Du er "
        "anonym: svarene knyttes ikke til deg.\n\n"
        "Vil du ikke ha flere undersøkelser? {stop}\n\nMed vennlig hilsen\n{sender}\n",
    },
    "en": {
        "phone_ease": "How easy was it to get help from the municipality with your question "
        "by phone?",
        "phone_treatment": "In your latest contact with the municipality's staff by phone, "
        "how satisfied were you with how you were treated?",
        "email_got_answer": "Have you received feedback or an answer to your question?",
        "email_ease": "Was it easy to get help from the municipality with your question by e-mail?",
        "email_clarity": "Did you find the answer from the municipality's staff clear?",
        "ease_low": "Very difficult",
        "ease_high": "Very easy",
        "treatment_low": "Very dissatisfied",
        "treatment_high": "Very satisfied",
        "clarity_low": "Not clear at all",
        "clarity_high": "Very clear",
        "sms": "Hello! You were recently in touch with {sender} by phone. Please answer two "
        "short questions: {link} There you can also opt out of further surveys.",
        "sms_replies": "Hello! You were recently in touch with {sender} by phone. Please answer "
        "two short questions: {link} Want no more surveys? Reply STOP.",
        "sms_digits": "Hello! You were recently in touch with {sender} by phone. {question} Reply "
        "with a digit from 1 ({low}) to 5 ({high}), or answer at {link} Reply STOP for no more "
        "surveys.",
        "sms_next": "Thank you! {question} Reply with a digit from 1 ({low}) to 5 ({high}).",
        "sms_thanks": "Thank you for your answers! {sender}",
        "sms_stopped": "You will get no more surveys from {sender}. Changed your mind? Reply "
        "START.",
        "sms_started": "You may get surveys from {sender} again. Reply STOP if you do not want "
        "them.",
        "sms_help": "Reply with a digit from 1 to 5, or STOP for no more surveys.",
        "sms_use_link": "Thank you! Please answer the survey through the link in our text "
        "message, or reply STOP for no more surveys.",
        "sms_answered": "Thank you, we already have your answers.",
        "email_subject": "Two questions about your e-mail to {sender}",
        "email_body": "Hello,\n\nYou recently got an answer to an e-mail from {sender}. We would "
        "like to know how it went. The survey has three short questions and takes less than "
        "a minute:\n\n{link}\n\nThe link works for {days} days and only once. You are "
        "anonymous: the answers are not linked to you.\n\n"
        "Want no more surveys? {stop}\n\nKind regards\n{sender}\n",
    },
}

#: Text keys an administrator may override (the questions and the scale ends).
EDITABLE = (
    "phone_ease",
    "phone_treatment",
    "email_got_answer",
    "email_ease",
    "email_clarity",
)


def language_of(configured: str, country: str) -> str:
    """The survey's language: the configured one, else the organisation's country's."""
    if configured in LANGUAGES:
        return configured
    return COUNTRY_LANGUAGE.get(country.upper(), "sv")


def text(language: str, key: str, overrides: dict[str, dict[str, str]] | None = None) -> str:
    """A text in ``language``, the organisation's own wording where it set one."""
    own = (overrides or {}).get(language, {}).get(key)
    if own and key in EDITABLE:
        return own
    return TEXTS.get(language, TEXTS["sv"])[key]
