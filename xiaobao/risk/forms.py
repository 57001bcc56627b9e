from django import forms
from django.utils.translation import gettext_lazy as _

from xiaobao.governance.forms import PageForm


class AssignForm(PageForm):
    id_prefix = "assign"
    assignee = forms.ModelChoiceField(label=_("调查人"), queryset=None)

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees


class NoteForm(PageForm):
    id_prefix = "note"
    note = forms.CharField(label=_("调查记录"), widget=forms.Textarea(attrs={"rows": 3}))


class EvidenceForm(PageForm):
    id_prefix = "evidence"
    file = forms.FileField(label=_("证据材料"), help_text=_("PDF、图片、Office 文档或纯文本, 不超过 20 MB"))


class DecideForm(PageForm):
    id_prefix = "decide"
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))
    watch = forms.MultipleChoiceField(
        label=_("列入疑似退保黑产信息库"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, links=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["watch"].choices = [(link["token"], link["label"]) for link in links]


class RevealForm(PageForm):
    id_prefix = "reveal"
    reason = forms.CharField(label=_("查看完整信息的理由"), max_length=200)


class RemoveForm(PageForm):
    id_prefix = "remove"
    reason = forms.CharField(label=_("移出理由"), max_length=200)
