"""Driftgate dashboard entry point: ``streamlit run app/main.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/ first, not the repo root
    sys.path.insert(0, str(ROOT))

from app import components, identity, resources  # noqa: E402  (needs the path fix above)

st.set_page_config(page_title="Driftgate", page_icon="🛡️", layout="wide")

settings = components.guarded(resources.settings)
who = identity.current_identity(settings)
held = identity.roles(who, settings)

PAGES = [
    st.Page(ROOT / "pages" / "overview.py", title="Overview", icon=":material/dashboard:",
            default=True),
    st.Page(ROOT / "pages" / "drift.py", title="Drift", icon=":material/query_stats:",
            url_path="drift"),
]
# Approvals: any signed-in Driftgate role; read-only for everyone when sign-in is not set up,
# so the demo stays browsable. Governance re-checks every decision whatever is shown here.
if identity.may_open_approvals(who, held, identity.sign_in_configured(settings)):
    PAGES.append(st.Page(ROOT / "pages" / "approvals.py", title="Approvals",
                         icon=":material/approval:", url_path="approvals"))
# Audit and lineage: auditors, admins and approvers (browsable when sign-in is not set up).
if identity.may_open_audit(who, held, identity.sign_in_configured(settings)):
    PAGES += [st.Page(ROOT / "pages" / "audit.py", title="Audit", icon=":material/fact_check:",
                      url_path="audit"),
              st.Page(ROOT / "pages" / "lineage.py", title="Lineage",
                      icon=":material/account_tree:", url_path="lineage")]

navigation = st.navigation(PAGES)
components.environment_badge(settings.backend, resources.describe_workspace())
identity.sidebar(settings)
navigation.run()
