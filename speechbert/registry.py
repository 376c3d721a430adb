"""Named, configurable components: a YAML ``<kind>: <name>`` line plus a ``<kind>_conf`` mapping.

A registry holds the components of one kind (the feature frontend, the audio word encoder, the
span head). Each component is a builder function and a config dataclass; the dataclass is the
single list of the component's options, so the command line, the YAML keys, the ``--help`` text
and the validation all come from it::

    FRONTENDS = Registry("frontend", builtin_modules=("speechbert.audio.frontends.kaldi",))

    @dataclass(frozen=True)
    class FbankConf:
        num_mel_bins: int = 80

    @FRONTENDS.register("fbank", FbankConf)
    def build_fbank(conf: FbankConf) -> Frontend: ...

    # a tool: FRONTENDS.add_arguments(parser); ...; FRONTENDS.build(args.frontend, args.frontend_conf)

A YAML config then reads::

    frontend: fbank
    frontend_conf:
      num_mel_bins: 40

``builtin_modules`` are imported the first time the registry is asked for a component, so a
registry's module stays cheap to import and the built-in components register themselves with
the same one line a new component needs.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, TypeVar

import yaml

from speechbert.errors import ConfigError, SpeechbertError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Component:
    """One registered component: its name, its config dataclass and its builder."""

    name: str
    conf_class: type
    builder: Callable[..., Any]

    @property
    def summary(self) -> str:
        """The first line of the builder's docstring (for ``--help``)."""
        doc = (self.builder.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


def parse_conf_mapping(value: str | Mapping | None) -> dict:
    """The ``--<kind>_conf`` option type: a YAML/JSON mapping string (or a mapping) -> dict."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    try:
        data = yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise argparse.ArgumentTypeError(f"not a YAML mapping: {value!r} ({e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError(f"expected a mapping such as '{{num_mel_bins: 40}}', got {value!r}")
    return data


def _field_types(conf_class: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(conf_class)
    except Exception:  # unresolvable annotations: no coercion, the dataclass validates
        return {f.name: Any for f in dataclasses.fields(conf_class)}


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """``value`` as field type ``tp`` where a string came from the command line or YAML text."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        if isinstance(value, str) and value.strip().lower() in ("none", "null", "~") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _coerce(value, inner[0], where)
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
            return value.strip().lower() in ("true", "yes", "1", "on")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ConfigError(f"{where}: expected a boolean (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{where}: expected an integer, got {value!r}") from None
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    if origin is dict or tp is dict:
        # a nested mapping (e.g. an architecture's arguments): YAML text from the command line
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value) if value.strip() else {}
            except yaml.YAMLError:
                raise ConfigError(f"{where}: expected a mapping, got {value!r}") from None
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if origin in (list, tuple, Sequence) or tp in (list, tuple):
        if isinstance(value, str):
            value = yaml.safe_load(value) if value.strip().startswith("[") else [v for v in value.split(",") if v]
        if not isinstance(value, (list, tuple)):
            value = [value]
        fixed = origin is tuple and bool(args) and not (len(args) == 2 and args[1] is Ellipsis)
        if fixed:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
            items = [_coerce(v, a, where) for v, a in zip(value, args)]
        else:
            item = args[0] if args else Any
            items = [v if item is Any else _coerce(v, item, where) for v in value]
        return tuple(items) if origin is tuple or tp is tuple else items
    return value


