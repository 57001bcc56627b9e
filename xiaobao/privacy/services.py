"""Encrypting, tokenising, masking, revealing and erasing personal data."""

import hashlib
import hmac
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.lib import address, idcard
from xiaobao.lib.masking import mask
from xiaobao.privacy import keys
from xiaobao.privacy.models import DataSubject, PersonalDataHolder

NORMALIZERS = {
    "name": lambda v: " ".join(v.split()),
    "id_no": idcard.normalize_id_no,
    "phone": idcard.normalize_phone,
    "account": idcard.normalize_account,
    "address": address.normalize_address,
}
VALIDATORS = {
    "id_no": idcard.id_no_error,
    "phone": idcard.phone_error,
    "account": idcard.account_error,
    "address": address.address_error,
}


def personal_normalize(kind: str, value: str) -> str:
    """Normalise and validate one personal value; raises ValidationError with a Chinese message."""
    value = NORMALIZERS[kind](value or "")
    check = VALIDATORS.get(kind)
    error = check(value) if check and value else None
    if error:
        raise ValidationError(error)
    return value


def personal_token(kind: str, value: str) -> str:
    """Keyed hash of a normalised value: equal values give equal tokens, and nothing else leaks. A
    value that normalises to nothing (blanks, an address placeholder such as 不详) has no token, so
    it never matches another."""
    value = NORMALIZERS[kind](value or "")
    if not value:
        return ""
    key = keys.system_key("token")
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]


def subject_create() -> DataSubject:
    kek = keys.master_key()
    subject = DataSubject(kek_id=keys.key_id(kek))
    subject.save()
    subject.wrapped_dek = keys.wrap(kek, keys.new_key(), f"subject:{subject.pk}")
    subject.save(update_fields=["wrapped_dek"])
    return subject


def _subject_dek(subject: DataSubject) -> bytes:
    if subject.wrapped_dek is None:
        raise ValidationError(_("该客户的个人信息已按要求删除，无法查看"))
    return _unwrap_dek(subject.pk, bytes(subject.wrapped_dek), keys.key_id(keys.master_key()))


@lru_cache(maxsize=4096)
def _unwrap_dek(subject_id: int, wrapped: bytes, kek_id: str) -> bytes:
    return keys.unwrap(keys.master_key(), wrapped, f"subject:{subject_id}")


def holder_set(holder: PersonalDataHolder, **values: str | None) -> None:
    """Validate, encrypt, tokenise and mask values on a holder (not saved)."""
    dek = _subject_dek(holder.subject)
    errors = {}
    for prefix, raw in values.items():
        kind = holder.PROTECTED[prefix]
        try:
            value = personal_normalize(kind, raw or "")
        except ValidationError as exc:
            errors[prefix] = exc.messages
            continue
        aad = f"{holder.subject.pk}:{kind}".encode()
        setattr(holder, f"{prefix}_enc", keys.seal(dek, value.encode(), aad) if value else None)
        setattr(holder, f"{prefix}_token", personal_token(kind, value))
        setattr(holder, f"{prefix}_masked", mask(kind, value))
    if errors:
        raise ValidationError(errors)


def holder_decrypt(holder: PersonalDataHolder, prefix: str) -> str:
    """Decrypt one value. Callers outside this module use personal_reveal, which logs."""
    blob = getattr(holder, f"{prefix}_enc")
    if not blob:
        return ""
    kind = holder.PROTECTED[prefix]
    dek = _subject_dek(holder.subject)
    return keys.open_sealed(dek, bytes(blob), f"{holder.subject.pk}:{kind}".encode()).decode()


@transaction.atomic
def personal_reveal(*, actor, holder: PersonalDataHolder, prefix: str, reason: str, request=None) -> str:
    """Reveal one personal value to a permitted user, with a typed reason, and log it.

    1. The reason must be a real sentence, not blank.
    2. The value is decrypted with the subject's data key.
    3. An audit entry records who saw which field of which record and why.
    """
    from xiaobao.audit.services import audit_record

    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError(_("请填写查看原因 (至少 4 个字)"))
    value = holder_decrypt(holder, prefix)
    audit_record(
        actor=actor,
        action="reveal",
        obj=holder,
        unit=getattr(holder, "unit", None),
        details={"field": prefix, "reason": reason},
        request=request,
    )
    return value


@transaction.atomic
def subject_erase(*, actor, subject: DataSubject, holders: list[PersonalDataHolder], reason: str) -> None:
    """Erase one person's personal data on request (crypto-shredding).

    1. Destroy the subject's data key, so every ciphertext under it is unreadable.
    2. Blank the masked forms and tokens on the given holders.
    3. Record the erasure in the audit trail.
    """
    from xiaobao.audit.services import audit_record

    subject.wrapped_dek = None
    subject.erased_at = timezone.now()
    subject.save(update_fields=["wrapped_dek", "erased_at"])
    for holder in holders:
        for prefix in holder.PROTECTED:
            setattr(holder, f"{prefix}_enc", None)
            setattr(holder, f"{prefix}_token", "")
            setattr(holder, f"{prefix}_masked", "")
        holder.save()
    _unwrap_dek.cache_clear()
    audit_record(actor=actor, action="erase", obj=subject, details={"reason": reason})


@transaction.atomic
def master_key_rotate(*, new_key: bytes) -> int:
    """Re-wrap every data key and system key under a new master key. Returns the count re-wrapped.

    Values and tokens are untouched: only the wrapping changes, so rotation is fast and safe.
    """
    from xiaobao.privacy.models import KeyMaterial

    old = keys.master_key()
    new_id = keys.key_id(new_key)
    count = 0
    for row in KeyMaterial.objects.select_for_update():
        row.wrapped = keys.wrap(new_key, keys.unwrap(old, bytes(row.wrapped), row.name), row.name)
        row.kek_id = new_id
        row.rotated_at = timezone.now()
        row.save(update_fields=["wrapped", "kek_id", "rotated_at"])
        count += 1
    for subject in (
        DataSubject.objects.select_for_update().exclude(wrapped_dek=None).iterator(chunk_size=2000)
    ):
        label = f"subject:{subject.pk}"
        subject.wrapped_dek = keys.wrap(new_key, keys.unwrap(old, bytes(subject.wrapped_dek), label), label)
        subject.kek_id = new_id
        subject.save(update_fields=["wrapped_dek", "kek_id"])
        count += 1
    return count
