"""Web URLs of ansinh.cashout (issue 12): `urlpatterns` for staff (namespace "cashout"),
`public_urlpatterns` for the public site (namespace "public")."""

from django.urls import URLPattern, path

from .views import cashout, cashout_field

# pay points, routes, coverage, cash lists (parts 1 and 2)
places_patterns: list[URLPattern] = [
    path("pay-points/", cashout.pay_point_list, name="pay_points"),
    path("pay-points/new/", cashout.pay_point_create, name="pay_point_create"),
    path("pay-points/<int:pay_point_id>/", cashout.pay_point_detail, name="pay_point"),
    path("pay-points/<int:pay_point_id>/edit/", cashout.pay_point_edit, name="pay_point_edit"),
    path("pay-points/<int:pay_point_id>/active/", cashout.pay_point_active, name="pay_point_active"),
    path("pay-points/<int:pay_point_id>/days/", cashout.pay_point_days, name="pay_point_days"),
    path("routes/", cashout.route_list, name="routes"),
    path("routes/new/", cashout.route_create, name="route_create"),
    path("routes/<int:route_id>/", cashout.route_detail, name="route"),
    path("routes/<int:route_id>/edit/", cashout.route_edit, name="route_edit"),
    path("routes/<int:route_id>/active/", cashout.route_active, name="route_active"),
    path("routes/<int:route_id>/days/", cashout.route_days, name="route_days"),
    path("coverage/", cashout.coverage_page, name="coverage"),
    path("cycles/", cashout.cycle_list, name="cycles"),
    path("cycles/<int:cycle_id>/", cashout.cycle_lists, name="cycle_lists"),
    path("cycles/<int:cycle_id>/build/", cashout.cycle_build, name="cycle_build"),
    path("lists/<int:cash_list_id>/", cashout.cash_list_detail, name="cash_list"),
    path("lists/<int:cash_list_id>/print/", cashout.cash_list_print, name="cash_list_print"),
]

# recording on the lists: receipts (field page offline too), closing, withdrawals, follow-ups (parts 3 and 4)
recording_patterns: list[URLPattern] = [
    path("field/", cashout_field.field_index, name="field"),
    path("field/sw.js", cashout_field.field_sw, name="field_sw"),
    path("field/<int:cash_list_id>/", cashout_field.field_page, name="field_page"),
    path("field/<int:cash_list_id>/data", cashout_field.field_data, name="field_data"),
    path("field/entries/<int:entry_id>/receipt", cashout_field.field_receipt, name="field_receipt"),
    path("entries/<int:entry_id>/receipt/", cashout_field.receipt_form, name="receipt_form"),
    path("lists/<int:cash_list_id>/receipts/", cashout_field.list_receipts, name="list_receipts"),
    path("lists/<int:cash_list_id>/close/", cashout_field.close_list, name="close_list"),
    path("pay-points/<int:pay_point_id>/withdrawals/", cashout_field.withdrawal_form, name="withdrawals"),
    path("follow-ups/", cashout_field.follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/close/", cashout_field.follow_up_close, name="follow_up_close"),
]

urlpatterns: list[URLPattern] = [*places_patterns, *recording_patterns]
public_urlpatterns: list[URLPattern] = []