class Registry:
    """The components of one kind, chosen by name with a ``<kind>_conf`` mapping of options."""

    def __init__(self, kind: str, builtin_modules: Sequence[str] = (), description: str = "") -> None:
        self.kind = kind
        self.description = description or kind
        self._builtin_modules = tuple(builtin_modules)
        self._loaded = False
        self._components: dict[str, Component] = {}

    # registration ---------------------------------------------------------------------------
    def register(self, name: str, conf_class: type) -> Callable[[F], F]:
        """Decorator: register ``builder(conf, **kwargs)`` as component ``name`` with options
        ``conf_class`` (a dataclass whose defaults are the component's defaults)."""
        if not dataclasses.is_dataclass(conf_class):
            raise TypeError(f"{self.kind} {name!r}: the config class {conf_class!r} is not a dataclass")

        def decorate(builder: F) -> F:
            have = self._components.get(name)
            if have is not None and have.builder is not builder:
                raise ValueError(f"{self.kind} {name!r} is registered twice "
                                 f"({have.builder.__module__} and {builder.__module__})")
            self._components[name] = Component(name, conf_class, builder)
            return builder

        return decorate

    def _load_builtins(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtin_modules:
            importlib.import_module(module)

    # lookup ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """The registered names: the built-in modules' in their order, then the others, each module's
        in registration order (the same whichever module a program happened to import first)."""
        self._load_builtins()
        rank = {m: i for i, m in enumerate(self._builtin_modules)}
        order = {name: k for k, name in enumerate(self._components)}
        return sorted(self._components, key=lambda n: (rank.get(self._components[n].builder.__module__,
                                                                 len(rank)), order[n]))

    def get(self, name: str) -> Component:
        """The component ``name``; ``ConfigError`` listing the known names if there is none."""
        self._load_builtins()
        try:
            return self._components[name]
        except KeyError:
            raise ConfigError(f"unknown {self.kind} {name!r} (known: {', '.join(self.names()) or 'none'})") \
                from None

    def option_names(self, name: str) -> list[str]:
        """The ``<kind>_conf`` keys of component ``name``."""
        return [f.name for f in dataclasses.fields(self.get(name).conf_class)]

    def make_conf(self, name: str, values: Mapping[str, Any] | None = None) -> Any:
        """The config dataclass of component ``name`` with ``values`` over its defaults.

        Values given as strings (the command line) are converted to the field's type. An unknown
        key, a value of the wrong type or a value the dataclass refuses is a ``ConfigError`` that
        names the ``<kind>_conf`` key.
        """
        component = self.get(name)
        if isinstance(values, component.conf_class):
            return values
        values = dict(values or {})
        fields = {f.name: f for f in dataclasses.fields(component.conf_class)}
        unknown = [k for k in values if str(k) not in fields]
        if unknown:
            raise ConfigError(f"{self.kind}_conf: unknown option {unknown[0]!r} for {self.kind} {name!r} "
                              f"(its options: {', '.join(fields) or 'none'})")
        hints = _field_types(component.conf_class)
        kwargs = {k: _coerce(v, hints.get(k, Any), f"{self.kind}_conf {k!r} of {self.kind} {name!r}")
                  for k, v in values.items()}
        try:
            return component.conf_class(**kwargs)
        except SpeechbertError as e:
            raise ConfigError(f"{self.kind}_conf of {self.kind} {name!r}: {e}") from None
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{self.kind}_conf of {self.kind} {name!r}: {e}") from None

    def build(self, name: str, values: Mapping[str, Any] | Any = None, **kwargs: Any) -> Any:
        """Build component ``name`` from its options (a mapping or its config) and ``kwargs``."""
        return self.get(name).builder(self.make_conf(name, values), **kwargs)

    @staticmethod
    def conf_to_dict(conf: Any) -> dict:
        """A config dataclass as a plain dict (lists for tuples), for YAML and JSON files."""
        def plain(v: Any) -> Any:
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            if isinstance(v, Mapping):  # nested mappings too: yaml.safe_dump refuses tuples
                return {k: plain(x) for k, x in v.items()}
            return v
        return {f.name: plain(getattr(conf, f.name)) for f in dataclasses.fields(conf)}

    # command line ---------------------------------------------------------------------------
    def conf_help(self) -> str:
        """One paragraph per component: its name, summary and options with types and defaults."""
        parts = []
        for name in self.names():
            comp = self._components[name]
            hints = _field_types(comp.conf_class)
            opts = []
            for f in dataclasses.fields(comp.conf_class):
                default = f.default if f.default is not dataclasses.MISSING else (
                    f.default_factory() if f.default_factory is not dataclasses.MISSING else "(required)")
                opts.append(f"{f.name}: {_type_name(hints.get(f.name, Any))} = {default!r}")
            summary = f" ({comp.summary})" if comp.summary else ""
            parts.append(f"{name}{summary}: " + ("; ".join(opts) or "no options"))
        return " | ".join(parts)

    def add_arguments(self, parser: argparse.ArgumentParser, default: str | None = None,
                      group_title: str | None = None) -> None:
        """Add ``--<kind>`` (one of the names) and ``--<kind>_conf`` (a mapping) to ``parser``.

        In a YAML config ``<kind>_conf`` is a nested mapping; on the command line it is a YAML
        flow mapping such as ``--frontend_conf '{num_mel_bins: 40}'``.
        """
        target = parser.add_argument_group(group_title or self.description)
        names = self.names()
        target.add_argument(f"--{self.kind}", default=default if default is not None else names[0],
                            choices=names, help=f"the {self.description}")
        target.add_argument(f"--{self.kind}_conf", type=parse_conf_mapping, default={},
                            help=f"options of the chosen {self.kind} (YAML mapping); {self.conf_help()}")
        mapping_options = getattr(parser, "mapping_options", None)
        if isinstance(mapping_options, set):
            mapping_options.add(f"{self.kind}_conf")

    def from_args(self, args: argparse.Namespace, **kwargs: Any) -> Any:
        """Build the component named by parsed ``--<kind>`` / ``--<kind>_conf`` arguments."""
        return self.build(getattr(args, self.kind), getattr(args, f"{self.kind}_conf"), **kwargs)

    def conf_from_args(self, args: argparse.Namespace) -> Any:
        """The validated config of the component named by parsed arguments."""
        return self.make_conf(getattr(args, self.kind), getattr(args, f"{self.kind}_conf"))


def dump_conf_mapping(values: Mapping[str, Any]) -> str:
    """A mapping as the one-line JSON text a ``--<kind>_conf`` option reads back unchanged."""
    return json.dumps(dict(values), sort_keys=False)
