"""What of an activity is tagged: its title and description in one language.

The model reads English best; French, Spanish, Arabic, Russian and Chinese it reads through
word tables learnt from the official SDG texts (a little less well, see
``make bench-sdg``). So the language chosen is the first of English, French, Spanish,
Arabic, Chinese, Russian in which the activity has a description (the longer, richer
text), else a title.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain import Activity, Language

__all__ = ["ActivityText", "activity_text"]

_PREFERENCE: tuple[Language, ...] = ("en", "fr", "es", "ar", "zh", "ru")


@dataclass(frozen=True, slots=True)
class ActivityText:
    language: str
    text: str
    curated_goals: tuple[int, ...]
    curated_targets: tuple[str, ...]


def activity_text(activity: Activity) -> ActivityText:
    """The text to tag and the registry's curated tags, which win over computed ones."""
    described = [lang for lang in _PREFERENCE if lang in activity.description]
    titled = [lang for lang in _PREFERENCE if lang in activity.title]
    language = (described or titled)[0]
    title = activity.title.get(language)
    description = activity.description.get(language)
    text = "\n\n".join(part for part in (title, description) if part)
    return ActivityText(
        language=language,
        text=text,
        curated_goals=tuple(activity.sdg.goals),
        curated_targets=tuple(activity.sdg.targets),
    )
