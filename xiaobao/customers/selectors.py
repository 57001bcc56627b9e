from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from xiaobao.accounts.access import scope
from xiaobao.customers.models import Customer
from xiaobao.privacy.services import personal_normalize, personal_token


def customer_list(*, user, query: str = "") -> QuerySet[Customer]:
    """Customers in the user's scope. A full ID number or phone in `query` is matched by token,
    so searching never decrypts anything."""
    customers = scope(Customer.objects.select_related("unit"), user)
    query = query.strip()
    if not query:
        return customers
    tokens = set()
    for kind in ("id_no", "phone", "name", "account"):
        try:
            tokens.add((kind, personal_token(kind, personal_normalize(kind, query))))
        except ValidationError:  # not a valid value of this kind: it simply matches none
            continue
    condition = Q(pk__in=[])
    for kind, token in tokens:
        condition |= Q(**{f"{kind}_token": token})
    return customers.filter(condition)
