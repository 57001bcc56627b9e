"""get_FOO_display() through xiaobao.lib.choices: the same labels as Django's, in the active language,
and a value outside the choices shown as it is."""

from django.utils import translation

from xiaobao.cases.models import Case, Channel
from xiaobao.lib import choices


def test_labels_follow_the_active_language_and_unknown_values_show_as_they_are():
    case = Case(channel=Channel.REGULATOR)
    with translation.override("zh-hans"):
        assert case.get_channel_display() == "监管转办"
    with translation.override("en"):
        assert case.get_channel_display() == "Forwarded by regulator"
    case.channel = "传真"
    assert case.get_channel_display() == "传真"


def test_every_generated_display_method_is_replaced_and_agrees_with_djangos():
    from django.apps import apps
    from django.db.models import Model

    checked = 0
    for model in apps.get_models():
        for field in model._meta.fields:
            method = model.__dict__.get(f"get_{field.name}_display")
            if method is None or not field.flatchoices:
                continue
            assert method.func is not Model._get_FIELD_display, (model, field.name)
            if method.func is not choices._display:
                continue  # the model's own
            for value, _label in field.flatchoices:
                instance = model(**{field.attname: value})
                with translation.override("en"):
                    assert getattr(instance, f"get_{field.name}_display")() == Model._get_FIELD_display(
                        instance, field
                    )
                checked += 1
    assert checked > 100
