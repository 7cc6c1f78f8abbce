"""Human names for audit actions and changed fields. Later modules add their actions here;
an action without a label is shown as its typed name."""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "accounts.user.created": _("User created"),
    "accounts.user.changed": _("User changed"),
    "accounts.user.deleted": _("User deleted"),
    "accounts.user.password_changed": _("Password changed"),
    "accounts.role.assigned": _("Role assigned"),
    "accounts.role.changed": _("Role assignment changed"),
    "accounts.role.revoked": _("Role revoked"),
    "accounts.orgunit.created": _("Organisation unit created"),
    "accounts.orgunit.changed": _("Organisation unit changed"),
    "accounts.orgunit.deleted": _("Organisation unit deleted"),
    "accounts.responsibility.assigned": _("Responsibility assigned"),
    "accounts.responsibility.changed": _("Responsibility changed"),
    "accounts.responsibility.deleted": _("Responsibility removed"),
    "accounts.responsibility.ended": _("Responsibility ended"),
    "accounts.group.created": _("Group created"),
    "accounts.group.changed": _("Group changed"),
    "accounts.group.deleted": _("Group deleted"),
    "accounts.api_token.created": _("API token created"),
    "accounts.api_token.revoked": _("API token revoked"),
    "accounts.api_token.expiry_set": _("API tokens given an end date"),
    "areas.area.created": _("Area created"),
    "areas.area.changed": _("Area changed"),
    "areas.village.created": _("Village created"),
    "areas.village.renamed": _("Village renamed"),
    "areas.tree.loaded": _("Administrative tree loaded"),
    "areas.area.deleted": _("Area deleted"),
    "areas.paths.updated": _("Records moved with their areas"),
    "registry.exported": _("Beneficiary list exported"),
    "registry.printed": _("Beneficiary list printed"),
    "payments.registration_list.exported": _("Registration list exported"),
    "payments.registration_list.printed": _("Registration list printed"),
    "areas.succession.loaded": _("2025 commune succession loaded"),
    "reform.transition.applied": _("Records moved to the 2025 communes"),
    "reform.village.assigned": _("Village placed in its 2025 commune"),
    "demo.registry.loaded": _("Demo registry loaded"),
    "demo.registry.synthetic_loaded": _("Synthetic registry loaded"),
    "demo.payments.loaded": _("Demo payment methods loaded"),
    "demo.payments.synthetic_loaded": _("Synthetic payment methods loaded"),
    "policy.programme.changed": _("Programme changed"),
    "policy.category.changed": _("Category changed"),
    "policy.standard_level.changed": _("Standard level changed"),
    "policy.standard_level.closed": _("Standard level ended"),
    "policy.coefficient_rule.changed": _("Coefficient changed"),
    "policy.coefficient_rule.closed": _("Coefficient ended"),
    "policy.fixed_amount.changed": _("Fixed amount changed"),
    "policy.fixed_amount.closed": _("Fixed amount ended"),
    "payroll.cycles.opened": _("Payment cycles opened"),
    "payroll.cycle.transitioned": _("Payment cycle moved to another step"),
    "payroll.calendar.changed": _("Payment calendar changed"),
    "payroll.payroll.generated": _("Payroll generated"),
    "payroll.cycle.appraised_without_change_lists": _("Payment cycle appraised without change lists"),
    "payroll.contract.created": _("Provider contract recorded"),
    "registry.beneficiary.created": _("Beneficiary registered"),
    "registry.beneficiary.updated": _("Beneficiary corrected"),
    "registry.decision.start": _("Decision: start of allowance"),
    "registry.decision.adjust": _("Decision: adjustment"),
    "registry.decision.suspend": _("Decision: suspension"),
    "registry.decision.resume": _("Decision: resumption"),
    "registry.decision.stop": _("Decision: stop"),
    "registry.decision.move": _("Decision: move to another commune"),
    "registry.decision.move_received": _("Decision: received from another commune"),
    "registry.representative.created": _("Representative registered"),
    "registry.representative.updated": _("Representative corrected"),
    "registry.representation.saved": _("Representative linked"),
    "registry.representation.ended": _("Representative ended"),
    "registry.payee.changed": _("Payee changed"),
    "payments.method.changed": _("Payment method changed"),
    "payments.payee.designated": _("Payee designated from a month"),
    "payments.account.registered": _("Receiving account recorded"),
    "payments.account.name_confirmed": _("Account holder name confirmed"),
    "payments.account.activated": _("Receiving account activated"),
    "payments.institutions.loaded": _("Banks and wallets loaded"),
    "payments.account_keys.rotated": _("Account-number keys rotated"),
    "payments.account_change.requested": _("Change of receiving account asked for"),
    "payments.account_change.approved": _("Change of receiving account approved"),
    "payments.account_change.rejected": _("Change of receiving account rejected"),
    "payments.account_change.withdrawn": _("Change of receiving account withdrawn"),
    "payments.account.closed": _("Receiving account closed"),
    "payments.account.rejected": _("Receiving account rejected"),
    "accounts.otp.enrolled": _("Authenticator app enrolled"),
    "accounts.otp.removed": _("Authenticator app removed"),
    "notifications.queued": _("Notification queued"),
    "openings.request.created": _("Account opening requested"),
    "openings.request.confirmed": _("Account-opening request confirmed"),
    "openings.request.cancelled": _("Account-opening request cancelled"),
    "openings.request.opened": _("Account opened by the bank"),
    "openings.request.rejected": _("Account opening refused by the bank"),
    "openings.batch.exported": _("Account-opening file made for the bank"),
    "openings.batch.downloaded": _("Account-opening file downloaded"),
    "openings.results.imported": _("Bank's account-opening results imported"),
    "registry.import.uploaded": _("File uploaded for import"),
    "registry.import.checking": _("Import being checked"),
    "registry.import.checked": _("Import checked"),
    "registry.import.failed": _("Import failed"),
    "registry.import.file_purged": _("Uploaded import file deleted (retention period)"),
    "registry.import.confirmed": _("Import confirmed"),
    "registry.import.done": _("Import written"),
    "registry.import.cancelled": _("Import cancelled"),
    "identity.verified": _("Identities verified against the population database"),
    "quality.refreshed": _("Data-quality worklists refreshed"),
    "policy.loaded": _("Policy file loaded"),
    "policy.standard_level.set": _("Standard level set"),
    "policy.coefficient_rule.set": _("Coefficient set"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def action_choices() -> list[tuple[str, str]]:
    """The catalogue as choices of the audit list's action filter, by label: a constant list,
    where a DISTINCT over the log would read millions of rows on every request."""
    return sorted(((a, str(label)) for a, label in ACTION_LABELS.items()), key=lambda c: c[1].lower())


def field_label(object_type: str, name: str) -> str:
    """The verbose name of a model field from an audit event's object type ('areas.area')."""
    try:
        model = apps.get_model(object_type)
        field = model._meta.get_field(name)
        # reverse relations (e.g. a beneficiary's "categories") have no verbose_name
        return str(
            getattr(field, "verbose_name", None) or getattr(field.related_model._meta, "verbose_name_plural", name)
        )
    except (LookupError, ValueError, FieldDoesNotExist, AttributeError):
        return name
