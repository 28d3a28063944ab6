"""Evidence packs: export the story of a model version or incident as a ZIP, verify it offline.

:mod:`governance.evidence.pack` exports, :mod:`governance.evidence.verify` checks (with
:mod:`governance.evidence.crosscheck` holding the context files to the ledger entries); the
layout is in :mod:`governance.evidence.layout` and ``docs/evidence.md``.
"""
