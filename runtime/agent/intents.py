"""What a customer wants, by the local model: per-language keyword rules first (instant, and
the only thing that works well for Romanian), then the packaged MiniLM model's similarity to
example sentences of each intent for what the rules do not recognise."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from simptu.runtime.core.language import ENGLISH_WORDS, ROMANIAN_WORDS, strip_diacritics

Intent = Literal["greeting", "hours", "prices", "services", "availability", "book",
                 "reschedule", "cancel", "handoff", "yes", "no", "thanks", "question"]
INTENTS: tuple[Intent, ...] = ("greeting", "hours", "prices", "services", "availability",
                               "book", "reschedule", "cancel", "handoff", "yes", "no",
                               "thanks", "question")

GREETING = re.compile(r"^\W*(buna( ziua| dimineata| seara)?|salut\w*|hello|hi|hey|good "
                      r"(morning|afternoon|evening)|neata)\b")
# Checked in this order: the first intent with a matching pattern wins (a reschedule request
# mentions a booking, a cancellation mentions an appointment: the specific one goes first).
RULES: tuple[tuple[Intent, str], ...] = (
    ("handoff", r"\b(vorb\w*|speak|talk)\b.*\b(receptia|cineva|someone|manager\w*)\b|"
                r"\b(om|operator|persoana reala|un coleg|cineva real|uman|human|real person|"
                r"someone real|a person|staff member|manager|receptie|reception)\b"),
    ("cancel", r"\b(anul\w*|renunt la (programare|rezervare)\w*|cancel\w*)\b"),
    # A change to a booking said with its verb and what changes, a few words apart ("mut
    # programarea", "change the time of my class"), or as a postponement / another day.
    ("reschedule", r"\b(reprogram\w*|reschedul\w*|amana\w*|amanam|aman|postpon\w*|"
                   r"(mut\w*|schimb\w*)( \w+){0,3}? (programar\w*|rezervar\w*|sejur\w*|"
                   r"cazar\w*|ora|ziua|data|datele)|"
                   r"(move|change|switch|push)( \w+){0,3}? (booking|appointment|reservation|"
                   r"class|session|stay|dates?|time|day)|move (my|the)|"
                   r"(in|pe|to|for|on|at) (another|a different|an other) (day|time|date)|"
                   r"alta (zi|ora)|modific\w*|modify|(o|cu o|one|an|a) (zi|ora|saptamana|day|"
                   r"hour|week) (mai devreme|mai tarziu|earlier|later)|mut(a|am|ati|i)|"
                   r"schimb\w* (pe|pentru)|(move|change|switch) (it|this|that)|in loc de|"
                   r"instead of|(mut\w*|schimb\w*)( \w+){0,3}? (de|din)( \w+){1,3} pe)\b"),
    ("prices", r"\b(cat costa|cat e|pret\w*|tarif\w*|costa|cost\w*|price\w*|how much|fee|"
               r"charge\w*|rates?)\b"),
    ("hours", r"\b(orar\w*|programul|program de lucru|program sala|deschis\w*|deschid\w*|"
              r"inchide\w*|inchis|ce program|lucrati|lucreaza|pana la ce ora|pana cand|"
              r"open\w*|clos\w*|hours|what time do you)\b"),
    ("availability", r"\b(liber\w*|disponib\w*|availab\w*|free (slot|time|room)\w*|"
                     r"ce ore|cand (pot|aveti|as putea|putem)|when can|"
                     r"ce ora (pot|as putea|se poate|ati putea)|any (slot|room|place|spot)s?|"
                     r"(aveti|mai e|e|este|mai sunt|sunt|ar fi|exista|gasesc|avem) (vreun |ceva )?"
                     r"(loc|locuri)\b(?! de parcare)|spots? left|is there space|"
                     r"full|ce zile|what days|is\b[\w ]*\bfree|cand (se poate|ati putea)|"
                     r"what times|which (days|times)|when are you free|earliest|"
                     r"next (free|available)|(have|got)( \w+){0,4}? free|anything free)\b"),
    ("book", r"\b(programare|programez|programa|rezerv\w*|vreau (o|un|sa)|as dori|as vrea|doresc|"
             r"inscri\w*|book\w*|appointment|reserv\w*|sign me up|i('d| would) like|"
             r"i want|can i (get|have|come))\b"),
    # What the business offers: asked with the kind of thing it sells ("ce tipuri de camere",
    # "do you have any evening classes").
    ("services", r"\b((ce|what|which)( \w+){0,3}? (servicii|tratamente|clase|cursuri|camere|"
                 r"services|treatments|classes|rooms)|(aveti|do you have|have you got)( \w+){0,3}? "
                 r"(servicii|tratamente|clase|cursuri|services|treatments|classes)|servicii|"
                 r"services|tratamente|(ce|what) (fel|tip\w*|kinds?|types?) (de|of)|"
                 # whether it does a kind of thing ("faceti albire?"): what it sells, unlike
                 # whether it has one ("aveti parcare?"), which the FAQ answers
                 r"faceti|oferiti|practicati|do you (do|offer)|you guys do)\b"),
    ("thanks", r"\b(multumesc|multumim|mersi|thanks|thank you|bye|la revedere|o zi buna)\b"),
    ("greeting", GREETING.pattern),
)
YES = re.compile(r"^\W*(da|sigur|desigur|ok|okay|confirm\w*|corect|perfect|bine|yes|yeah|yep|"
                 r"sure|of course|please do|go ahead|sounds good)\b")
NO = re.compile(r"^\W*(nu|no|nope|not really|renunt|lasa|don't|do not)\b")

# Example sentences for the model (English: MiniLM is an English model).
EXAMPLES: dict[Intent, tuple[str, ...]] = {
    "greeting": ("hello there", "good day to you"),
    "hours": ("when are you open", "what are your opening hours", "are you open on sunday"),
    "prices": ("how much does it cost", "what is the price", "is it expensive"),
    "services": ("what services do you have", "what can I book with you"),
    "availability": ("do you have any free time slots", "is there space this week"),
    "book": ("I would like to make an appointment", "I want to book a visit",
             "can you fit me in"),
    "reschedule": ("I need to move my appointment to another day", "can we change the time"),
    "cancel": ("I can't come, please call it off", "cancel my reservation"),
    "handoff": ("I want to talk to a real person", "let me speak to someone at the desk"),
    "thanks": ("thank you very much", "that is all, goodbye"),
}
# Below this similarity the model is guessing: the message is treated as a question.
MIN_SIMILARITY = 0.45

Embed = Callable[[Sequence[str]], Awaitable[list[list[float]]]]


# The rules' own words ("programare", "cancel", stems such as "disponib"): a misspelt word of a
# message is read as the nearest of them (rapidfuzz's normalised Indel similarity, 0-100).
KEYWORDS = tuple(sorted({word for _, pattern in RULES for word in re.findall(r"[a-z]{4,}",
                                                                              pattern)}))
# Words taken as written: the rules' words and the common words of both languages.
KNOWN_WORDS = frozenset(KEYWORDS) | {strip_diacritics(word)
                                     for word in ROMANIAN_WORDS | ENGLISH_WORDS}
# Damerau-Levenshtein similarity (a swap of two letters is one edit): "programre" →
# "programare" 0.9, "cancle" → "cancel" 0.83, "prise" → "price" 0.8; "hurts" is 0.6 from
# "hours". Shorter words are left alone: one letter changes too much of them.
TYPO_SIMILARITY = 0.79  # 0.8 and a float's rounding
TYPO_MIN_LETTERS = 5
KEYWORDS_AS_PREFIXES = tuple(word for word in KEYWORDS if len(word) >= TYPO_MIN_LETTERS)


def classify_by_rules(text: str) -> Intent | None:
    """The intent of the first rule that matches the message, its misspelt words corrected."""
    plain = correct_typos(strip_diacritics(text.lower()))
    found = next((intent for intent, pattern in RULES if re.search(pattern, plain)), None)
    if found == "greeting" and plain.rstrip().endswith("?"):
        return None  # "hello, do you have crossfit classes?": the question is what it says
    return found


def without_greeting(text: str) -> str:
    """`text` without the greeting it begins with ("hello, " of "hello, any offers?"); the
    whole text when that is all it says."""
    plain = strip_diacritics(text.lower())
    match = GREETING.match(plain)
    rest = text[match.end():].lstrip(" ,.!") if match else ""
    return rest or text


def correct_typos(plain: str) -> str:
    """`plain` (lowercase, no diacritics) with each unknown word of five letters or more
    replaced by the rules' word nearest to it, when one is near enough."""
    def nearest(match: re.Match[str]) -> str:
        word = match[0]
        # A rule's stem begins it ("reprogramez"): a form of that word, not a typo.
        if (len(word) < TYPO_MIN_LETTERS or word in KNOWN_WORDS
                or word.startswith(KEYWORDS_AS_PREFIXES)):
            return word
        found = process.extractOne(word, KEYWORDS,
                                   scorer=DamerauLevenshtein.normalized_similarity,
                                   score_cutoff=TYPO_SIMILARITY)
        return found[0] if found else word

    return re.sub(r"[a-z]+", nearest, plain)


