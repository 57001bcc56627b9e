from django.db import transaction

from xiaobao.audit.services import audit_record
from xiaobao.customers.models import Customer
from xiaobao.privacy.services import holder_set, subject_create


@transaction.atomic
def customer_create(
    *, actor, unit, name: str, id_no: str = "", phone: str = "", account: str = "", request=None
) -> Customer:
    """Register a customer.

    1. Create the data subject with its own data key.
    2. Validate, encrypt, tokenise and mask each value (a bad ID number or phone raises here).
    3. Save and audit, all in one transaction.
    """
    customer = Customer(unit=unit, subject=subject_create())
    holder_set(customer, name=name, id_no=id_no, phone=phone, account=account)
    customer.full_clean(exclude=["subject"])
    customer.save()
    audit_record(actor=actor, action="create", obj=customer, unit=unit, request=request)
    return customer


def customer_find_or_create(
    *, actor, unit, name: str = "", phone: str = "", id_no: str = "", request=None
) -> Customer:
    """The same person is one customer: match by ID-number token, then by phone token and name
    token together, before registering a new one. Matching never decrypts anything."""
    from xiaobao.privacy.services import personal_normalize, personal_token

    id_no = personal_normalize("id_no", id_no) if id_no else ""
    phone = personal_normalize("phone", phone) if phone else ""
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
        return found
    return customer_create(actor=actor, unit=unit, name=name, id_no=id_no, phone=phone, request=request)
