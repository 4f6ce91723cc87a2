"""The demo county (清溪县, a made-up county under the real-format code 330102): 15 townships and
streets, 200 villages and communities, 7 institutions, ~6,000 persons with valid IDs and
certificates, and staff of every role. Deterministic (seeded) and bulk-inserted.

The data is made so that every case the procedures look for occurs: 低保 and 特困, low-income
status that ended, publicly funded persons, deceased and moved-out persons, certificates that
are expiring, expired, cancelled, reissued (B1) or re-assessed out of 精神, and card accounts
that are invalid or closed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from workflows.scopes import area_code_path

from .identity import certificate_number_make, citizen_id_make
from .models import (
    CardAccount,
    CardKind,
    CardStatus,
    Certificate,
    CertificateStatus,
    InstitutionAssignment,
    LifeStatus,
    LowIncomeStatus,
    OrgUnit,
    OrgUnitKind,
    Person,
)
from .services.certificates import status_on, valid_until_for
from .services.memberships import membership_grant
from .uscc import uscc_make

DEMO_PASSWORD = "fuzhu-demo-2025"
COUNTY = "330102000000"
COUNTY_NAME = "清溪县"
SEED = 20250101


def _pairs(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(0, len(text), 2)]


# code suffix (township 3 digits), name, kind, communities, villages
TOWNSHIPS = [
    ("001", "城东街道", OrgUnitKind.STREET, 8, 0),
    ("002", "城西街道", OrgUnitKind.STREET, 8, 0),
    ("003", "城南街道", OrgUnitKind.STREET, 8, 0),
    ("004", "溪口街道", OrgUnitKind.STREET, 8, 0),
    ("101", "桐溪镇", OrgUnitKind.TOWN, 3, 13),
    ("102", "白沙镇", OrgUnitKind.TOWN, 3, 13),
    ("103", "石门镇", OrgUnitKind.TOWN, 3, 13),
    ("104", "龙潭镇", OrgUnitKind.TOWN, 3, 13),
    ("105", "三河镇", OrgUnitKind.TOWN, 3, 13),
    ("106", "马岭镇", OrgUnitKind.TOWN, 3, 13),
    ("107", "青山镇", OrgUnitKind.TOWN, 3, 13),
    ("201", "上坪乡", OrgUnitKind.TOWNSHIP, 0, 14),
    ("202", "岭脚乡", OrgUnitKind.TOWNSHIP, 0, 14),
    ("203", "西岙乡", OrgUnitKind.TOWNSHIP, 0, 14),
    ("204", "大源乡", OrgUnitKind.TOWNSHIP, 0, 14),
]
COMMUNITY_NAMES = _pairs(
    "新华人民解放文昌城东城西江滨湖滨锦绣和平桂花翠苑溪畔府前学士南门"
    "北门望江紫荆金桥春晖振兴新民育才朝阳迎宾丰乐安康东湖西湖凤凰清泉"
)
VILLAGE_FIRST = "上下东西南北前后大小新石沙桥塘龙凤马黄白青花柳杨李陈高岭"
VILLAGE_SECOND = "塘坑岙湾桥坞溪岭山埠头家庄源畈田坪口垄坂洋湖圩阳林岗"

# Places the demo staff's names mention.
FIXED_NAMES = {"330102101201": "上塘村", "330102102201": "石桥村"}

# code (unified social credit code made valid below), name, kind
INSTITUTIONS = [
    ("11330102", "002493781", "清溪县财政局", OrgUnitKind.FINANCE_BUREAU),
    ("12330102", "MB0A11101", "清溪县残疾人康复评估中心", OrgUnitKind.ASSESSMENT),
    ("12330102", "470012233", "清溪县第一人民医院残疾评定门诊", OrgUnitKind.ASSESSMENT),
    ("12330102", "MB0A12202", "清溪县辅助器具适配服务中心", OrgUnitKind.SERVICE),
    ("52330102", "MJ8812345", "清溪县仁爱康复中心", OrgUnitKind.SERVICE),
    ("52330102", "MJ8823456", "溪口阳光康复服务站", OrgUnitKind.SERVICE),
    ("12330102", "470056789", "清溪县第三人民医院（精神专科定点医院）", OrgUnitKind.HOSPITAL),
]

SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
    "袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷"
    "侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
MALE_GIVEN = "伟强磊军勇杰涛斌超明刚平辉鹏华飞建国志文海林波德福荣根生春宝"
FEMALE_GIVEN = "芳娟敏静丽艳娜秀英霞玲燕萍红梅兰琴云莲珍凤洁慧婷雪彩桂月春翠"
# Category weights (肢体 most common) and grades (三/四级 most common), as in county registers.
CATEGORY_WEIGHTS = {1: 10, 2: 12, 3: 2, 4: 45, 5: 9, 6: 14, 7: 8}
GRADE_WEIGHTS = {1: 12, 2: 22, 3: 30, 4: 36}

# username, full name, role, org unit ("" = everywhere; "@n" = the n-th institution above)
DEMO_STAFF = [
    ("owner", "流程管理员 王芳", "process_owner", ""),
    ("county", "县残联 李明", "county_staff", COUNTY),
    ("township_a", "桐溪镇残联 张丽", "township_staff", "330102101000"),
    ("township_b", "白沙镇残联 陈强", "township_staff", "330102102000"),
    ("village_a1", "桐溪镇上塘村专职委员 刘洋", "village_officer", "330102101201"),
    ("finance", "县财政局 赵敏", "finance", COUNTY),
    ("assessor", "县康复评估中心 孙伟", "assessor", "@1"),
    ("provider", "县辅具适配中心 周杰", "provider", "@3"),
    ("petition", "县残联信访办 吴静", "petition_office", COUNTY),
    ("auditor", "县审计局 郑华", "auditor", ""),
    ("township_c", "城东街道残联 黄蓉", "township_staff", "330102001000"),
    ("township_d", "上坪乡残联 何平", "township_staff", "330102201000"),
    ("provider_rehab", "县仁爱康复中心 林海", "provider", "@4"),
    ("hospital", "县第三人民医院 徐慧", "provider", "@6"),
]


def institution_codes() -> list[str]:
    return [uscc_make(prefix + body) for prefix, body, _, _ in INSTITUTIONS]


def staff_unit(code: str) -> str:
    return institution_codes()[int(code[1:])] if code.startswith("@") else code


@dataclass
class DemoSummary:
    units: int = 0
    persons: int = 0
    certificates: int = 0
    created: bool = False


def _village_names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names = []
    while len(names) < count:
        name = rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND) + "村"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _units(rng: random.Random) -> list[OrgUnit]:
    county = OrgUnit(
        code=COUNTY, name=COUNTY_NAME, kind=OrgUnitKind.COUNTY, path=area_code_path(COUNTY)
    )
    units = [county]
    communities = list(COMMUNITY_NAMES)
    rng.shuffle(communities)
    taken: set[str] = set()
    for suffix, name, kind, n_communities, n_villages in TOWNSHIPS:
        code = COUNTY[:6] + suffix + "000"
        township = OrgUnit(
            code=code, name=name, kind=kind, parent=county, path=area_code_path(code)
        )
        units.append(township)
        for index in range(n_communities):
            village = code[:9] + f"{index + 1:03d}"
            label = (communities.pop() if communities else f"第{index + 1}") + "社区"
            units.append(
                OrgUnit(
                    code=village,
                    name=label,
                    kind=OrgUnitKind.COMMUNITY,
                    parent=township,
                    path=area_code_path(village),
                )
            )
        for index, label in enumerate(_village_names(rng, n_villages, taken)):
            village = code[:9] + f"{201 + index:03d}"
            label = FIXED_NAMES.get(village, label)
            units.append(
                OrgUnit(
                    code=village,
                    name=label,
                    kind=OrgUnitKind.VILLAGE,
                    parent=township,
                    path=area_code_path(village),
                )
            )
    for code, (_, _, name, kind) in zip(institution_codes(), INSTITUTIONS, strict=True):
        units.append(
            OrgUnit(code=code, name=name, kind=kind, parent=county, path=f"{county.path}{code}.")
        )
    return units


def _save_units(units: list[OrgUnit]) -> None:
    # Parents first, so every parent has its id when its children are inserted.
    for level in (0, 1, 2):
        batch = [u for u in units if _depth(u) == level]
        for unit in batch:
            unit.parent_id = unit.parent.pk if unit.parent else None
        OrgUnit.objects.bulk_create(batch)


def _depth(unit: OrgUnit) -> int:
    return 0 if unit.parent is None else 1 + _depth(unit.parent)


def _birth(rng: random.Random, today: date) -> date:
    # Older people dominate a disability register; some children for rehabilitation procedures.
    age = min(95, max(1, int(rng.triangular(1, 95, 62))))
    return today - timedelta(days=age * 365 + rng.randrange(365))


def _name(rng: random.Random, male: bool) -> str:
    given = MALE_GIVEN if male else FEMALE_GIVEN
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def _weighted(rng: random.Random, weights: dict[int, int]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class _Draft:
    person: Person
    certificates: list[Certificate]
    card: CardAccount | None


def _person(rng: random.Random, village: OrgUnit, used: set[str], today: date) -> _Draft:
    while True:
        born = _birth(rng, today)
        male = rng.random() < 0.55
        sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
        citizen_id = citizen_id_make(area_code=COUNTY[:6], birth_date=born, sequence=sequence)
        if citizen_id not in used:
            used.add(citizen_id)
            break
    person = Person(
        citizen_id=citizen_id,
        name=_name(rng, male),
        birth_date=born,
        sex="male" if male else "female",
        household_unit=village,
        phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if rng.random() < 0.85 else "",
    )
    roll = rng.random()
    if roll < 0.13:
        person.low_income_status = LowIncomeStatus.DIBAO
        person.low_income_since = today - timedelta(days=rng.randrange(60, 3000))
        if rng.random() < 0.12:  # status lost last year
            person.low_income_until = today - timedelta(days=rng.randrange(30, 300))
    elif roll < 0.16:
        person.low_income_status = LowIncomeStatus.TEKUN
        person.low_income_since = today - timedelta(days=rng.randrange(60, 3000))
    person.publicly_funded = rng.random() < 0.01
    if rng.random() < 0.015:
        person.life_status = LifeStatus.DECEASED
        person.deceased_on = today - timedelta(days=rng.randrange(10, 700))
    elif rng.random() < 0.01:
        person.moved_out_on = today - timedelta(days=rng.randrange(10, 700))
    certificates = _certificates(rng, person, today) if rng.random() < 0.96 else []
    card = None
    if rng.random() < 0.8:
        kind = rng.choice([CardKind.BANK_CARD, CardKind.SOCIAL_SECURITY_CARD, CardKind.ONE_CARD])
        status_roll = rng.random()
        card = CardAccount(
            person=person,
            kind=kind,
            bank_name=rng.choice(["农业银行清溪支行", "农商银行清溪支行", "邮储银行清溪支行"]),
            number=f"6228{rng.randrange(10**15):015d}",
            status=CardStatus.INVALID
            if status_roll < 0.02
            else CardStatus.CLOSED
            if status_roll < 0.03
            else CardStatus.ACTIVE,
        )
    return _Draft(person, certificates, card)


def _certificate(person: Person, category: int, grade: int, issued_on: date, today: date, **extra):
    included = extra.pop("included", "")
    valid_until = valid_until_for(issued_on)
    return Certificate(
        number=certificate_number_make(
            citizen_id=person.citizen_id,
            category=category,
            grade=grade,
            reissue=extra.pop("reissue", 0),
        ),
        person=person,
        category=category,
        grade=grade,
        included_categories=included,
        issued_on=issued_on,
        valid_until=valid_until,
        status=status_on(valid_until, today),
        **extra,
    )


def _restatus(certificate: Certificate, status: str, reason: str = "") -> Certificate:
    """A copy in another status (the FSM field is protected: only transitions change it, and
    the demo builds history that never went through them)."""
    fields = {
        f.attname: getattr(certificate, f.attname)
        for f in Certificate._meta.concrete_fields
        if f.attname not in ("id", "status", "status_reason")
    }
    copy = Certificate(**fields, status=status, status_reason=reason)
    copy.person = certificate.person
    return copy


def _certificates(rng: random.Random, person: Person, today: date) -> list[Certificate]:
    category, grade = _weighted(rng, CATEGORY_WEIGHTS), _weighted(rng, GRADE_WEIGHTS)
    included = ""
    if category == 7:
        included = "".join(str(c) for c in sorted(rng.sample(range(1, 7), rng.choice((2, 2, 3)))))
    earliest = max(person.birth_date + timedelta(days=200), today - timedelta(days=11 * 365))
    span = max(1, (today - earliest).days)
    issued_on = earliest + timedelta(days=rng.randrange(span))
    first = _certificate(person, category, grade, issued_on, today, included=included)
    roll = rng.random()
    if person.life_status == LifeStatus.DECEASED and roll < 0.5:
        return [_restatus(first, CertificateStatus.CANCELLED, "死亡注销")]
    if roll < 0.01:
        return [_restatus(first, CertificateStatus.CANCELLED, "评定不再符合")]
    if roll < 0.025:  # lost and reissued: B1 keeps the validity
        first = _restatus(first, CertificateStatus.REISSUED, "遗失补发")
        second = _certificate(
            person, category, grade, issued_on, today, included=included, reissue=1
        )
        return [first, second]
    if roll < 0.035 and category == 6:  # re-assessed: no longer 精神
        first = _restatus(first, CertificateStatus.REISSUED, "重新评定")
        later = min(today, issued_on + timedelta(days=rng.randrange(200, 2000)))
        return [first, _certificate(person, 4, grade, later, today)]
    return [first]


def _psychiatric_on_dibao(draft: _Draft) -> bool:
    person = draft.person
    live = [c for c in draft.certificates if c.status not in ("cancelled", "reissued")]
    return (
        len(draft.certificates) == 1
        and live
        and live[0].category == 6
        and person.low_income_status == LowIncomeStatus.DIBAO
        and person.low_income_until is None
        and person.life_status == LifeStatus.ALIVE
        and person.moved_out_on is None
        and not person.publicly_funded
        and draft.card is not None
        and draft.card.status == CardStatus.ACTIVE
    )


def _ensure_subsidy_cases(drafts: list[_Draft], today: date) -> None:
    """Make sure each thing the yearly medication-subsidy comparison looks for occurs at least
    twice among persons who would otherwise qualify (精神 certificate, 低保)."""
    eligible = [d for d in drafts if _psychiatric_on_dibao(d)]
    flags = [
        lambda d: _set(
            d.person, life_status=LifeStatus.DECEASED, deceased_on=today - timedelta(40)
        ),
        lambda d: _set(d.person, moved_out_on=today - timedelta(days=75)),
        lambda d: _set(d.person, low_income_until=today - timedelta(days=120)),
        lambda d: _set(d.person, low_income_status=LowIncomeStatus.TEKUN),
        lambda d: _set(d.person, publicly_funded=True),
        lambda d: _set(d.card, status=CardStatus.INVALID),
        lambda d: _set(d.card, status=CardStatus.CLOSED),
        lambda d: _age_certificate(d, today, years=11),
        lambda d: _age_certificate(d, today, years=10, days=-30),
        lambda d: _replace_first(
            d, _restatus(d.certificates[0], CertificateStatus.CANCELLED, "注销")
        ),
        lambda d: _reassess(d, today),
    ]
    for index, flag in enumerate(flags * 2):
        if index * 3 < len(eligible):  # a small --persons run may not have enough
            flag(eligible[index * 3])


def _set(obj, **values) -> None:
    for key, value in values.items():
        setattr(obj, key, value)


def _replace_first(draft: _Draft, certificate: Certificate) -> None:
    draft.certificates[0] = certificate


def _age_certificate(draft: _Draft, today: date, *, years: int, days: int = 0) -> None:
    """Issued ``years`` ago (less ``days``): expired, or expiring within the month."""
    certificate = draft.certificates[0]
    certificate.issued_on = today.replace(year=today.year - years, day=1) - timedelta(days=days)
    certificate.valid_until = valid_until_for(certificate.issued_on)
    status = status_on(certificate.valid_until, today)
    _replace_first(draft, _restatus(certificate, status))


def _reassess(draft: _Draft, today: date) -> None:
    _replace_first(draft, _restatus(draft.certificates[0], CertificateStatus.REISSUED, "重新评定"))
    first = draft.certificates[0]
    draft.certificates.append(_certificate(draft.person, 4, first.grade, today, today))


def _staff(rng: random.Random) -> None:
    user_model = get_user_model()
    units = {u.code: u for u in OrgUnit.objects.all()}
    for username, full_name, role, where in DEMO_STAFF:
        user, created = user_model.objects.get_or_create(username=username)
        if created:
            user.last_name = full_name
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role in ("process_owner", "county_staff")
            user.save()
        code = staff_unit(where)
        membership_grant(user=user, role=role, org_unit=units[code] if code else None)


@transaction.atomic
def demo_load(*, persons: int = 6000, seed: int = SEED) -> DemoSummary:
    """Load the demo county once (a second call only makes sure the staff exist)."""
    rng = random.Random(seed)
    summary = DemoSummary()
    if not OrgUnit.objects.filter(code=COUNTY).exists():
        summary.created = True
        today = timezone.localdate()
        units = _units(rng)
        _save_units(units)
        villages = [u for u in units if u.kind in (OrgUnitKind.VILLAGE, OrgUnitKind.COMMUNITY)]
        used: set[str] = set(Person.objects.values_list("citizen_id", flat=True))
        drafts = [_person(rng, rng.choice(villages), used, today) for _ in range(persons)]
        _ensure_subsidy_cases(drafts, today)
        Person.objects.bulk_create([d.person for d in drafts], batch_size=2000)
        _save_certificates(drafts)
        cards = [d.card for d in drafts if d.card is not None]
        for card in cards:
            card.person_id = card.person.pk
        CardAccount.objects.bulk_create(cards, batch_size=2000)
        _assign(rng, drafts)
    _staff(rng)
    summary.units = OrgUnit.objects.count()
    summary.persons = Person.objects.count()
    summary.certificates = Certificate.objects.count()
    return summary


def _save_certificates(drafts: list[_Draft]) -> None:
    firsts, seconds = [], []
    for draft in drafts:
        for index, certificate in enumerate(draft.certificates):
            certificate.person_id = draft.person.pk
            (firsts if index == 0 else seconds).append(certificate)
    Certificate.objects.bulk_create(firsts, batch_size=2000)
    for draft in drafts:
        if len(draft.certificates) == 2:
            draft.certificates[1].replaces_id = draft.certificates[0].pk
    Certificate.objects.bulk_create(seconds, batch_size=2000)


def _assign(rng: random.Random, drafts: list[_Draft]) -> None:
    """A few cases already with the assessment centre, the fitting centre and the hospital."""
    codes = institution_codes()
    institutions = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
    living = [d for d in drafts if d.person.life_status == LifeStatus.ALIVE and d.certificates]
    assignments = []
    for index, code in ((1, "PG-评估"), (3, "FZ-适配"), (4, "KF-康复"), (6, "YF-药费")):
        for draft in rng.sample(living, min(12, len(living))):
            year = timezone.localdate().year
            assignments.append(
                InstitutionAssignment(
                    person_id=draft.person.pk,
                    institution=institutions[codes[index]],
                    case_reference=f"{code}-{year}-{draft.person.pk:05d}",
                )
            )
    InstitutionAssignment.objects.bulk_create(assignments)
