"""The complaints API: list, one, create (staff), resolve, counts; 404 elsewhere, 403 for readers."""

from __future__ import annotations

import json

from ansinh.complaints.models import Complaint, State

from .conftest import lodge

BODY = {
    "channel": "phone",
    "kind": "complaint",
    "topic": "wrong_amount",
    "name": "Phan Văn Gọi",
    "phone": "0912 345 678",
    "text": "Số tiền tháng này thiếu so với quyết định.",
}


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_create_get_list_resolve_and_count(api_client_for, officer_a, tree):
    client = api_client_for(officer_a)
    created = post(client, "/api/v1/complaints", BODY | {"commune_id": tree.a.pk})
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["reference"].startswith("KN-") and data["routed_to"] == "commune" and data["state"] == "lodged"
    assert data["phone"] == "0912 345 678" and data["state_label"]
    c_id = data["id"]
    assert client.get(f"/api/v1/complaints/{c_id}").json()["reference"] == data["reference"]
    listed = client.get("/api/v1/complaints", {"state": "open"}).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == c_id
    refused = post(client, f"/api/v1/complaints/{c_id}/resolve", {"resolution": ""})
    assert refused.status_code == 422
    done = post(client, f"/api/v1/complaints/{c_id}/resolve", {"outcome": "resolved", "resolution": "Đã chi bù."})
    assert done.status_code == 200 and done.json()["state"] == "resolved"
    again = post(client, f"/api/v1/complaints/{c_id}/resolve", {"outcome": "rejected", "resolution": "Lần nữa"})
    assert again.status_code == 422
    counts = client.get("/api/v1/complaints/counts").json()
    assert counts["total"] == 1 and counts["states"] == {"resolved": 1}
    assert counts["communes"][0]["commune_id"] == tree.a.pk


def test_other_commune_404_and_reader_403(api_client_for, officer_a, viewer_a, officer_b, tree):
    c = lodge(officer_a, tree.a)
    outsider = api_client_for(officer_b)
    assert outsider.get(f"/api/v1/complaints/{c.pk}").status_code == 404
    assert post(outsider, f"/api/v1/complaints/{c.pk}/resolve", {"resolution": "x"}).status_code == 404
    assert post(outsider, "/api/v1/complaints", BODY | {"commune_id": tree.a.pk}).status_code == 404
    assert outsider.get("/api/v1/complaints", {"commune_id": tree.a.pk}).json()["count"] == 0
    reader = api_client_for(viewer_a)
    got = reader.get(f"/api/v1/complaints/{c.pk}").json()
    assert got["phone"] != "0912 345 678" and got["phone"].endswith("678")  # masked for a reader
    assert post(reader, f"/api/v1/complaints/{c.pk}/resolve", {"resolution": "x"}).status_code == 403
    assert post(reader, "/api/v1/complaints", BODY | {"commune_id": tree.a.pk}).status_code == 403
    c.refresh_from_db()
    assert c.state == State.LODGED and Complaint.objects.count() == 1
