from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import (
    urls_applications,
    urls_cashout,
    urls_complaints,
    urls_lookup,
    urls_monitoring,
    urls_reconciliation,
    urls_reports,
)
from .views import (
    account,
    account_changes,
    areas,
    audit,
    coverage,
    dashboard,
    disbursement,
    imports,
    notifications,
    openings,
    orgs,
    payments,
    payroll,
    payroll_approval,
    payroll_changes,
    payroll_funding,
    payroll_receivables,
    quality,
    reform,
    registry,
    verification,
)

areas_patterns = [
    path("", areas.area_list, name="list"),
    path("print/", areas.area_print, name="print"),
    path("<int:pk>/", areas.area_detail, name="detail"),
    path("<int:pk>/villages/", areas.create_village, name="create_village"),
]
registry_patterns = [
    path("", registry.beneficiary_list, name="list"),
    path("new/", registry.beneficiary_create, name="create"),
    path("export.xlsx", registry.beneficiary_export, name="export"),
    path("print/", registry.beneficiary_print, name="print"),
    path("moves/", registry.move_list, name="moves"),
    path("moves/print/", registry.move_print, name="moves_print"),
    path("moves/<int:pk>/accept/", registry.move_accept, name="move_accept"),
    path("<int:pk>/", registry.beneficiary_detail, name="detail"),
    path("<int:pk>/edit/", registry.beneficiary_edit, name="edit"),
    path("<int:pk>/decisions/new/", registry.decision_create, name="decision"),
    path("<int:pk>/representatives/new/", registry.representative_add, name="representative_add"),
    path("<int:pk>/representatives/<int:link_pk>/end/", registry.representative_end, name="representative_end"),
    path("<int:pk>/payee/", registry.payee_set, name="payee"),
]
payments_patterns = [
    path("<int:pk>/payment-method/", payments.method_change, name="method"),
    path("<int:pk>/payment-payee/", payments.payee_change, name="payee"),
    path("<int:pk>/receiving-accounts/new/", payments.account_add, name="account_add"),
    path("<int:pk>/receiving-accounts/<int:account_pk>/end/", payments.account_end, name="account_end"),
    path("<int:pk>/receiving-accounts/<int:account_pk>/check/", payments.account_check, name="account_check"),
    path("<int:pk>/account-change/withdraw/", payments.change_withdraw, name="change_withdraw"),
]
account_changes_patterns = [
    path("", account_changes.change_list, name="list"),
    path("<int:pk>/reject/", account_changes.change_reject, name="reject"),
]
orgs_patterns = [path("", orgs.org_list, name="list"), path("print/", orgs.org_print, name="print")]
audit_patterns = [path("", audit.audit_list, name="list")]
imports_patterns = [
    path("", imports.import_index, name="index"),
    path("template.xlsx", imports.template_download, name="template"),
    path("<int:pk>/", imports.job_detail, name="detail"),
    path("<int:pk>/status/", imports.job_status, name="status"),
    path("<int:pk>/confirm/", imports.job_confirm, name="confirm"),
    path("<int:pk>/cancel/", imports.job_cancel, name="cancel"),
    path("<int:pk>/report.xlsx", imports.job_report, name="report"),
]
notifications_patterns = [
    path("", notifications.message_list, name="list"),
    path("village-list/", notifications.village_list, name="village_list"),
    path("village-list/print/", notifications.village_print, name="village_print"),
    path("village-list/delivered/", notifications.village_delivered, name="village_delivered"),
]
openings_patterns = [
    path("", openings.request_start, name="start"),
    path("nguoi/<int:beneficiary_id>/", openings.request_form, name="request_form"),
    path("yeu-cau/", openings.request_list, name="requests"),
    path("yeu-cau/xac-nhan/", openings.request_confirm, name="confirm"),
    path("yeu-cau/<int:request_id>/huy/", openings.request_cancel, name="cancel"),
    path("dot-gui/", openings.batch_list, name="batches"),
    path("dot-gui/xuat/", openings.batch_export, name="export"),
    path("dot-gui/<int:batch_id>/tep.xlsx", openings.batch_file, name="batch_file"),
    path("dot-gui/<int:batch_id>/ket-qua/", openings.batch_results, name="results"),
    path("dot-gui/<int:batch_id>/hop-cat/", openings.batch_sandbox, name="sandbox"),
    path("so-lieu/", openings.opening_figures, name="figures"),
]
coverage_patterns = [
    path("coverage/", coverage.coverage_page, name="index"),
    path("registration-lists/", coverage.list_page, name="lists"),
    path("registration-lists/export.xlsx", coverage.list_export, name="export"),
    path("registration-lists/print/", coverage.list_print, name="print"),
]
verification_patterns = [
    path("", verification.run_list, name="list"),
    path("start/", verification.run_start, name="start"),
    path("<int:pk>/", verification.run_detail, name="run"),
]
reform_patterns = [path("villages/", reform.village_assignments, name="villages")]
payroll_patterns = [
    path("cycles/", payroll.cycle_list, name="cycles"),
    path("receivables/", payroll_receivables.receivable_list, name="receivables"),
    path("receivables/<int:receivable_id>/", payroll_receivables.receivable_detail, name="receivable"),
    path(
        "receivables/<int:receivable_id>/recovered/", payroll_receivables.receivable_recover, name="receivable_recover"
    ),
    path(
        "receivables/<int:receivable_id>/write-off/",
        payroll_receivables.receivable_write_off,
        name="receivable_write_off",
    ),
    path(
        "receivables/<int:receivable_id>/write-off/approve/",
        payroll_receivables.receivable_write_off_approve,
        name="receivable_write_off_approve",
    ),
    path(
        "receivables/<int:receivable_id>/write-off/reject/",
        payroll_receivables.receivable_write_off_reject,
        name="receivable_write_off_reject",
    ),
    path("cycles/<int:pk>/", payroll.cycle_detail, name="cycle"),
    path("cycles/<int:pk>/transition/", payroll.cycle_transition, name="transition"),
    path("cycles/<int:pk>/generate/", payroll.cycle_generate, name="generate"),
    # approval, withdrawing a draft, payment fixes, provider lists (views/payroll_approval.py)
    path("cycles/<int:pk>/approve/", payroll_approval.approve, name="approve"),
    path("cycles/<int:pk>/withdraw/", payroll_approval.withdraw, name="withdraw"),
    path("cycles/<int:pk>/fixes/request/", payroll_approval.fix_request, name="fix_request"),
    path("cycles/<int:pk>/fixes/decide/", payroll_approval.fix_decide, name="fix_decide"),
    path("cycles/<int:pk>/provider-lists/", payroll_approval.provider_list, name="provider_list"),
    path("cycles/<int:pk>/funding/", payroll_funding.funding_request_create, name="funding_request"),
    path("cycles/<int:pk>/funding/xlsx/", payroll_funding.funding_request_xlsx, name="funding_xlsx"),
    path("cycles/<int:pk>/advances/", payroll_funding.advance_create, name="advance"),
    path("budget/", payroll_funding.budget_page, name="budget"),
    path("calendar/", payroll.calendar_edit, name="calendar"),
    path("contracts/", payroll.contract_list, name="contracts"),
    path("contracts/new/", payroll.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", payroll.contract_detail, name="contract"),
    # the communes' monthly change lists (views/payroll_changes.py)
    path("changes/", payroll_changes.my_change_lists, name="change_lists"),
    path("changes/<int:list_id>/", payroll_changes.change_list_detail, name="change_list"),
    path("changes/<int:list_id>/rebuild/", payroll_changes.change_list_rebuild, name="change_list_rebuild"),
    path("changes/<int:list_id>/submit/", payroll_changes.change_list_submit, name="change_list_submit"),
    path("changes/<int:list_id>/items/", payroll_changes.change_list_add_item, name="change_list_add_item"),
    path(
        "changes/<int:list_id>/items/<int:item_id>/remove/",
        payroll_changes.change_list_remove_item,
        name="change_list_remove_item",
    ),
    path("changes/<int:list_id>/accept/", payroll_changes.change_list_accept, name="change_list_accept"),
    path("changes/<int:list_id>/return/", payroll_changes.change_list_return, name="change_list_return"),
    path(
        "changes/<int:list_id>/use-previous/", payroll_changes.change_list_use_previous, name="change_list_use_previous"
    ),
    path("cycles/<int:pk>/changes/", payroll_changes.cycle_changes, name="cycle_changes"),
    path("cycles/<int:pk>/changes/build/", payroll_changes.cycle_changes_build, name="cycle_changes_build"),
    path("cycles/<int:pk>/changes/appraise/", payroll_changes.cycle_changes_appraise, name="cycle_changes_appraise"),
    # the transfer leg: provider batches, status files, exceptions, the sandbox bank (views/disbursement.py)
    path("cycles/<int:pk>/transfers/", disbursement.transfers, name="transfers"),
    path("cycles/<int:pk>/transfers/build/", disbursement.transfers_build, name="transfers_build"),
    path("transfers/batches/<int:batch_id>/", disbursement.batch_detail, name="transfer_batch"),
    path("transfers/batches/<int:batch_id>/file/<str:fmt>/", disbursement.batch_file, name="transfer_file"),
    path("transfers/batches/<int:batch_id>/submit/", disbursement.batch_submit, name="transfer_submit"),
    path("transfers/batches/<int:batch_id>/query/", disbursement.batch_query, name="transfer_query"),
    path("transfers/batches/<int:batch_id>/status-file/", disbursement.batch_status_file, name="transfer_status_file"),
    path("transfers/exceptions/", disbursement.exception_list, name="transfer_exceptions"),
    path("transfers/exceptions/<int:exc_id>/", disbursement.exception_detail, name="transfer_exception"),
    path("transfers/exceptions/<int:exc_id>/fix/", disbursement.exception_fix, name="transfer_exception_fix"),
    path("transfers/exceptions/<int:exc_id>/hold/", disbursement.exception_hold, name="transfer_exception_hold"),
    path(
        "transfers/exceptions/<int:exc_id>/overpayment/",
        disbursement.exception_overpayment,
        name="transfer_exception_overpayment",
    ),
    path("transfers/exceptions/<int:exc_id>/query/", disbursement.exception_query, name="transfer_exception_query"),
    path("transfers/sandbox-bank/", disbursement.sandbox_bank, name="sandbox_bank"),
]
account_patterns = [
    path("tokens/", account.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", account.revoke_token, name="revoke_token"),
    path("two-factor/", account.two_factor, name="two_factor"),
]

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("areas/", include((areas_patterns, "areas"))),
    path("beneficiaries/", include((registry_patterns, "registry"))),
    path("beneficiaries/", include((payments_patterns, "payments"))),
    path("orgs/", include((orgs_patterns, "orgs"))),
    path("audit/", include((audit_patterns, "audit"))),
    path("account/", include((account_patterns, "account"))),
    path("imports/", include((imports_patterns, "imports"))),
    path("reform/", include((reform_patterns, "reform"))),
    path("verification/", include((verification_patterns, "verification"))),
    path("notifications/", include((notifications_patterns, "notifications"))),
    path("worklists/", quality.worklist, name="worklists"),
    path("payroll/", include((payroll_patterns, "payroll"))),
    path("mo-tai-khoan/", include((openings_patterns, "openings"))),
    path("account-changes/", include((account_changes_patterns, "account_changes"))),
    path("payments/", include((coverage_patterns, "coverage"))),
    path("cash/", include((urls_cashout.urlpatterns, "cashout"))),
    path("complaints/", include((urls_complaints.urlpatterns, "complaints"))),
    path("applications/", include((urls_applications.urlpatterns, "applications"))),
    path("reconciliation/", include((urls_reconciliation.urlpatterns, "reconciliation"))),
    path("reports/", include((urls_reports.urlpatterns, "reports"))),
    path("monitoring/", include((urls_monitoring.urlpatterns, "monitoring"))),
    path("lookups/", include((urls_lookup.urlpatterns, "lookup"))),
    # the public, mobile-first site (no sign-in): status lookup, complaints, applications
    path(
        "",
        include(
            (
                urls_lookup.public_urlpatterns
                + urls_complaints.public_urlpatterns
                + urls_applications.public_urlpatterns
                + urls_cashout.public_urlpatterns,
                "public",
            )
        ),
    ),
]
