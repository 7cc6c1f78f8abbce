"""Django Ninja names an OpenAPI component after its schema class: two routers with a class of
the same name share one component, and one of the endpoints answers against the other's schema
(the disbursement router's first CountOut broke /worklist-items/counts). Every schema class name
of the API is unique, or the classes that share a name describe the same thing."""

import importlib
import inspect
import pkgutil
from collections import defaultdict

from ninja import Schema

import ansinh.api


def test_schema_class_names_are_unique():
    seen: dict[str, dict[str, dict]] = defaultdict(dict)
    for info in pkgutil.iter_modules(ansinh.api.__path__):
        module = importlib.import_module(f"ansinh.api.{info.name}")
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Schema) and obj.__module__ == module.__name__:
                seen[name][module.__name__] = obj.model_json_schema()
    clashes = {
        name: sorted(schemas)
        for name, schemas in seen.items()
        if len({repr(sorted(s.get("properties", {}).items())) for s in schemas.values()}) > 1
    }
    assert clashes == {}
