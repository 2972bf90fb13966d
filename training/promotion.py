"""The evaluate-and-register decision (pure): candidate versus the current production model, same test data.

Higher AUC is better. (The original sample compared AUC as if lower were better and defaulted a missing
production score to 10000, so no new model could ever win.)

Outcomes:
  rejected      the candidate is below ``min_auc``: the run fails, nothing is registered.
  promoted      registered and given the alias: there is no production model yet (the first model is not
                blocked by a missing score), production cannot score this data, or the candidate beats
                production by at least the margin.
  not_promoted  registered WITHOUT the alias. Why register a loser at all: every model that passed the floor
                stays in the registry with its lineage and both scores, so anyone can compare or promote it
                by hand later, and the job's output always names a model version; serving only ever follows
                the alias, so an extra version changes nothing that is deployed.
"""
from __future__ import annotations

from dataclasses import dataclass

PROMOTED, NOT_PROMOTED, REJECTED = "promoted", "not_promoted", "rejected"


@dataclass(frozen=True)
class ProductionScore:
    """The model holding the alias, scored on the candidate's test data (auc is None when it cannot score it)."""

    version: str
    auc: float | None
    unscorable_reason: str = ""


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str
    candidate_auc: float
    production: ProductionScore | None
    alias: str
    margin: float

    @property
    def promote(self) -> bool:
        return self.outcome == PROMOTED

    @property
    def register(self) -> bool:
        return self.outcome != REJECTED

    @property
    def improvement(self) -> float | None:
        if self.production is None or self.production.auc is None:
            return None
        return self.candidate_auc - self.production.auc

    def tags(self) -> dict[str, str]:
        """For the MLflow run and the model version: the decision, why, and what it was compared with."""
        tags = {"promotion.decision": self.outcome, "promotion.reason": self.reason,
                "promotion.alias": self.alias, "promotion.margin": str(self.margin)}
        if self.production is not None:
            tags["promotion.production_version"] = self.production.version
        return tags

    def metrics(self) -> dict[str, float]:
        metrics = {"candidate_auc": self.candidate_auc}
        if self.production is not None and self.production.auc is not None:
            metrics.update(production_auc=self.production.auc, production_gini=2.0 * self.production.auc - 1.0,
                           auc_improvement=self.candidate_auc - self.production.auc)
        return metrics

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "reason": self.reason, "alias": self.alias, "margin": self.margin,
                "candidate_auc": self.candidate_auc,
                "production_version": self.production.version if self.production else None,
                "production_auc": self.production.auc if self.production else None,
                "auc_improvement": self.improvement}


def decide(candidate_auc: float, production: ProductionScore | None, *, min_auc: float, margin: float,
           alias: str) -> Decision:
    def made(outcome: str, reason: str) -> Decision:
        return Decision(outcome, reason, candidate_auc, production, alias, margin)

    if candidate_auc < min_auc:
        return made(REJECTED, f"test AUC {candidate_auc:.4f} is below the floor min_auc={min_auc:.4f}")
    if production is None:
        return made(PROMOTED, f"no model holds the alias {alias!r} yet; the first model above min_auc is promoted")
    if production.auc is None:
        # The aliased model cannot score data of the current contract (e.g. the contract dropped a column it
        # uses), so it could not serve it either: the candidate replaces it. The reason names what was missing.
        return made(PROMOTED, f"production version {production.version} cannot score this test data "
                              f"({production.unscorable_reason}); the candidate replaces it")
    gain = candidate_auc - production.auc
    versus = (f"test AUC {candidate_auc:.4f} vs production version {production.version} {production.auc:.4f} "
              f"on the same test data (improvement {gain:+.4f}, margin {margin:.4f})")
    # Strictly better AND by at least the margin: an equal model (margin 0) does not churn the alias.
    if gain > 0 and round(gain, 12) >= margin:
        return made(PROMOTED, f"{versus}: beats production")
    return made(NOT_PROMOTED, f"{versus}: does not beat production by the margin; registered without the alias")
