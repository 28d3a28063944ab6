"""Evidence packs: export the story of a model version or incident as a ZIP, verify it offline.

:mod:`governance.evidence.pack` exports, :mod:`governance.evidence.verify` checks; the layout
is in :mod:`governance.evidence.layout` and ``docs/evidence.md``.
"""
