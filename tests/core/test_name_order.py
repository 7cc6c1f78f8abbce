"""Vietnamese list order (core.text.name_sort_key) and numbers as Vietnamese write them."""

import random

from ansinh.core.text import format_number, name_sort_key


def ordered(names):
    return sorted(names, key=name_sort_key)


def test_by_given_name_then_family_and_middle_names():
    names = ["Trần Văn Bình", "Nguyễn Văn An", "Lê Thị An", "Phạm Minh Cường", "Lê Văn Bình"]
    assert ordered(names) == ["Lê Thị An", "Nguyễn Văn An", "Lê Văn Bình", "Trần Văn Bình", "Phạm Minh Cường"]


def test_vietnamese_letter_order():
    # a ă â … d đ … o ô ơ … u ư: the letters with marks are letters of their own
    assert ordered(["Lê Văn Đức", "Lê Văn Dũng", "Lê Văn Em"]) == ["Lê Văn Dũng", "Lê Văn Đức", "Lê Văn Em"]
    assert ordered(["Hà Ưng", "Hà Uyên", "Hà Vân"]) == ["Hà Uyên", "Hà Ưng", "Hà Vân"]
    assert ordered(["Võ Ân", "Võ Ăn", "Võ An", "Võ Bá"]) == ["Võ An", "Võ Ăn", "Võ Ân", "Võ Bá"]
    assert ordered(["Lý Ơn", "Lý Ôn", "Lý On", "Lý Pha"]) == ["Lý On", "Lý Ôn", "Lý Ơn", "Lý Pha"]


def test_tones_come_after_the_letters_of_the_word():
    # dictionary order: the letters decide first, then the tone (none, huyền, hỏi, ngã, sắc, nặng)
    assert ordered(["Võ Hai", "Võ Hạ", "Võ Há", "Võ Hã", "Võ Hả", "Võ Hà", "Võ Ha"]) == [
        "Võ Ha",
        "Võ Hà",
        "Võ Hả",
        "Võ Hã",
        "Võ Há",
        "Võ Hạ",
        "Võ Hai",
    ]


def test_case_spacing_and_unicode_form_do_not_matter():
    import unicodedata

    name = "Nguyễn Thị Ánh"
    assert name_sort_key(name) == name_sort_key("  nguyễn   THỊ ánh ")
    assert name_sort_key(name) == name_sort_key(unicodedata.normalize("NFD", name))
    assert name_sort_key("") == ""


def test_a_shorter_name_comes_first_and_keys_are_ascii():
    assert ordered(["Trần An Khang", "Trần An"]) == ["Trần An", "Trần An Khang"]
    assert name_sort_key("Đặng Thị Ưng").isascii()


def test_the_key_fits_the_column():
    assert len(name_sort_key(" ".join(["A"] * 75))) == 200  # the longest name (150 characters)
    assert len(name_sort_key("Nguyễn Thị Ánh")) == len("Nguyễn Thị Ánh") + 3


def test_shuffled_input_gives_the_same_order():
    names = ["Đỗ Văn An", "Bùi Thị Ưng", "Hà Uy", "An Văn A", "Trần Văn Bình", "Lê Thị Ngọc"]
    expected = ["An Văn A", "Đỗ Văn An", "Trần Văn Bình", "Lê Thị Ngọc", "Hà Uy", "Bùi Thị Ưng"]
    for seed in range(5):
        shuffled = names[:]
        random.Random(seed).shuffle(shuffled)
        assert ordered(shuffled) == expected


def test_numbers_with_vietnamese_separators():
    assert format_number(9670) == "9.670"
    assert format_number(3321) == "3.321"
    assert format_number(12.25, 1) == "12,2"
    assert format_number(1234567.891, 2) == "1.234.567,89"
    assert format_number(42) == "42"
