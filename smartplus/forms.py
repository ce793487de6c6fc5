"""Base forms: Bootstrap classes on every widget, and choice fields narrowed to the actor's rows."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance


class BootstrapMixin:
    def _style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            elif isinstance(widget, forms.RadioSelect):
                css = "form-check-input"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class PortalForm(BootstrapMixin, forms.Form):
    def __init__(self, *args, actor=None, instance=None, **kwargs):
        self.actor = actor
        self.instance = instance
        super().__init__(*args, **kwargs)
        self._style()


class ScopedModelForm(BootstrapMixin, forms.ModelForm):
    """ModelForm whose ModelChoiceFields only offer rows the actor may see."""

    def __init__(self, *args, actor=None, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and hasattr(field.queryset, "for_actor"):
                field.queryset = field.queryset.for_actor(actor)
        self._style()

    def _post_clean(self):
        # The model's field validators (post code, ranges, ...) report at their field together
        # with the form's own errors. Cross-field rules and constraints belong to the service,
        # which knows the actor; the form does not run them.
        opts = self._meta
        try:
            self.instance = construct_instance(self, self.instance, opts.fields, opts.exclude)
            self.instance.clean_fields(exclude=self._get_validation_exclusions())
        except ValidationError as exc:
            self._update_errors(exc)
