"""Web URLs of reconciliation (issue 13), namespace "reconciliation"."""

from django.urls import URLPattern, path

from ansinh.web.views import ledger as ledger_views
from ansinh.web.views import reconciliation as recon_views
from ansinh.web.views import settlement as settlement_views

urlpatterns: list[URLPattern] = []

# bank statements and reconciliation exceptions (issue 13 part 2)
urlpatterns += [
    path("", recon_views.exception_list, name="exceptions"),
    path("exceptions/<int:recon_id>/", recon_views.exception_detail, name="exception"),
    path("exceptions/<int:recon_id>/fix/", recon_views.exception_fix, name="exception_fix"),
    path("exceptions/<int:recon_id>/recover/", recon_views.exception_recover, name="exception_recover"),
    path("exceptions/<int:recon_id>/write-off/", recon_views.exception_write_off, name="exception_write_off"),
    path("exceptions/<int:recon_id>/note/", recon_views.exception_note, name="exception_note"),
    path("statements/", recon_views.statement_list, name="statements"),
    path("statements/<int:statement_id>/", recon_views.statement_detail, name="statement"),
    path("cycles/<int:cycle_id>/", recon_views.cycle_view, name="cycle"),
    path("cycles/<int:cycle_id>/run/", recon_views.cycle_run, name="cycle_run"),
]

# the ledger per cycle (issue 13 part 1)
urlpatterns += [path("cycles/<int:cycle_id>/ledger/", ledger_views.ledger_page, name="ledger")]

# provider and office settlement, monthly lists (issue 13 parts 3 and 4)
urlpatterns += [
    path("settlement/", settlement_views.settlement_list, name="settlements"),
    path("settlement/<int:cycle_id>/", settlement_views.settlement_detail, name="settlement"),
    path("settlement/<int:cycle_id>/print/", settlement_views.settlement_print, name="settlement_print"),
    path("settlement/<int:cycle_id>/xlsx/", settlement_views.settlement_xlsx, name="settlement_xlsx"),
    path("settlement/<int:cycle_id>/submit/", settlement_views.settlement_submit, name="settlement_submit"),
    path("settlement/<int:cycle_id>/accept/", settlement_views.settlement_accept, name="settlement_accept"),
    path("settlement/<int:cycle_id>/return/", settlement_views.settlement_return, name="settlement_return"),
    path("settlement/<int:cycle_id>/office/sent/", settlement_views.office_sent, name="office_sent"),
    path("settlement/<int:cycle_id>/office/xlsx/", settlement_views.office_xlsx, name="office_xlsx"),
    path("settlement/<int:cycle_id>/office/summary/", settlement_views.office_summary_xlsx, name="office_summary_xlsx"),
    path("lists/", settlement_views.monthly_list, name="settlement_lists"),
    path("lists/xlsx/", settlement_views.monthly_list_xlsx, name="settlement_lists_xlsx"),
]
