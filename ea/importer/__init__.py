"""The import engine of the wizard: stage → reconcile → apply, over `uwlr.model` data. No HTTP in here.

- `staging.stage(school, data, ...)` checks the LAS answer, stores it as staged rows of a new ImportRun and
  reconciles it (one pass, bulk inserts);
- `reconcile.herbereken(run)` re-evaluates the automatic decisions after the user changed one by hand;
- `apply.apply(run, user)` writes everything in one transaction, or nothing.
"""

from ea.importer.apply import afbreken, apply, samenvatting
from ea.importer.fouten import ImportFout
from ea.importer.reconcile import herbereken, koppel_handmatig, zet_besluit, zet_email
from ea.importer.staging import stage

__all__ = [
    "ImportFout",
    "afbreken",
    "apply",
    "herbereken",
    "koppel_handmatig",
    "samenvatting",
    "stage",
    "zet_besluit",
    "zet_email",
]
