from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyMaterial(models.Model):
    """A system key (token, audit) stored wrapped by the master key."""

    name = models.CharField(max_length=32, unique=True)
    wrapped = models.BinaryField()
    kek_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.kek_id})"


class DataSubject(models.Model):
    """A person whose personal data xiaobao holds, with their own data key (DEK).

    Every personal value of the subject is encrypted under this DEK; the DEK is stored wrapped by
    the master key. Erasing the subject destroys the DEK, which makes their ciphertext unreadable
    everywhere at once without touching anybody else's records.
    """

    wrapped_dek = models.BinaryField(null=True)
    kek_id = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息主体")
        verbose_name_plural = _("个人信息主体")

    def __str__(self) -> str:
        return f"subject:{self.pk}"


class PersonalKind(models.TextChoices):
    NAME = "name", _("姓名")
    ID_NO = "id_no", _("证件号码")
    PHONE = "phone", _("电话")
    ACCOUNT = "account", _("银行账号")
    ADDRESS = "address", _("地址")


class PersonalDataHolder(models.Model):
    """A model holding personal values of one subject.

    For each entry `prefix: kind` of PROTECTED the model declares `<prefix>_enc` (ciphertext),
    `<prefix>_token` (keyed hash, for equality search) and `<prefix>_masked` (what screens show).
    The masked form is stored so list pages never decrypt anything.
    """

    PROTECTED: dict[str, str] = {}

    subject = models.ForeignKey(DataSubject, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
