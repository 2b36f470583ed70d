from django import forms

from core.forms import MultipleFileField


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Add a comment", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    attachments = MultipleFileField(label="Attach files")


class ReportProblemForm(forms.Form):
    """What a person who is not an IT specialist can tell us about a problem."""

    title = forms.CharField(label="What is wrong, in a few words?", max_length=200)
    description = forms.CharField(
        label="Details",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="What were you doing, what did you expect, any error message.",
    )
    service = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Which service is affected?",
        empty_label="I don't know",
    )
    urgency = forms.ChoiceField(
        label="How much does it stop you?", widget=forms.RadioSelect, initial="medium"
    )
    attachments = MultipleFileField(label="Screenshots or files")

    def __init__(self, *args, **kwargs) -> None:
        from catalogue.models import Service
        from incidents.choices import URGENCY_PLAIN

        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True)
        self.fields["urgency"].choices = [(v.value, label) for v, label in URGENCY_PLAIN]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="What is still wrong?", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
