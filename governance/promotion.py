"""The promotion job: the only code path that writes to the production registry.

Locally it copies an approved UAT model version into the prod store with explicit clients
(cross-store ``copy_model_version`` does not work in OSS MLflow, stack-notes §7): download the
UAT version's files, log them into a prod run, register a prod version tagged with the approval
id, source model URI, source run id and ledger hash (UAT tags are not carried over), verify the
copy's digest, and move the ``champion`` alias last. The job writes ``model_promoted`` to the
ledger after the alias moved.

Callers: the demo's bootstrap promotions and :mod:`governance.promotion_job`, which runs it for
a signed approval.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance import envguard, ledger
from governance.errors import GovernanceError
from governance.registry import Registry, model_digest
from governance.warehouse import Warehouse

PROMOTION_EXPERIMENT = "driftgate-promotions"


@dataclass(frozen=True)
class Promotion:
    """What a successful promotion produced.

    Attributes:
        model_name: Registered model name (same in both environments).
        uat_version: The source version in UAT.
        prod_version: The new version in prod, now ``champion``.
        digest: sha256 of the model files, identical on both sides.
        ledger_seq: Sequence number of the ``model_promoted`` entry.
    """

    model_name: str
    uat_version: str
    prod_version: str
    digest: str
    ledger_seq: int


class PromotionFailed(GovernanceError):
    """The copy could not be completed or verified; prod's champion was not moved."""


def _copy(prod: Registry, local: Path, model_name: str, uat_version: str, approval_id: str,
          source_uri: str, source_run_id: str, digest: str, tmp: Path) -> tuple[Any, str]:
    """Copy the files into a new prod version, or reuse the verified copy an earlier attempt
    with the same approval left (a retry never leaves two copies behind)."""
    for earlier in prod.versions_tagged(model_name, "driftgate.approval_id", approval_id):
        # The tag says what the copy should be; only the files themselves say what it is.
        if earlier.tags.get("driftgate.model_digest") == digest and model_digest(
                prod.download_model(model_name, str(earlier.version),
                                    tmp / f"earlier-{earlier.version}")) == digest:
            return earlier, str(earlier.run_id)
    run_id = prod.start_run(
        PROMOTION_EXPERIMENT,
        f"promote-{model_name}-v{uat_version}",
        {"driftgate.approval_id": approval_id, "driftgate.source_run_id": source_run_id},
    )
    prod.log_artifacts(run_id, local, "model")
    tags = {
        "driftgate.approval_id": approval_id,
        "driftgate.source_model_uri": source_uri,
        "driftgate.source_environment": "uat",
        "driftgate.source_run_id": source_run_id,
        "driftgate.model_digest": digest,
    }
    version = prod.register_version(model_name, run_id, "model", tags,
                                    description=f"Promoted from uat {source_uri}")
    copied = prod.download_model(model_name, str(version.version), tmp / "prod")
    if model_digest(copied) != digest:
        prod.end_run(run_id, "FAILED")
        raise PromotionFailed(
            f"{model_name}: prod v{version.version} does not match uat v{uat_version}",
            hint="retry the promotion with the same approval",
        )
    prod.end_run(run_id)
    return version, run_id


def promote(
    warehouse: Warehouse,
    uat: Registry,
    prod: Registry,
    *,
    model_name: str,
    uat_version: str,
    approval_id: str,
    actor: str,
    reason: str,
    expected_digest: str | None = None,
) -> Promotion:
    """Copy ``model_name`` v``uat_version`` from UAT to prod and make it champion.

    Args:
        warehouse: Governance store, for the ledger entry.
        uat: The UAT registry (read only here).
        prod: The prod registry.
        model_name: Model to promote.
        uat_version: Version in UAT.
        approval_id: The approval that authorises this promotion (idempotency key).
        actor: Who runs the job, e.g. ``system:promotion-job``.
        reason: Recorded in the ledger, e.g. ``bootstrap`` or ``approved``.
        expected_digest: The model-file digest the approval signed; the copy is refused when
            the UAT files no longer match it.

    Returns:
        The promotion record.

    Raises:
        PromotionFailed: The copy failed verification; the alias was not moved.
    """
    source = uat.model_version(model_name, uat_version)
    source_run_id = str(source.run_id or "")
    with envguard.prod_writes("governance.promotion", f"approval {approval_id}"), \
            tempfile.TemporaryDirectory(prefix="driftgate-promote-") as tmp:
        local = uat.download_model(model_name, uat_version, Path(tmp) / "uat")
        digest = model_digest(local)
        if expected_digest is not None and digest != expected_digest:
            raise PromotionFailed(
                f"{model_name}: uat v{uat_version} no longer matches the approved files "
                f"({expected_digest[:12]}, now {digest[:12]})",
                hint="the candidate changed after approval; request a new approval")
        source_uri = f"models:/{model_name}/{uat_version}"
        version, run_id = _copy(prod, local, model_name, uat_version, approval_id, source_uri,
                                source_run_id, digest, Path(tmp))
        # One unit of work around the last steps: the ledger entry commits only after the
        # alias moved, so a failed alias move leaves no claimed promotion behind.
        try:
            with warehouse.session() as session:
                entry = ledger.append(
                    session,
                    actor=actor,
                    environment="prod",
                    event_type="model_promoted",
                    subject=model_name,
                    payload={
                        "approval_id": approval_id,
                        "reason": reason,
                        "uat_version": uat_version,
                        "prod_version": str(version.version),
                        "source_model_uri": source_uri,
                        "source_run_id": source_run_id,
                        "prod_run_id": run_id,
                        "model_digest": digest,
                    },
                )
                prod.set_version_tag(model_name, str(version.version), "driftgate.ledger_hash",
                                     entry.hash)
                # The alias moves last: until here prod's champion still serves the old one.
                prod.set_champion(model_name, str(version.version))
        except GovernanceError:
            raise
        except Exception as exc:  # MLflow raises many unrelated types
            raise PromotionFailed(
                f"{model_name}: promoting uat v{uat_version} failed at the final step: {exc}",
                hint="prod's champion did not move; retry the promotion with the same approval",
            ) from exc
    return Promotion(model_name, uat_version, str(version.version), digest, entry.seq)
