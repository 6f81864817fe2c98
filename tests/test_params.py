"""One schema: every notebook's parameters cell, the library defaults and the schema agree."""

from __future__ import annotations

from lessons_lib import models, params, runner


def test_every_notebook_parameter_is_declared_once_with_the_same_default_and_meaning():
    seen = {}
    for book in runner.lesson_notebooks():
        lesson = book.name[:2]
        found = runner.notebook_parameters(book)
        assert set(found) == set(params.lesson_parameters(lesson)), book.name
        for name, p in found.items():
            spec = params.SPECS[name]
            assert p.default == spec.default and p.help == spec.help, f"{book.name}: {name}"
            seen.setdefault(name, set()).add(lesson)
    for name, lessons in seen.items():
        assert lessons == set(params.SPECS[name].lessons), name


def test_library_defaults_are_the_schema_defaults():
    for name, value in {**models.DENSE_DEFAULTS, **models.TRAINING_DEFAULTS}.items():
        assert params.SPECS[name].default == value, name


def test_every_default_passes_its_own_check():
    values = params.validate({n: s.default for n, s in params.SPECS.items()})
    assert set(values) == set(params.SPECS)
