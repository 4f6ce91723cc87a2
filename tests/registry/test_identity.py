"""Citizen IDs (GB 11643), certificate numbers, credit codes and card numbers: every refusal
names what is wrong and in which number (in Chinese, the default language)."""

from datetime import date

import pytest
from django.utils import translation

from registry.identity import (
    IdentityError,
    card_number_check,
    category_parse,
    certificate_number_make,
    certificate_number_mismatches,
    certificate_number_parse,
    check_character,
    citizen_id_make,
    citizen_id_parse,
    grade_parse,
    included_categories_parse,
)
from registry.masking import CARD, CERTIFICATE, CITIZEN_ID, PHONE, mask, mask_data, mask_text
from registry.uscc import uscc_make, uscc_parse

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643
VALID = "11010519491231002X"  # DOMAIN.md's example


@pytest.fixture(autouse=True)
def _chinese():
    """What a county clerk reads (the registry's other tests read the English originals)."""
    with translation.override("zh-hans"):
        yield


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
        "身份证号 110105194912310021 的校验位不正确：末位应为 X。"
    )
    assert refused(citizen_id_parse, "11010519491231002Y").startswith(
        "身份证号 11010519491231002Y 的校验位不正确"
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            "110105194902300021",
            "身份证号 110105194902300021 中的出生日期 19490230 不是有效日期。",
        ),
        (
            "110105194913010021",
            "身份证号 110105194913010021 中的出生日期 19491301 不是有效日期。",
        ),
        (
            "110105209901010021",
            "身份证号 110105209901010021 中的出生日期 2099-01-01 晚于今天。",
        ),
        (
            "110105180001010021",
            "身份证号 110105180001010021 中的出生日期 1800-01-01 不合常理。",
        ),
    ],
)
def test_impossible_birth_dates_are_refused(raw, message):
    assert refused(citizen_id_parse, raw, today=date(2025, 6, 1)) == message


def test_a_15_digit_legacy_id_is_refused_with_what_to_do():
    assert refused(citizen_id_parse, "110105491231002") == (
        "身份证号 110105491231002 是 15 位的旧号码，不予受理：请填写本人现用身份证上的 18 位"
        "公民身份号码。"
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "身份证号为空。"),
        ("1101051949123100", "身份证号应为 18 位，1101051949123100 有 16 位。"),
        ("11010519491231002A", "身份证号 11010519491231002A 的校验位不正确：末位应为 X。"),
        (
            "X1010519491231002X",
            "身份证号 X1010519491231002X 的格式不正确：应为 17 位数字加 1 位校验位（0–9 或 X）。",
        ),
        ("99010519491231002X", "身份证号 99010519491231002X 的前两位不是我国的行政区划代码。"),
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
        (VALID + "82", f"残疾人证号 {VALID}82 中的类别代码 8 不存在（应为 1–7）。"),
        (VALID + "02", f"残疾人证号 {VALID}02 中的类别代码 0 不存在（应为 1–7）。"),
        (VALID + "65", f"残疾人证号 {VALID}65 中的等级代码 5 不存在（应为 1–4）。"),
        (VALID + "60", f"残疾人证号 {VALID}60 中的等级代码 0 不存在（应为 1–4）。"),
        (VALID + "62B0", f"残疾人证号 {VALID}62B0 的补发后缀应为 B1、B2 ……"),
        (
            "11010519491231002162",
            "残疾人证号中的身份证号有误：身份证号 110105194912310021 的校验位不正确：末位应为 X。",
        ),
        (
            VALID + "6",
            f"{VALID}6 不是残疾人证号：应为 18 位身份证号加 1 位类别代码（1–7）和 1 位等级代码"
            "（1–4），共 20 位；补发的证再加 B1、B2 ……",
        ),
        ("", "残疾人证号为空。"),
    ],
)
def test_bad_certificate_numbers_are_refused(raw, message):
    assert refused(certificate_number_parse, raw) == message


