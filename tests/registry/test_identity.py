"""Citizen IDs (GB 11643) and certificate numbers: every refusal names what is wrong."""

from datetime import date

import pytest

from registry.identity import (
    IdentityError,
    category_parse,
    certificate_number_make,
    certificate_number_mismatches,
    certificate_number_parse,
    check_character,
    citizen_id_make,
    citizen_id_parse,
    grade_parse,
    included_categories_parse,
    mask_account,
    mask_certificate_number,
    mask_citizen_id,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643
VALID = "11010519491231002X"  # DOMAIN.md's example


def refused(parse, raw, **kwargs) -> str:
    with pytest.raises(IdentityError) as caught:
        parse(raw, **kwargs)
    return caught.value.message


def test_the_domain_example_is_valid_and_tells_birth_date_and_sex():
    parsed = citizen_id_parse(VALID)
    assert (parsed.area_code, parsed.birth_date, parsed.sex) == (
        "110105",
        date(1949, 12, 31),
        "female",
    )


@pytest.mark.parametrize(
    "first17, expected",
    [("11010519491231002", "X"), ("44052418800101001", "4")],
)
def test_the_check_character_is_mod_11_2(first17, expected):
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    assert check_character(first17) == expected == "10X98765432"[total % 11]


def test_an_odd_sequence_is_male():
    assert (
        citizen_id_parse(
            citizen_id_make(area_code="330102", birth_date=date(1980, 5, 17), sequence=31)
        ).sex
        == "male"
    )


def test_spaces_lower_case_x_and_full_width_digits_are_read():
    assert citizen_id_parse(" 110105 19491231 002x ").number == VALID
    assert citizen_id_parse("１１０１０５１９４９１２３１００２Ｘ").number == VALID


def test_a_wrong_check_digit_is_refused_naming_the_right_one():
    assert refused(citizen_id_parse, "110105194912310021") == (
        "the check digit of '110105194912310021' is wrong: it should end in X"
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            "110105194902300021",
            "the birth date 19490230 in '110105194902300021' is not a real date",
        ),
        (
            "110105194913010021",
            "the birth date 19491301 in '110105194913010021' is not a real date",
        ),
        (
            "110105209901010021",
            "the birth date 2099-01-01 in '110105209901010021' is in the future",
        ),
        (
            "110105180001010021",
            "the birth date 1800-01-01 in '110105180001010021' is not plausible",
        ),
    ],
)
def test_impossible_birth_dates_are_refused(raw, message):
    assert refused(citizen_id_parse, raw, today=date(2025, 6, 1)) == message


def test_a_15_digit_legacy_id_is_refused_with_what_to_do():
    assert refused(citizen_id_parse, "110105491231002") == (
        "'110105491231002' is a 15-digit ID of the old kind, which is not accepted: enter the "
        "18-digit citizen ID from the person's current ID card"
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "the citizen ID is empty"),
        ("1101051949123100", "a citizen ID has 18 characters; '1101051949123100' has 16"),
        (
            "11010519491231002A",
            "a citizen ID is 17 digits and a check digit or X; '11010519491231002A' is not",
        ),
        (
            "X1010519491231002X",
            "a citizen ID is 17 digits and a check digit or X; 'X1010519491231002X' is not",
        ),
        ("99010519491231002X", "'99010519491231002X' does not start with a Chinese area code"),
    ],
)
def test_malformed_ids_are_refused(raw, message):
    assert refused(citizen_id_parse, raw) == message


def test_a_certificate_number_is_the_id_category_and_grade():
    number = certificate_number_parse(VALID + "62")
    assert (number.citizen_id, number.category, number.grade, number.reissue) == (VALID, 6, 2, 0)
    assert certificate_number_parse(VALID + "62B2").reissue == 2
    assert (
        certificate_number_make(citizen_id=VALID, category=7, grade=1, reissue=1) == VALID + "71B1"
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        (VALID + "82", f"unknown disability category digit 8 in '{VALID}82' (1–7)"),
        (VALID + "02", f"unknown disability category digit 0 in '{VALID}02' (1–7)"),
        (VALID + "65", f"unknown disability grade digit 5 in '{VALID}65' (1–4)"),
        (VALID + "60", f"unknown disability grade digit 0 in '{VALID}60' (1–4)"),
        (VALID + "62B0", f"the reissue suffix of '{VALID}62B0' must be B1, B2 …"),
        (
            "11010519491231002162",
            "the certificate number's ID part is wrong: the check digit of '110105194912310021' "
            "is wrong: it should end in X",
        ),
        (
            VALID + "6",
            f"'{VALID}6' is not a certificate number: 18-character citizen ID, category digit 1–7 "
            "and grade digit 1–4 (20 characters), and B1, B2 … for a reissue",
        ),
        ("", "the certificate number is empty"),
    ],
)
def test_bad_certificate_numbers_are_refused(raw, message):
    assert refused(certificate_number_parse, raw) == message


def test_a_certificate_number_must_agree_with_its_holder_and_fields():
    number = certificate_number_parse(VALID + "62")
    assert certificate_number_mismatches(number, citizen_id=VALID, category=6, grade=2) == []
    other = citizen_id_make(area_code="330102", birth_date=date(1980, 5, 17), sequence=31)
    assert certificate_number_mismatches(number, citizen_id=other, category=4, grade=3) == [
        f"the certificate number {VALID}62 belongs to ID {VALID}, not to this person's ID {other}",
        "the certificate number says category 6 (精神) but the category is 4 (肢体)",
        "the certificate number says grade 2 (二级) but the grade is 3 (三级)",
    ]


@pytest.mark.parametrize(
    "raw, code", [("精神", 6), ("精神残疾", 6), ("6", 6), ("多重", 7), ("肢体类", 4)]
)
def test_categories_are_read_by_name_or_digit(raw, code):
    assert category_parse(raw) == code


@pytest.mark.parametrize("raw, code", [("二级", 2), ("二", 2), ("2", 2), ("肆级", 4)])
def test_grades_are_read_by_name_or_digit(raw, code):
    assert grade_parse(raw) == code


def test_unknown_categories_and_grades_are_refused():
    assert refused(category_parse, "心理") == (
        "unknown disability category '心理': use 视力, 听力, 言语, 肢体, 智力, 精神 or 多重"
    )
    assert (
        refused(grade_parse, "五级")
        == "unknown disability grade '五级': use 一级, 二级, 三级 or 四级"
    )
    assert refused(grade_parse, "0") == "unknown disability grade '0': use 一级, 二级, 三级 or 四级"


def test_a_multiple_certificate_lists_single_categories():
    assert included_categories_parse("精神、肢体") == [4, 6]
    assert included_categories_parse("4,6") == [4, 6]
    assert refused(included_categories_parse, "多重、肢体") == (
        "a 多重 certificate includes single categories (视力 … 精神), not 多重"
    )


def test_masks_keep_only_what_a_clerk_needs():
    assert mask_citizen_id(VALID) == "110105********002X"
    assert mask_certificate_number(VALID + "62B1") == "110105********002X62B1"
    assert mask_account("6228480012345678") == "**** 5678"
