"""客户: the people whose complaints, policies and surrenders xiaobao handles."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaobao.privacy.models import PersonalDataHolder


class Customer(PersonalDataHolder):
    PROTECTED = {
        "name": "name",
        "id_no": "id_no",
        "phone": "phone",
        "account": "account",
        "address": "address",
    }
    LABELS = {
        "name": _("姓名"),
        "id_no": _("证件号码"),
        "phone": _("电话"),
        "account": _("银行账号"),
        "address": _("联系地址"),
    }

    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("归属机构"), on_delete=models.PROTECT, related_name="+"
    )
    name_enc = models.BinaryField(null=True)
    name_token = models.CharField(max_length=40, blank=True, db_index=True)
    name_masked = models.CharField(_("姓名"), max_length=50, blank=True)
    id_no_enc = models.BinaryField(null=True)
    id_no_token = models.CharField(max_length=40, blank=True, db_index=True)
    id_no_masked = models.CharField(_("证件号码"), max_length=30, blank=True)
    phone_enc = models.BinaryField(null=True)
    phone_token = models.CharField(max_length=40, blank=True, db_index=True)
    phone_masked = models.CharField(_("电话"), max_length=30, blank=True)
    account_enc = models.BinaryField(null=True)
    account_token = models.CharField(max_length=40, blank=True, db_index=True)
    account_masked = models.CharField(_("银行账号"), max_length=40, blank=True)
    # Optional: a complainant's contact address, for the ring scan (xiaobao.risk) and the watchlist.
    address_enc = models.BinaryField(null=True)
    address_token = models.CharField(max_length=40, blank=True, db_index=True)
    address_masked = models.CharField(_("联系地址"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("客户")
        verbose_name_plural = _("客户")

    def __str__(self) -> str:
        return self.name_masked or f"#{self.pk}"
