"""Find an optional module (nav, demo, matrix…) in every installed xiaobao app, in INSTALLED_APPS order,
so that a new domain plugs in without editing a shared file."""

import importlib
from types import ModuleType

from django.apps import apps


def app_modules(name: str) -> list[ModuleType]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("xiaobao."):
            continue
        try:
            found.append(importlib.import_module(f"{config.name}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{name}":
                raise
    return found
