"""Several requests in one message, taken one at a time.

Citizens often chain two requests: « Quels sont les horaires de la piscine et aussi où se trouve
la médiathèque ? ». The NLU gives one intent per message, and its bag-of-features classifier
cannot tell which request comes first, so the channels hand such a message to the assistant as
consecutive messages, one per request, and the citizen gets both answers in order (inside a
form, the second one is an interruption that the form answers and then resumes).

The split is conservative: only at an explicit connective (« et aussi », « et puis », « autre
question », « par ailleurs »...), before « et » followed by a question (« et où ... ? »), or
between two questions, and only when each part is a request
of at least ``MIN_WORDS`` words and the rest is not mere politeness. « Une carte d'identité et
aussi un passeport » stays one message (the second part is too short to be a request of its
own), and so does any message in which the emergency detector sees danger: its meaning must not
be cut in two.
"""
from __future__ import annotations

import re
from typing import Callable, List, Optional

from townhall.text import fold

MIN_WORDS = 3
MAX_PARTS = 3

# Where one request ends and another begins. The connective itself is dropped.
_CONNECTIVE = re.compile(
    r"[\s,;]*\b(?:"
    r"et\s+aussi|et\s+puis\s+aussi|et\s+puis|et\s+(?:é|e)galement|et\s+sinon|"
    r"(?:j'ai\s+|j\s+ai\s+|jai\s+)?(?:une\s+)?(?:autre|deuxi(?:è|e)me|seconde?|2e|2eme)\s+question|"
    r"(?:une\s+)?autre\s+chose|par\s+ailleurs|d'autre\s+part|ah\s+et|oh\s+et|au\s+fait"
    r")\b[\s,:;.!-]*",
    re.IGNORECASE,
)
# A bare « et » before a question that ends with a question mark: « ... et où se trouve la
# médiathèque ? » (not « ... et quand il pleut c'est inondé », which goes on the same request).
_AND_QUESTION = re.compile(
    r"[\s,;]*\bet\s+(?=(?:où|quand|comment|combien|pourquoi|quel|quelle|quels|quelles|est-ce|"
    r"à\s+quelle\s+heure|a\s+quelle\s+heure|c'est\s+(?:quand|où|ou|combien|quoi))\b[^?]*\?\s*$)",
    re.IGNORECASE,
)
# Two questions: a question mark followed by a further question that ends with one.
_BETWEEN_QUESTIONS = re.compile(r"(?<=\?)\s+(?=[^?]+\?\s*$)")

_WORD = re.compile(r"\w+", re.UNICODE)
_POLITENESS = frozenset(
    "merci mrc mci beaucoup bcp davance d avance par avance svp stp s il vous te plait plaît "
    "bonne journee soiree cordialement bien a vous au revoir".split()
)


def _words(text: str) -> List[str]:
    return _WORD.findall(fold(text))


def _is_request(part: str) -> bool:
    words = _words(part)
    return len(words) >= MIN_WORDS and not all(w in _POLITENESS for w in words)


def split_requests(text: str) -> List[str]:
    """The requests of ``text`` in order; ``[text]`` when it holds one (or when unsure)."""
    if text.lstrip().startswith("/"):  # a button's payload ("/inform{...}"), never prose
        return [text]
    cuts = sorted([(m.start(), m.end()) for m in _CONNECTIVE.finditer(text)]
                  + [(m.start(), m.end()) for m in _AND_QUESTION.finditer(text)]
                  + [(m.start(), m.end()) for m in _BETWEEN_QUESTIONS.finditer(text)])
    parts: List[str] = []
    begin = 0
    for start, end in cuts:
        if start < begin or len(parts) == MAX_PARTS - 1:
            continue
        head, rest = text[begin:start], text[end:]
        if _is_request(head) and _is_request(rest):
            parts.append(head.strip(" ,;"))
            begin = end
    if not parts:
        return [text]
    parts.append(text[begin:].strip())
    return parts


def requests_in(text: str, is_emergency: Optional[Callable[[str], object]] = None) -> List[str]:
    """What a channel hands to the assistant, in order: ``split_requests(text)``, or the whole
    message when it reports an emergency (``is_emergency``, the emergency detector by default)."""
    parts = split_requests(text)
    if len(parts) == 1:
        return parts
    if is_emergency is None:
        from townhall.incidents import emergency

        is_emergency = emergency.detect
    return [text] if is_emergency(text) else parts
