def test_pages(client_for, officer_a, tree, units):
    c = client_for(officer_a)
    for url in ["/", "/areas/", f"/areas/{tree.a.pk}/", "/orgs/", "/audit/", "/account/tokens/"]:
        r = c.get(url)
        assert r.status_code == 200, url
        print(url, len(r.content))
