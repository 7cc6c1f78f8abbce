import json
def test_smoke(register, clients, tree):
    b = register(representatives=[{"person": {"full_name": "Trần Văn Bình", "cccd": "089080012345", "birth_date": __import__("datetime").date(1980,1,1), "gender": "male"}, "kind": "guardian", "is_payee": True}])
    c = clients["officer_a"]
    r = c.get("/api/v1/beneficiaries?q=nguyen thi anh&needs=frail&needs=no_phone")
    print(r.status_code, r.json())
    r = c.get("/api/v1/beneficiaries?q=nguyen thi anh")
    print(r.status_code, json.dumps(r.json(), indent=1, ensure_ascii=False))
    r = c.get(f"/api/v1/beneficiaries/{b.pk}")
    print(r.status_code, json.dumps(r.json(), indent=1, ensure_ascii=False))
    r = clients["viewer_a"].get(f"/api/v1/beneficiaries/{b.pk}")
    print(r.status_code, r.json()["cccd"], r.json()["representatives"][0]["cccd"])
    r = clients["viewer_a"].patch(f"/api/v1/beneficiaries/{b.pk}", {"address": "x"}, content_type="application/json")
    print(r.status_code, r.json())
    r = c.patch(f"/api/v1/beneficiaries/{b.pk}", {"address": "x", "commune_id": 3}, content_type="application/json")
    print(r.status_code, r.json())
    r = c.patch(f"/api/v1/beneficiaries/{b.pk}", {"cccd": "089160012345"}, content_type="application/json")
    print(r.status_code, r.json())
    r = c.post("/api/v1/beneficiaries", {"birth_date": "1950-01-01", "gender": "male", "commune_id": tree.a.pk}, content_type="application/json")
    print(r.status_code, r.json())
    r = c.get("/api/v1/beneficiaries?page_size=500&status=foo")
    print(r.status_code, r.json())
    assert 0
