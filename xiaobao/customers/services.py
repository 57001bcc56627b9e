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
