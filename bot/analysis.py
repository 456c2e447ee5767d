"""The pure pipeline for one post: tokenise once, match every term in one pass, classify, extract."""

from __future__ import annotations

from dataclasses import dataclass

from bot.extract.events import Extractor
from bot.model import Analysis, Post
from bot.rules.engine import RuleSet
from bot.rules.matcher import Matcher
from bot.rules.text import tokenise


@dataclass(frozen=True)
class Analyser:
    """Rules and extractor compiled together into one matcher; ``analyse`` is pure."""

    ruleset: RuleSet
    extractor: Extractor
    matcher: Matcher

    @classmethod
    def build(cls, ruleset: RuleSet, extractor: Extractor) -> Analyser:
        """Compile one automaton over the rule concepts, gazetteer names and group names.

        The extractor is bound to the rule set so each event of a multi-attack post gets
        the labels (attack type, target) of its own part of the text.
        """
        bound = extractor.bind(ruleset)
        analyser = cls(ruleset, bound, Matcher([*ruleset.entries, *bound.entries]))
        _ = ruleset.prefilter  # compiled now, at start-up, not on the first live post
        return analyser

    def analyse(self, post: Post) -> Analysis:
        """Classify a post and, when it is relevant, extract its events."""
        doc = tokenise(post.text)
        # the same verdict as evaluate(doc, scan(doc)); posts no relevance rule can fire on
        # skip the scan, and a relevant post always comes with its full hits
        classification, hits = self.ruleset.classify_doc(doc, self.matcher)
        if not classification.relevant:
            return Analysis(classification)
        return Analysis(classification, self.extractor.extract(post, doc, hits, classification))
