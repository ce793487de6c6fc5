"""Base forms: Bootstrap classes on every widget, and choice fields narrowed to the actor's rows."""

from __future__ import annotations

from django import forms
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.validators import MinValueValidator
from django.forms.models import construct_instance
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


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
    """ModelForm whose ModelChoiceFields only offer rows the actor may see.

    It fails closed: a choice field whose queryset cannot be scoped (no `for_actor`) is a
    configuration error, unless the form names it in `unscoped_fields`, a mapping of field name
    to the reason its choices are not tenant data (e.g. a shared reference table).
    """

    unscoped_fields: dict[str, str] = {}

    def __init__(self, *args, actor=None, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            if hasattr(field.queryset, "for_actor"):
                field.queryset = field.queryset.for_actor(actor)
            elif name not in self.unscoped_fields:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.{name} offers {field.queryset.model.__name__} rows that cannot "
                    "be scoped to the actor: give the model a ScopedManager, or list the field in "
                    "unscoped_fields with the reason."
                )
        self._model_minimums()
        self._style()

    def _model_minimums(self) -> None:
        """A PositiveIntegerField's form field says "≥ 0" even where the model's own validator
        refuses 0: the form field takes the model's real lower bound, so the message states it."""
        for name, field in self.fields.items():
            if not isinstance(field, forms.IntegerField) or field.min_value is None:
                continue
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            bounds = [
                v.limit_value
                for v in model_field.validators
                if isinstance(v, MinValueValidator) and not callable(v.limit_value)
            ]
            if not bounds or max(bounds) <= field.min_value:
                continue
            field.min_value = max(bounds)
            field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)]
            field.validators.append(MinValueValidator(field.min_value))
            field.widget.attrs["min"] = field.min_value

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


class TemplateImportForm(PortalForm):
    """The upload of a template: the file's own faults (size, type, macros, zip bomb) are told here,
    at the field, before any import job exists; the rows are checked by the import."""

    file_label = _("Template")
    file_help = ""

    def __init__(self, *args, **kwargs):
        from .xlsx import MAX_FILE_BYTES, XLSX_ACCEPT

        super().__init__(*args, **kwargs)
        size_text = gettext("An .xlsx file of at most %(size)s MB.") % {
            "size": MAX_FILE_BYTES // (1024 * 1024)
        }
        self.fields = {
            "file": forms.FileField(
                label=self.file_label,
                help_text=f"{size_text} {self.file_help}",
                widget=forms.FileInput(attrs={"accept": XLSX_ACCEPT, "class": "form-control"}),
            ),
            **self.fields,
        }

    def clean_file(self):
        from .xlsx import check_package

        upload = self.cleaned_data["file"]
        check_package(upload)
        upload.seek(0)
        return upload
