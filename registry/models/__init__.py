from .audit import RegistryEvent, RegistryEventHead, RegistryEventKind
from .certificates import (
    LIVE_STATUSES,
    Certificate,
    CertificateStatus,
    DisabilityCategory,
    DisabilityGrade,
)
from .imports import ImportBatch, ImportFormat, ImportRow, ImportRowOutcome, ImportState
from .org_units import (
    KIND_LEVEL,
    Membership,
    OrgUnit,
    OrgUnitGroupObjectPermission,
    OrgUnitKind,
    OrgUnitLevel,
    OrgUnitUserObjectPermission,
)
from .persons import (
    CardAccount,
    CardKind,
    CardStatus,
    InstitutionAssignment,
    LifeStatus,
    LowIncomeStatus,
    Person,
    Sex,
)

__all__ = [
    "KIND_LEVEL",
    "LIVE_STATUSES",
    "CardAccount",
    "CardKind",
    "CardStatus",
    "Certificate",
    "CertificateStatus",
    "DisabilityCategory",
    "DisabilityGrade",
    "ImportBatch",
    "ImportFormat",
    "ImportRow",
    "ImportRowOutcome",
    "ImportState",
    "InstitutionAssignment",
    "LifeStatus",
    "LowIncomeStatus",
    "Membership",
    "OrgUnit",
    "OrgUnitGroupObjectPermission",
    "OrgUnitKind",
    "OrgUnitLevel",
    "OrgUnitUserObjectPermission",
    "Person",
    "RegistryEvent",
    "RegistryEventHead",
    "RegistryEventKind",
    "Sex",
]
