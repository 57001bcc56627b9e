from django.db import transaction

from xiaobao.audit.services import audit_record
from xiaobao.customers.models import Customer
from xiaobao.privacy.services import holder_set, subject_create


@transaction.atomic
def customer_create(
    *,
    actor,
    unit,
    name: str,
    id_no: str = "",
    phone: str = "",
    account: str = "",
    address: str = "",
    request=None,
) -> Customer:
    """Register a customer.

    1. Create the data subject with its own data key.
    2. Validate, encrypt, tokenise and mask each value (a bad ID number or phone raises here).
    3. Save and audit, all in one transaction.
    """
    customer = Customer(unit=unit, subject=subject_create())
    holder_set(customer, name=name, id_no=id_no, phone=phone, account=account, address=address)
    customer.full_clean(exclude=["subject"])
    customer.save()
    audit_record(actor=actor, action="create", obj=customer, unit=unit, request=request)
    return customer


def customer_find_or_create(
    *, actor, unit, name: str = "", phone: str = "", id_no: str = "", address: str = "", request=None
) -> Customer:
    """The same person is one customer: match by ID-number token, then by phone token and name
    token together, before registering a new one. Matching never decrypts anything. An address
    given for a customer found is their current contact address: it replaces the stored one
    (customer_address_set); a blank one keeps it."""
    from xiaobao.privacy.services import personal_normalize, personal_token

    id_no = personal_normalize("id_no", id_no) if id_no else ""
    phone = personal_normalize("phone", phone) if phone else ""
    address = personal_normalize("address", address) if address else ""
    found = None
    if id_no:
        found = Customer.objects.filter(id_no_token=personal_token("id_no", id_no)).order_by("pk").first()
    if found is None and phone and name:
        found = (
            Customer.objects.filter(
                phone_token=personal_token("phone", phone), name_token=personal_token("name", name)
            )
            .order_by("pk")
            .first()
        )
    if found is not None:
        if address:
            customer_address_set(actor=actor, customer=found, address=address, request=request)
        return found
    return customer_create(
        actor=actor, unit=unit, name=name, id_no=id_no, phone=phone, address=address, request=request
    )


@transaction.atomic
def customer_address_set(*, actor, customer: Customer, address: str, request=None) -> bool:
    """Record a customer's contact address (encrypted, tokenised, masked); True when it changed.

    1. Normalise and compare by token: the same address written differently changes nothing.
    2. Otherwise encrypt it under the customer's data key, save the three fields and audit the
       change (the masked forms only).
    """
    from xiaobao.privacy.services import personal_normalize, personal_token

    address = personal_normalize("address", address)
    if not address or personal_token("address", address) == customer.address_token:
        return False
    before = customer.address_masked
    holder_set(customer, address=address)
    customer.save(update_fields=["address_enc", "address_token", "address_masked"])
    audit_record(
        actor=actor,
        action="update",
        obj=customer,
        unit=customer.unit,
        details={"address": [before, customer.address_masked]},
        request=request,
    )
    return True


def customer_erase(*, actor, customer: Customer, reason: str, request=None) -> dict:
    """Erase a customer's personal data on request (个人信息删除), keeping statistics and the audit chain.

    1. Check: administrators only, with a reason of at least 4 characters.
    2. The person is every customer row with the same data subject or the same ID-number token.
    3. In one transaction: destroy each subject's data key (crypto-shredding: every ciphertext under
       it, in backups too, becomes unreadable), blank the rows' masks and tokens, and audit with counts.
       The case rows stay (their customer shows as erased), so every count and rate stays the same.
    4. After commit: erase the person from every version of the Parquet store (xiaobao.book.erasure),
       whose ciphertext is under the store key, and audit that too. Returns the counts.
    """
    from django.core.exceptions import ValidationError
    from django.db.models import Q
    from django.utils.translation import gettext as _

    from xiaobao.accounts import access
    from xiaobao.privacy.services import subject_erase

    access.require_admin(actor)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("请填写删除依据 (至少 4 个字)")})
    if customer.subject.erased_at is not None:
        raise ValidationError(_("该客户的个人信息已于 %(at)s 删除") % {"at": customer.subject.erased_at})
    tokens = {prefix: getattr(customer, f"{prefix}_token") for prefix in Customer.PROTECTED}
    same = Q(subject=customer.subject)
    if tokens["id_no"]:
        same |= Q(id_no_token=tokens["id_no"])
    with transaction.atomic():
        holders = list(Customer.objects.select_for_update().select_related("subject").filter(same))
        for subject in {holder.subject for holder in holders}:
            subject_erase(
                actor=actor,
                subject=subject,
                holders=[h for h in holders if h.subject_id == subject.pk],
                reason=reason,
            )
    from xiaobao.book.erasure import store_erase

    store = store_erase(tokens)
    counts = {"customers": len(holders), **{f"store_{table}": n for table, n in store.items()}}
    audit_record(
        actor=actor,
        action="erase",
        obj=customer,
        unit=customer.unit,
        details={"reason": reason, **counts},
        request=request,
    )
    return counts
