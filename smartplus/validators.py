"""Field validators shared by several apps (addresses and phone numbers)."""

import functools

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# Spec: "Post code should be letters from A-Z or a-z, or numbers from 0-9."
post_code_validator = RegexValidator(
    r"^[A-Za-z0-9]*$", "Post code may contain only letters A-Z, a-z and digits 0-9."
)

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()-]{3,30}$",
    "Enter a phone number: digits, spaces, ( ) and -, optionally starting with +.",
)


@functools.lru_cache(maxsize=256)  # a bulk service asks the same 10,000 times
def _excluded(model, exclude: tuple, only: tuple | None) -> frozenset[str]:
    skipped = set(exclude)
    if only is not None:
        skipped.update(f.name for f in model._meta.concrete_fields if f.name not in only)
    return frozenset(skipped)


def model_field_errors(instance, *, exclude=(), only=None) -> dict[str, list[str]]:
    """The model's own field checks as {field: messages}, for services that add their rules
    (uniqueness with a helpful message, cross-field rules) and raise everything at once.

    Field validation and `clean()` only: uniqueness is the services' (with a message that says
    what clashes) and the database's. Excluded foreign keys cost no query, so a bulk import can run
    this per row. `only`: check just these fields, the others being known good (the model's
    defaults, or values already saved): an import names the fields its file sets.
    """
    errors: dict[str, list[str]] = {}
    try:
        instance.clean_fields(exclude=_excluded(type(instance), tuple(exclude), only and tuple(only)))
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
        key = tuple(values.get(name) for name in self.attnames)
        try:
            errors = self.known.get(key)
        except TypeError:  # an unhashable value (a list, a dict): checked on its own
            return model_field_errors(instance, exclude=self.exclude)
        if errors is None:
            errors = self.known[key] = model_field_errors(instance, exclude=self.exclude)
        return {name: list(messages) for name, messages in errors.items()}
