#!/usr/bin/env python3
"""Validate FHIR resources (JSON) against the fhir.resources R4B models.

Reads a JSON array of resources, one JSON resource, or NDJSON (one resource
per line) from FILE, or from stdin when FILE is absent or "-". Each resource
is validated with the R4B model of its resourceType; a Bundle's entries are
also validated one by one so errors name the entry. On top of the models it
checks FHIR JSON rules the models let through: no nulls, no empty strings,
arrays or objects, and ids of at most 64 characters.

Prints each error with the resource's type and id, and exits 1 on any error,
2 when the input is not JSON, 3 when fhir.resources is missing.

Requires: pip install fhir.resources==8.3.0
"""

import json
import re
import sys

REQUIREMENT = "fhir.resources==8.3.0"
ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

try:
    import fhir.resources
    from fhir.resources.R4B import get_fhir_model_class
except ImportError as exc:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"fhir_validate: the Python package fhir.resources (R4B models) is missing ({exc}).\n"
        f"Install it with: pip install {REQUIREMENT}\n"
    )
    sys.exit(3)


def read_resources(text):
    """A list of resources from a JSON array, a JSON object or NDJSON."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        return [json.loads(line) for line in stripped.splitlines() if line.strip()]
    return data if isinstance(data, list) else [data]


def label(resource, index):
    if not isinstance(resource, dict):
        return f"#{index}"
    return f"{resource.get('resourceType', '?')}/{resource.get('id', '(no id)')} (#{index})"


def json_rule_errors(value, path="$"):
    """FHIR JSON rules: no null, "", [] or {}; ids match the id type."""
    errors = []
    if value is None:
        errors.append(f"{path}: null is not allowed in FHIR JSON")
    elif isinstance(value, str):
        if value == "":
            errors.append(f"{path}: empty string is not allowed")
    elif isinstance(value, list):
        if not value:
            errors.append(f"{path}: empty array is not allowed")
        for i, item in enumerate(value):
            errors.extend(json_rule_errors(item, f"{path}[{i}]"))
    elif isinstance(value, dict):
        if not value:
            errors.append(f"{path}: empty object is not allowed")
        if "resourceType" in value and "id" in value:
            rid = value["id"]
            if not isinstance(rid, str) or not ID_RE.match(rid):
                errors.append(f"{path}.id: {rid!r} is not a FHIR id ([A-Za-z0-9-.]{{1,64}})")
        for key, item in value.items():
            errors.extend(json_rule_errors(item, f"{path}.{key}"))
    return errors


def model_errors(resource):
    """Errors of the R4B model of the resource's type."""
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return ["resourceType is missing"]
    try:
        model = get_fhir_model_class(rtype)
    except ValueError:
        return [f"{rtype!r} is not an R4B resource type"]
    try:
        model.model_validate(resource)
    except Exception as exc:  # pydantic.ValidationError and fhir_core's own errors
        errs = getattr(exc, "errors", None)
        if callable(errs):
            try:
                return [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errs()]
            except Exception:  # noqa: BLE001 - fall back to the message
                pass
        return [str(exc)]
    return []


def validate(resource, index):
    """(label, message) pairs for one resource and, for a Bundle, its entries."""
    name = label(resource, index)
    if not isinstance(resource, dict):
        return [(name, "not a JSON object")]
    problems = [(name, m) for m in json_rule_errors(resource)]
    problems += [(name, m) for m in model_errors(resource)]
    if resource.get("resourceType") == "Bundle":
        for n, entry in enumerate(resource.get("entry") or []):
            inner = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(inner, dict):
                inner_name = f"{name} entry {n} {label(inner, n)}"
                problems += [(inner_name, m) for m in model_errors(inner)]
    return problems


def main(argv):
    path = argv[1] if len(argv) > 1 else "-"
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    try:
        resources = read_resources(text)
    except json.JSONDecodeError as exc:
        sys.stderr.write(f"fhir_validate: input is neither JSON nor NDJSON: {exc}\n")
        return 2
    problems = []
    counts = {}
    for i, resource in enumerate(resources):
        problems += validate(resource, i)
        if isinstance(resource, dict):
            rtype = resource.get("resourceType", "?")
            counts[rtype] = counts.get(rtype, 0) + 1
    for name, message in problems:
        print(f"ERROR {name}: {message}")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(
        f"fhir_validate (fhir.resources {fhir.resources.__version__}, R4B): "
        f"{len(resources)} resources ({summary}), {len(problems)} errors"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
