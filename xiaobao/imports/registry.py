"""Which importer handles which kind of file.

Each app declares its formats in its own `importers.py` with @register; the registry finds those
modules itself (every installed xiaobao app is asked once, on first use), so adding a format never
means editing the import command or this file.
"""

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext

from xiaobao.imports.engine import Importer
from xiaobao.imports.spec import ImportRefused

_importers: dict[str, type[Importer]] = {}
_discovered = False


def register(importer: type[Importer]) -> type[Importer]:
    """Class decorator: make `importer` the handler of its spec's kind."""
    kind = importer.spec.kind
    existing = _importers.get(kind)
    if existing is not None and existing is not importer:
        raise ValueError(f"导入类型 {kind!r} 已由 {existing.__module__}.{existing.__qualname__} 注册")
    _importers[kind] = importer
    return importer


def unregister(kind: str) -> None:
    """For tests that register a throw-away format."""
    _importers.pop(kind, None)


def autodiscover() -> None:
    global _discovered
    if _discovered:
        return
    for config in apps.get_app_configs():
        if config.name.startswith("xiaobao.") and module_has_submodule(config.module, "importers"):
            import_module(f"{config.name}.importers")
    _discovered = True


def importer_kinds() -> list[str]:
    autodiscover()
    return sorted(_importers)


def importer_for(kind: str) -> type[Importer]:
    autodiscover()
    try:
        return _importers[kind]
    except KeyError:
        known = "、".join(importer_kinds()) or "无"
        raise ImportRefused(f"未知的导入类型 {kind!r}; 可用的类型: {known}") from None


def kind_label(kind: str) -> str:
    """A kind as a user reads it (工单与投诉, 保单清单…) in the active language; a kind no importer
    handles (any more) as it is."""
    autodiscover()
    importer = _importers.get(kind)
    label = importer.spec.label if importer is not None else ""
    return gettext(label) if label else kind