def test_a_certificate_number_must_agree_with_its_holder_and_fields():
    number = certificate_number_parse(VALID + "62")
    assert certificate_number_mismatches(number, citizen_id=VALID, category=6, grade=2) == []
    other = citizen_id_make(area_code="330102", birth_date=date(1980, 5, 17), sequence=31)
    assert certificate_number_mismatches(number, citizen_id=other, category=4, grade=3) == [
        f"残疾人证号 {VALID}62 属于身份证号 {VALID}，不是本人的身份证号 {other}。",
        "残疾人证号表明类别为 6（精神），但填写的类别为 4（肢体）。",
        "残疾人证号表明等级为 2（二级），但填写的等级为 3（三级）。",
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
        "残疾类别“心理”不存在：请填写视力、听力、言语、肢体、智力、精神或多重。"
    )
    assert refused(grade_parse, "五级") == "残疾等级“五级”不存在：请填写一级、二级、三级或四级。"
    assert refused(grade_parse, "0") == "残疾等级“0”不存在：请填写一级、二级、三级或四级。"


def test_a_multiple_certificate_lists_single_categories():
    assert included_categories_parse("精神、肢体") == [4, 6]
    assert included_categories_parse("4,6") == [4, 6]
    assert refused(included_categories_parse, "多重、肢体") == (
        "多重残疾证包含的是单一类别（视力……精神），不能再填多重。"
    )


def test_masks_keep_only_what_a_clerk_needs():
    assert mask(VALID, CITIZEN_ID) == "110105********002X"
    assert mask(VALID + "62B1", CERTIFICATE) == "110105********002X62B1"
    assert mask("6228480012345678", CARD) == "**** 5678"
    assert mask("13805710001", PHONE) == "138****0001"
    assert mask("", PHONE) == ""


def test_numbers_in_free_text_and_data_are_masked_by_their_kind():
    text = f"{VALID}，证号 {VALID}62B1，卡号 6228480012345678，电话 13805710001，乡镇 330102101000"
    assert mask_text(text) == (
        "110105********002X，证号 110105********002X62B1，卡号 **** 5678，电话 138****0001，"
        "乡镇 330102101000"
    )
    credit_code = uscc_make("11330102002493700")  # 18 digits, but no birth date in them
    assert mask_text(f"机构 {credit_code}") == f"机构 {credit_code}"
    data = {"applicant_id": VALID, "contact_phone": "0571-8888 1234", "items": [VALID], "n": 3}
    assert mask_data(data) == {
        "applicant_id": "110105********002X",
        "contact_phone": "057****1234",
        "items": ["110105********002X"],
        "n": 3,
    }


def test_a_credit_code_is_checked_by_its_check_character():
    code = uscc_make("12330102MB0A0000" + "1")
    assert uscc_parse(code.lower()) == code
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert refused(uscc_parse, wrong) == (
        f"统一社会信用代码 {wrong} 的校验码不正确：末位应为 {code[-1]}。"
    )
    assert refused(uscc_parse, "1233") == "统一社会信用代码应为 18 位，1233 有 4 位。"


def test_a_card_number_is_8_to_32_digits():
    assert card_number_check("6228 4800 1234 5678") == "6228480012345678"
    assert refused(card_number_check, "62284800ABCD") == (
        "账户号码应为 8 至 32 位数字，62284800ABCD 不符合。"
    )


def test_a_form_field_naming_a_check_is_checked_by_it_on_every_form():
    """form-js fields say ``"properties": {"check": …}``; the host runs the registry's check."""
    from workflows.forms import validate_form_data

    def field(key, check):
        pattern = {"pattern": "^[0-9A-Z]{18}$"}
        return {
            "type": "textfield",
            "key": key,
            "properties": {"check": check},
            "validate": pattern,
        }

    schema = {"components": [field("id", "citizen_id"), field("code", "uscc")]}
    code = uscc_make("12330102MB0A00001")
    wrong_code = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert validate_form_data(schema, {"id": "110105194912310021", "code": wrong_code}) == {
        "id": ["身份证号 110105194912310021 的校验位不正确：末位应为 X。"],
        "code": [f"统一社会信用代码 {wrong_code} 的校验码不正确：末位应为 {code[-1]}。"],
    }
    assert validate_form_data(schema, {"id": VALID, "code": code}) == {}
