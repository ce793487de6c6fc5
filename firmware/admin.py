"""The firmware catalogue in the super manager's admin: upload a .rom file (its SHA-256 and size are
computed from the upload) or give the URL it is published at with its SHA-256 (the server never
fetches the URL). The model follows the version's prefix.

A firmware's version and bytes are fixed once saved: upgrades point at it and devices check the
checksum, so only the Version Log can change afterwards (publish a new version instead).
"""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib import admin
from django.db import models

from devices.choices import MODEL_BY_FIRMWARE_PREFIX
from devices.models import model_for_firmware

from .models import Firmware, version_validator

KNOWN_PREFIXES = ", ".join(f"{prefix} = {model}" for prefix, model in MODEL_BY_FIRMWARE_PREFIX.items())


def file_digest(upload) -> tuple[str, int]:
    """SHA-256 and size of an uploaded file, read in chunks (a .rom can be large)."""
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


# A URL typed without a scheme is https (Django 6's default, chosen now).
URL_FIELD = {models.URLField: {"assume_scheme": "https"}}


def _formfield(db_field, **kwargs):
    return db_field.formfield(**{**URL_FIELD.get(type(db_field), {}), **kwargs})


class FirmwareAdminForm(forms.ModelForm):
    class Meta:
        model = Firmware
        formfield_callback = _formfield
        fields = ("version", "version_log", "file", "url", "sha256", "size")
        help_texts = {
            "version": f"The version's first number names the model ({KNOWN_PREFIXES}).",
            "file": "Upload the .rom file, or give its URL below: one of the two.",
            "url": "Where the firmware is published, if it is not uploaded. The portal never downloads it: "
            "devices do, and check it against the SHA-256.",
            "sha256": "Computed from the upload (if you enter one, the upload must match it). "
            "Required with a URL.",
            "size": "Computed from the upload; optional with a URL.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "sha256" in self.fields:
            self.fields["sha256"].required = False

    def clean_version(self):
        version = self.cleaned_data["version"].strip()
        version_validator(version)
        if not model_for_firmware(version):
            raise forms.ValidationError(
                f"{version} names no known model: the first number must be one of {KNOWN_PREFIXES}."
            )
        return version

    def clean_url(self):
        url = self.cleaned_data.get("url") or ""
        # Devices are sent to this address for the download: web addresses only.
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Give an http:// or https:// address.")
        return url

    def clean_sha256(self):
        return (self.cleaned_data.get("sha256") or "").strip().lower()

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            return data  # the source is read-only once saved
        upload, url = data.get("file"), data.get("url")
        if upload and url:
            self.add_error("url", "Upload a .rom file or give its URL, not both.")
        elif not upload and not url and "file" not in self.errors and "url" not in self.errors:
            self.add_error("file", "Upload a .rom file or give its URL.")
        elif upload:
            sha256, size = file_digest(upload)
            entered = data.get("sha256")
            if entered and entered != sha256:
                self.add_error("sha256", f"The uploaded file's SHA-256 is {sha256}, not the one entered.")
            else:
                data["sha256"], data["size"] = sha256, size
        elif url and not data.get("sha256") and "sha256" not in self.errors:
            self.add_error(
                "sha256", "Enter the SHA-256 of the file at this URL: devices check the download with it."
            )
        return data


@admin.register(Firmware)
class FirmwareAdmin(admin.ModelAdmin):
    form = FirmwareAdminForm
    formfield_overrides = URL_FIELD
    list_display = ("version", "model", "created")
    list_filter = ("model",)
    search_fields = ("version", "model")
    date_hierarchy = "created"
    ordering = ("-created", "-pk")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("version", "model", "version_log", "file", "url", "sha256", "size")
        return ("version", "model", "version_log", "source", "sha256", "size", "created")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("model",)
        return ("version", "model", "source", "sha256", "size", "created")

    @admin.display(description="Source")
    def source(self, obj):
        return f"Uploaded file {obj.file.name}" if obj.file else f"URL {obj.url}"