def named_request(text: str, slots: Mapping[str, object]) -> Intent | None:
    """What a message without a rule's words asks when it names a service and when: whether
    it is free ("spinning miercuri?"), or to book it ("yoga miercuri la 18")."""
    if "service" not in slots or not ("date" in slots or "time" in slots):
        return None
    asks = text.rstrip().endswith("?") or ASKS_WHETHER.search(strip_diacritics(text.lower()))
    return "availability" if asks else "book"


# A question whether something is there, asked without a question mark ("do you have a double
# for tonight", "aveti yoga vineri").
ASKS_WHETHER = re.compile(r"^\W*(aveti|mai aveti|do you have|have you got|is there|are there|"
                          r"e |este |mai e |se poate|any)\b")


def answer_to_question(text: str) -> Literal["yes", "no"] | None:
    """Whether a reply to a yes/no question says yes or no (None: it says something else)."""
    plain = strip_diacritics(text.lower())
    if YES.search(plain):
        return "yes"
    if NO.search(plain):
        return "no"
    return None


class IntentClassifier:
    """Rules, then the nearest example sentence by MiniLM; one embedding at most per message."""

    def __init__(self, embed: Embed) -> None:
        self._embed = embed
        self._examples: list[tuple[Intent, list[float]]] | None = None

    async def warm_up(self) -> None:
        if self._examples is None:
            pairs = [(intent, text) for intent, texts in EXAMPLES.items() for text in texts]
            vectors = await self._embed([text for _, text in pairs])
            self._examples = [(intent, vector)
                              for (intent, _), vector in zip(pairs, vectors, strict=True)]

    async def classify(self, text: str) -> Intent:
        by_rule = classify_by_rules(text)
        if by_rule is not None:
            return by_rule
        return await self.guess(text)

    async def guess(self, text: str) -> Intent:
        """The intent of the nearest example sentence, or "question" when none is near."""
        await self.warm_up()
        assert self._examples is not None
        [vector] = await self._embed([without_greeting(text)])
        score, intent = max((sum(a * b for a, b in zip(vector, example, strict=True)), intent)
                            for intent, example in self._examples)
        return intent if score >= MIN_SIMILARITY else "question"
