"""Field validators shared by several apps (addresses and phone numbers)."""

import functools

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.expressions import DatabaseDefault
from django.utils.translation import gettext_lazy as _

# Spec: "Post code should be letters from A-Z or a-z, or numbers from 0-9."
post_code_validator = RegexValidator(
    r"^[A-Za-z0-9]*$", _("Post code may contain only letters A-Z, a-z and digits 0-9.")
)

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()-]{3,30}$",
    _("Enter a phone number: digits, spaces, ( ) and -, optionally starting with +."),
)


@functools.lru_cache(maxsize=256)  # a bulk service asks the same 10,000 times
def _checked_fields(model, exclude: tuple, only: tuple | None) -> tuple:
    skipped = set(exclude)
    if only is not None:
        skipped.update(f.name for f in model._meta.concrete_fields if f.name not in only)
    return tuple(f for f in model._meta.fields if f.name not in skipped and not f.generated)


# Fields whose checks read nothing but the value (Django's own, no model instance, no query):
# a value is checked once, and an import's thousands of "Living Room"s and call type 0s reuse it.
_VALUE_ONLY_FIELDS = frozenset(
    {
        models.CharField,
        models.EmailField,
        models.TextField,
        models.SlugField,
        models.URLField,
        models.IntegerField,
        models.SmallIntegerField,
        models.BigIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.PositiveBigIntegerField,
        models.BooleanField,
    }
)


@functools.lru_cache(maxsize=8192, typed=True)  # typed: True, 1 and "1" are cleaned apart
def _cleaned(field, value):
    """`field.clean(value)` of a field in _VALUE_ONLY_FIELDS: (the cleaned value, None) or (None,
    its errors). Its validators are the project's pure ones (lengths, patterns)."""
    try:
        return field.clean(value, None), None
    except ValidationError as exc:
        return None, exc.error_list


def _clean_fields(instance, fields) -> None:
    """`Model.clean_fields` over `fields` only (not a loop over every field to skip the others)."""
    errors = {}
    for f in fields:
        raw_value = getattr(instance, f.attname)
        # Skip validation for empty fields with blank=True, or with a database default (as Django).
        if (f.blank and raw_value in f.empty_values) or isinstance(raw_value, DatabaseDefault):
            continue
        if type(f) in _VALUE_ONLY_FIELDS and isinstance(raw_value, str | int):  # choices enums too
            cleaned, problems = _cleaned(f, raw_value)
            if problems is not None:
                errors[f.name] = problems
            else:
                setattr(instance, f.attname, cleaned)
            continue
        try:
            setattr(instance, f.attname, f.clean(raw_value, instance))
        except ValidationError as e:
            errors[f.name] = e.error_list
    if errors:
        raise ValidationError(errors)


def model_field_errors(instance, *, exclude=(), only=None) -> dict[str, list[str]]:
    """The model's own field checks as {field: messages}, for services that add their rules
    (uniqueness with a helpful message, cross-field rules) and raise everything at once.

    Field validation and `clean()` only: uniqueness is the services' (with a message that says
    what clashes) and the database's. Excluded foreign keys cost no query, so a bulk import can run
    this per row. `only`: check just these fields, the others being known good (the model's
    defaults, or values already saved): an import names the fields its file sets.
    """
    errors: dict[str, list[str]] = {}
    model = type(instance)
    try:
        if model.clean_fields is models.Model.clean_fields:
            _clean_fields(instance, _checked_fields(model, tuple(exclude), only and tuple(only)))
        else:  # a model of its own field checks
            skipped = {f.name for f in model._meta.fields} - {
                f.name for f in _checked_fields(model, tuple(exclude), only and tuple(only))
            }
            instance.clean_fields(exclude=skipped)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        instance.clean()
    except ValidationError as exc:
        for field, messages in exc.update_error_dict({}).items():
            errors.setdefault(field, []).extend(messages)
    return errors


class FieldChecks:
    """`model_field_errors` for many instances of one model whose `clean()` reads only the fields
    checked: instances holding the same values in those fields are checked once (an import's
    10,000 indoor monitors named "Living Room" share one check)."""

    def __init__(self, model, *, exclude=()):
        skip = set(exclude)
        self.exclude = tuple(skip)
        self.attnames = tuple(f.attname for f in model._meta.concrete_fields if f.name not in skip)
        self.known: dict[tuple, dict[str, list[str]]] = {}

    def __call__(self, instance) -> dict[str, list[str]]:
        values = instance.__dict__
        key = tuple(map(values.get, self.attnames))
        try:
            errors = self.known.get(key)
        except TypeError:  # an unhashable value (a list, a dict): checked on its own
            return model_field_errors(instance, exclude=self.exclude)
        if errors is None:
            errors = self.known[key] = model_field_errors(instance, exclude=self.exclude)
        return {name: list(messages) for name, messages in errors.items()}
