from ansinh.areas.models import Area, Level, Tree
from ansinh.quality.demo import load_demo_worklists
from ansinh.quality.models import Kind, WorklistItem


def test_the_demo_refresh_covers_current_communes_and_is_idempotent(tree, make):
    province = Area.objects.create(tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang")
    commune = Area.objects.create(
        tree=Tree.CURRENT, level=Level.COMMUNE, code="30301", name="Châu Đốc", parent=province
    )
    b = make("Phó Văn Mẫu", commune=commune, method=False)
    first = load_demo_worklists()
    assert first["provinces"] == 1 and first["opened"][Kind.NO_METHOD] == 1
    assert WorklistItem.objects.filter(beneficiary=b, kind=Kind.NO_METHOD).exists()
    assert load_demo_worklists()["opened"] == {}
